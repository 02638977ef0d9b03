"""The /challenge dialog a coach runs in the club: library or own words, start day and time in
the club's time zone, duration, weekly repeat, then a preview to confirm.

Every answer is re-checked here (a forged choice is re-asked, never trusted); the coach role
is checked again at the confirming tap, since it may have changed meanwhile.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bot.content.challenge_schema import ChallengeTemplate
from bot.content.plural import fill
from bot.content.text import escape_markup
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Button
from bot.storage.models import Challenge
from handlers.clubs import challenges
from handlers.clubs.challenge_draft import DIALOG, ChallengeDraft, Stage
from handlers.clubs.coach_link import identity_of, private_chat_id
from handlers.clubs.roles import is_coach
from handlers.reminders.api import describe_zone, resolve_zone
from scheduler.occurrences import zone

CUSTOM = "custom"
NOW = "now"
CONFIRM = "confirm"
CANCEL = "cancel"
ONCE = "once"
WEEKLY = "weekly"
REPLACE = "replace"
KEEP = "keep"
MAX_CUSTOM = 300
MAX_TITLE = 60
PRESET_TIMES = (6 * 60, 7 * 60, 12 * 60, 18 * 60, 19 * 60, 20 * 60)
LENGTHS = (7, 14, 5, 3)  # days; whole weeks are shown as weeks
_TIME_RE = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")
_PER_ROW = 3


def parse_time(text: str) -> int | None:
    """ "7", "7:30", "19.05", "7pm" → minutes after midnight; None if it is no time."""
    match = _TIME_RE.match(text.strip().casefold())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix and not 1 <= hour <= 12:
        return None
    if suffix == "pm" and hour != 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def _rows(buttons: list[Button], per_row: int = _PER_ROW) -> list[list[Button]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


async def start(ctx: TurnContext) -> None:
    tz = await challenges.last_timezone(ctx.session, ctx.chat) or ctx.user.timezone or "UTC"
    ctx.start_dialog(DIALOG, ChallengeDraft(stage=Stage.PICK, tz=tz))
    _ask_pick(ctx)


def _cancel_button(ctx: TurnContext) -> Button:
    return ctx.choice("Cancel", CANCEL)


def _ask_pick(ctx: TurnContext, lead: str = "") -> None:
    library = sorted(ctx.content.challenges.values(), key=lambda t: t.name)
    lines = [lead] if lead else []
    lines.append("**New club challenge.** Pick one from the library, or write your own:")
    lines += [f"• **{t.name}**: {t.summary}" for t in library]
    buttons = [[ctx.choice(t.name, f"t:{t.id}")] for t in library]
    buttons.append([ctx.choice("Write my own", CUSTOM), _cancel_button(ctx)])
    ctx.say("\n".join(lines), buttons=buttons)


def _ask_title(ctx: TurnContext, lead: str = "") -> None:
    prompt = fill(ctx.content.clubs.custom_title, max=MAX_TITLE)
    ctx.say(f"{lead}\n\n{prompt}".strip(), buttons=[[_cancel_button(ctx)]])


def _ask_body(ctx: TurnContext, lead: str = "") -> None:
    prompt = fill(ctx.content.clubs.custom_body, max=MAX_CUSTOM)
    ctx.say(f"{lead}\n\n{prompt}".strip(), buttons=[[_cancel_button(ctx)]])


def _local_today(ctx: TurnContext, draft: ChallengeDraft) -> date:
    return ctx.now.astimezone(zone(draft.tz)).date()


def _zone_hint(draft: ChallengeDraft) -> str:
    return (
        f"Times are in **{draft.tz}**; to use another zone, type its name "
        "(for example Europe/London)."
    )


def _ask_day(ctx: TurnContext, draft: ChallengeDraft, lead: str = "") -> None:
    today = _local_today(ctx, draft)
    buttons = []
    for offset in range(7):
        day = today + timedelta(days=offset)
        label = {0: "Today", 1: "Tomorrow"}.get(offset, f"{day:%a} {day.day}")
        buttons.append(ctx.choice(label, f"d{offset}"))
    text = f"{lead}\n\nWhich day should it start? {_zone_hint(draft)}".strip()
    ctx.say(text, buttons=[*_rows(buttons, 4), [_cancel_button(ctx)]])


def _start_moment(draft: ChallengeDraft, minute: int) -> datetime:
    assert draft.day is not None  # asked before the time
    local = datetime.combine(draft.day, time(minute // 60, minute % 60), tzinfo=zone(draft.tz))
    return local.astimezone(zone("UTC"))


def _ask_time(ctx: TurnContext, draft: ChallengeDraft, lead: str = "") -> None:
    buttons = []
    if draft.day == _local_today(ctx, draft):
        buttons.append(ctx.choice("Now", NOW))
    for minute in PRESET_TIMES:
        if _start_moment(draft, minute) > ctx.now:
            buttons.append(ctx.choice(f"{minute // 60:02d}:{minute % 60:02d}", f"m{minute}"))
    text = (
        f"{lead}\n\nWhat time should I post it? Pick one or type a time like 7:30. "
        f"{_zone_hint(draft)}"
    ).strip()
    ctx.say(text, buttons=[*_rows(buttons), [_cancel_button(ctx)]])


def _length_label(ctx: TurnContext, days: int) -> str:
    texts = ctx.content.clubs
    if days % 7 == 0:
        return fill(texts.length_weeks, n=days // 7)
    return fill(texts.length_days, n=days)


def _ask_length(ctx: TurnContext, lead: str = "") -> None:
    buttons = [ctx.choice(_length_label(ctx, days), f"n{days}") for days in LENGTHS]
    text = f"{lead}\n\nHow long should it run?".strip()
    ctx.say(text, buttons=[*_rows(buttons, 2), [_cancel_button(ctx)]])


def _ask_target(ctx: TurnContext, draft: ChallengeDraft, lead: str = "") -> None:
    days = draft.days
    options = sorted({days, *(n for n in (5, 4, 3, 2, 1) if n < days)}, reverse=True)
    texts = ctx.content.clubs
    buttons = [
        ctx.choice(texts.target_every_day if n == days else fill(texts.length_days, n=n), f"g{n}")
        for n in options[:6]
    ]
    text = f"{lead}\n\n{fill(texts.target_question, days=days)}".strip()
    ctx.say(text, buttons=[*_rows(buttons), [_cancel_button(ctx)]])


def _ask_repeat(ctx: TurnContext, lead: str = "") -> None:
    text = f"{lead}\n\nRun it once, or start it again every week?".strip()
    ctx.say(
        text,
        buttons=[
            [ctx.choice("Just once", ONCE), ctx.choice("Every week", WEEKLY)],
            [_cancel_button(ctx)],
        ],
    )


def _plan(draft: ChallengeDraft, now: datetime) -> challenges.Plan:
    starts_at = now if draft.minute is None else _start_moment(draft, draft.minute)
    return challenges.Plan(
        title=draft.title,
        details=draft.details,
        template_id=draft.template,
        target_days=draft.target,
        days=draft.days,
        timezone=draft.tz,
        starts_at=starts_at,
        repeat_weekly=draft.repeat,
    )


def _draft(plan: challenges.Plan) -> Challenge:
    """An unsaved challenge, to render the preview exactly as the post will read."""
    return Challenge(
        title=plan.title,
        details=plan.details,
        target_days=plan.target_days,
        days=plan.days,
        timezone=plan.timezone,
        starts_at=plan.starts_at,
        ends_at=challenges.ends_at(plan.starts_at, plan.timezone, plan.days),
    )


def _ask_confirm(ctx: TurnContext, draft: ChallengeDraft) -> None:
    plan = _plan(draft, ctx.now)
    when = (
        "right away"
        if draft.minute is None
        else f"on {challenges.moment_label(plan.starts_at, plan.timezone)}"
    )
    repeat = " It starts again every week until a coach stops it." if plan.repeat_weekly else ""
    preview = challenges.post_text(_draft(plan), ctx.content.clubs)
    # The button says what it does: post now, or later at the time chosen.
    label = "Start now" if draft.minute is None else "Schedule it"
    ctx.say(
        f"Here's the post I'll send to this group {when}, with **Join** and **Done today** "
        f"buttons.{repeat}\n\n———\n{preview}",
        buttons=[[ctx.choice(label, CONFIRM), _cancel_button(ctx)]],
    )


def _template(ctx: TurnContext, choice: str) -> ChallengeTemplate | None:
    return (
        ctx.content.challenges.get(choice.removeprefix("t:")) if choice.startswith("t:") else None
    )


async def on_answer(ctx: TurnContext, answer: DialogInput) -> None:
    draft = ctx.state(ChallengeDraft)
    if answer.choice == CANCEL:
        ctx.end_dialog()
        ctx.say("Okay, no challenge was set. Nothing was changed.")
        return
    stage = draft.stage
    if stage == Stage.PICK:
        _on_pick(ctx, draft, answer)
    elif stage == Stage.CUSTOM:
        _on_title(ctx, draft, answer)
    elif stage == Stage.BODY:
        _on_body(ctx, draft, answer)
    elif stage == Stage.DAY:
        await _on_day(ctx, draft, answer)
    elif stage == Stage.TIME:
        await _on_time(ctx, draft, answer)
    elif stage == Stage.LENGTH:
        _on_length(ctx, draft, answer)
    elif stage == Stage.TARGET:
        _on_target(ctx, draft, answer)
    elif stage == Stage.REPEAT:
        _on_repeat(ctx, draft, answer)
    elif stage == Stage.CONFIRM:
        await _on_confirm(ctx, draft, answer)
    else:
        await _on_replace(ctx, draft, answer)


def _on_pick(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    if answer.choice == CUSTOM:
        draft.stage = Stage.CUSTOM
        _ask_title(ctx)
        return
    template = _template(ctx, answer.choice or "")
    if template is None:
        _ask_pick(ctx, "Please pick a challenge with the buttons, or press **Write my own**.")
        return
    draft.stage = Stage.DAY
    draft.template, draft.title = template.id, template.name
    draft.details, draft.week_target = template.details(), template.target_days
    _ask_day(ctx, draft, f"**{template.name}**, good choice.")


def _typed(answer: DialogInput) -> str:
    return " ".join((answer.text or "").split()) if answer.choice is None else ""


def _on_title(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    """The coach's own challenge, first its title (a line of its own in every post)."""
    text = _typed(answer)
    if not 3 <= len(text) <= MAX_TITLE:
        lead = (
            f"That's {len(text)} characters; please keep the title to {MAX_TITLE}."
            if len(text) > MAX_TITLE
            else "Please type a title as a message."
        )
        _ask_title(ctx, lead)
        return
    draft.stage = Stage.BODY
    draft.template, draft.week_target = None, None
    # A coach's words are shown as typed: an asterisk of theirs never becomes bold.
    draft.title = escape_markup(text)
    _ask_body(ctx, f"**{draft.title}**, got it.")


def _on_body(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    """Then what to do: the post's body, apart from the title."""
    text = _typed(answer)
    if not 5 <= len(text) <= MAX_CUSTOM:
        lead = (
            f"That's {len(text)} characters; please keep it under {MAX_CUSTOM}."
            if len(text) > MAX_CUSTOM
            else "Please type the challenge as a message."
        )
        _ask_body(ctx, lead)
        return
    draft.stage = Stage.DAY
    draft.details = escape_markup(text)
    _ask_day(ctx, draft, "Got it.")


async def _typed_zone(ctx: TurnContext, draft: ChallengeDraft, text: str) -> str:
    """A zone typed instead of an answer: set it, or say why not. Returns the lead line."""
    guess = resolve_zone(text)
    if guess.zone is not None:
        draft.tz = guess.zone
        return f"Times are now in {describe_zone(guess.zone, ctx.now)}."
    shown = " ".join(text.split())[:40]
    hint = f" Did you mean {', '.join(guess.suggestions)}?" if guess.suggestions else ""
    return f"I didn't understand “{shown}”.{hint}"


async def _on_day(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    choice = answer.choice or ""
    if answer.choice is None:
        _ask_day(ctx, draft, await _typed_zone(ctx, draft, answer.text or ""))
        return
    if not (choice.startswith("d") and choice[1:].isdigit() and int(choice[1:]) < 7):
        _ask_day(ctx, draft, "Please pick a day with the buttons.")
        return
    draft.day = _local_today(ctx, draft) + timedelta(days=int(choice[1:]))
    draft.stage = Stage.TIME
    _ask_time(ctx, draft)


async def _on_time(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    minute: int | None
    today = draft.day == _local_today(ctx, draft)
    if answer.choice == NOW and today:
        minute = None
    elif answer.choice is not None and answer.choice[1:].isdigit() and answer.choice[0] == "m":
        minute = int(answer.choice[1:])
        if minute >= 24 * 60:
            _ask_time(ctx, draft, "Please pick a time with the buttons.")
            return
    elif answer.choice is None and (typed := parse_time(answer.text or "")) is not None:
        minute = typed
    elif answer.choice is None:
        _ask_time(ctx, draft, await _typed_zone(ctx, draft, answer.text or ""))
        return
    else:
        _ask_time(ctx, draft, "Please pick a time with the buttons.")
        return
    if minute is not None and _start_moment(draft, minute) <= ctx.now:
        _ask_time(ctx, draft, "That time has already passed. Pick a later one, or “Now”.")
        return
    draft.minute = minute
    draft.stage = Stage.LENGTH
    _ask_length(ctx)


def _on_length(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    allowed = {f"n{days}": days for days in LENGTHS}
    if answer.choice not in allowed:
        _ask_length(ctx, "Please pick a length with the buttons.")
        return
    draft.days = allowed[answer.choice]
    if draft.week_target is None:
        draft.stage = Stage.TARGET
        _ask_target(ctx, draft)
        return
    draft.target = challenges.scaled_target(draft.week_target, draft.days)
    _after_target(ctx, draft)


def _on_target(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    raw = (answer.choice or "").removeprefix("g") if answer.choice else (answer.text or "")
    raw = raw.strip()
    if not (raw.isdigit() and 1 <= int(raw) <= draft.days):
        _ask_target(ctx, draft, f"Please choose a number from 1 to {draft.days}.")
        return
    draft.target = int(raw)
    _after_target(ctx, draft)


def _after_target(ctx: TurnContext, draft: ChallengeDraft) -> None:
    if draft.days <= 7:
        draft.stage = Stage.REPEAT
        _ask_repeat(ctx)
        return
    draft.repeat = False
    draft.stage = Stage.CONFIRM
    _ask_confirm(ctx, draft)


def _on_repeat(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    if answer.choice not in (ONCE, WEEKLY):
        _ask_repeat(ctx, "Please pick one of the buttons.")
        return
    draft.repeat = answer.choice == WEEKLY
    draft.stage = Stage.CONFIRM
    _ask_confirm(ctx, draft)


async def _in_the_way(ctx: TurnContext, draft: ChallengeDraft) -> list[Challenge]:
    plan = _plan(draft, ctx.now)
    ends = (
        None if plan.repeat_weekly else challenges.ends_at(plan.starts_at, plan.timezone, plan.days)
    )
    return await challenges.in_the_way(ctx.session, ctx.chat, plan.starts_at, ends)


def _ask_replace(ctx: TurnContext, draft: ChallengeDraft, found: list[Challenge]) -> None:
    texts = ctx.content.clubs
    draft.stage, draft.replacing = Stage.REPLACE, [c.id for c in found]
    current = _titles(found, with_state=True)
    ctx.say(
        fill(texts.replace_question, current=current, count=len(found), new=draft.title),
        buttons=[
            [ctx.choice(texts.replace_button, REPLACE)],
            [ctx.choice(texts.keep_button, KEEP)],
        ],
    )


def _titles(found: list[Challenge], *, with_state: bool = False) -> str:
    names = [
        f"**{c.title}** ({challenges.state_label(c)})" if with_state else f"**{c.title}**"
        for c in found
    ]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def _on_confirm(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    if answer.choice != CONFIRM:
        _ask_confirm(ctx, draft)
        return
    if not await is_coach(ctx):
        ctx.end_dialog()
        ctx.say(ctx.content.clubs.coach_only)
        return
    found = await _in_the_way(ctx, draft)
    if found:
        _ask_replace(ctx, draft, found)
        return
    ctx.end_dialog()
    await _set(ctx, draft)


async def _on_replace(ctx: TurnContext, draft: ChallengeDraft, answer: DialogInput) -> None:
    """One challenge at a time: the coach replaces what is set, or keeps it."""
    texts = ctx.content.clubs
    if answer.choice == KEEP:
        ctx.end_dialog()
        ctx.say(texts.kept)
        return
    if answer.choice != REPLACE:
        found = await _in_the_way(ctx, draft)
        if found:
            _ask_replace(ctx, draft, found)
        else:  # nothing is in the way any more: back to the preview
            draft.stage = Stage.CONFIRM
            _ask_confirm(ctx, draft)
        return
    if not await is_coach(ctx):
        ctx.end_dialog()
        ctx.say(texts.coach_only)
        return
    found = await _in_the_way(ctx, draft)
    if found and sorted(c.id for c in found) != sorted(draft.replacing):
        _ask_replace(ctx, draft, found)  # what is set changed meanwhile: ask about that
        return
    ctx.end_dialog()
    for challenge in found:
        await challenges.stop(ctx.session, challenge)
    if found:
        ctx.say(fill(texts.replaced, titles=_titles(found)))
    await _set(ctx, draft)


async def _set(ctx: TurnContext, draft: ChallengeDraft) -> None:
    plan = _plan(draft, ctx.now)
    if draft.minute is not None and plan.starts_at <= ctx.now:
        ctx.say("The start time passed while we were talking, so I'll post it right away.")
    challenge = await challenges.create(ctx.session, ctx.chat, ctx.user.id, plan, ctx.now)
    if challenge.starts_at <= ctx.now:
        await challenges.queue_post(ctx.session, challenge, ctx.chat, ctx.content.clubs, ctx.now)
        lines = [f"Done: **{challenge.title}** is on its way to the group now."]
    else:
        when = challenges.moment_label(challenge.starts_at, challenge.timezone)
        lines = [f"Scheduled: **{challenge.title}** will be posted here on {when}."]
    if challenge.repeat_weekly:
        lines.append("It starts again every week; a coach can stop it with /challenge.")
    lines.append("When it ends I'll post the results here and send you a private report.")
    if private_chat_id(ctx.user, await identity_of(ctx)) is None:
        lines.append(ctx.content.clubs.report_unreachable)
    ctx.say("\n\n".join(lines))
