"""/remind: weekly core-session reminders. Buttons first (days, then a time), typed schedules
like "tue thu 7:00" too; list, change, pause, resume, delete; and the buttons on a reminder
(Snooze 1 h, Skip this week; its Start session button belongs to handlers/sessions.py).

The set-up is a persisted dialog ("remind", its state a SetupState) with stages tz → days →
time, so it survives a restart. The rules themselves live in handlers/reminders/rules.py;
nothing here touches the outbox except through it.
"""

from __future__ import annotations

from datetime import datetime

from bot.content.plural import fill
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Button, ReplyIntent
from bot.engine.feature import Handler
from bot.storage.models import ReminderRule
from handlers.reminders import rules, timezone
from handlers.reminders.parse import Schedule, parse_schedule, parse_time
from handlers.reminders.setup_state import DIALOG, SetupState, Stage
from scheduler.occurrences import DAY_NAMES, WeeklyTime, zone

SETUP_ACTION = "remind"
LIST_ACTION = "rem_list"
PAUSE_ACTION = "rem_pause"
RESUME_ACTION = "rem_resume"
DELETE_ACTION = "rem_delete"
CHANGE_ACTION = "rem_change"

TIME_CHOICES = (6 * 60 + 30, 7 * 60, 12 * 60, 17 * 60 + 30, 18 * 60 + 30, 19 * 60 + 30)
EXAMPLE = "tue thu 7:00"
_NEXT, _CANCEL = "next", "cancel"

_SUBCOMMANDS = ("list", "pause", "resume", "delete", "change")


# --- /remind -----------------------------------------------------------------------------


async def remind_command(ctx: TurnContext) -> None:
    if ctx.in_group:
        ctx.say(
            "Reminders are personal, so let's set them up in a private chat.",
            buttons=[[ctx.action("Set up reminders", SETUP_ACTION, private=True)]],
        )
        return
    args = ctx.event.args.strip()
    word, _, rest = args.partition(" ")
    if word.casefold() in _SUBCOMMANDS:
        await _subcommand(ctx, word.casefold(), rest.strip())
    elif args:
        await _typed_schedule(ctx, args)
    else:
        await start_setup(ctx)


async def start_setup(ctx: TurnContext, *, rule: ReminderRule | None = None) -> None:
    if rule is None and len(await rules.rules_of(ctx.session, ctx.user.id)) >= rules.MAX_RULES:
        ctx.say(
            fill(ctx.content.reminders.too_many, count=rules.MAX_RULES),
            buttons=[[ctx.action("My reminders", LIST_ACTION)]],
        )
        return
    stage = Stage.TZ if ctx.user.timezone is None else Stage.DAYS
    state = SetupState(stage=stage, days=rule.days if rule else 0, rule=rule.id if rule else None)
    ctx.start_dialog(DIALOG, state)
    if stage == Stage.TZ:
        timezone.ask_for_zone(
            ctx, "First, which time zone are you in? Then reminders arrive at your local time."
        )
        return
    _ask_days(ctx, state)


async def _typed_schedule(ctx: TurnContext, text: str) -> None:
    schedule = parse_schedule(text)
    problem = _schedule_problem(schedule)
    if problem:
        ctx.say(
            f"{problem} Nothing was changed. Try something like “/remind {EXAMPLE}”, "
            "or just /remind for buttons."
        )
        return
    assert schedule.minute is not None
    when = WeeklyTime(schedule.days, schedule.minute)
    if ctx.user.timezone is None:
        state = SetupState(stage=Stage.TZ, days=when.days, minute=when.minute, pending=True)
        ctx.start_dialog(DIALOG, state)
        timezone.ask_for_zone(ctx, f"Almost done: {when.describe()}. Which time zone are you in?")
        return
    await _save(ctx, when, rule_id=None)


def _schedule_problem(schedule: Schedule) -> str | None:
    if schedule.unknown:
        words = ", ".join(f"“{w[:20]}”" for w in schedule.unknown[:3])
        return f"I didn't understand {words}."
    if not schedule.days:
        return "I need at least one day."
    if schedule.minute is None:
        return "I need a time, like 7:00 or 18:30."
    return None


# --- the set-up dialog -------------------------------------------------------------------


async def on_answer(ctx: TurnContext, given: DialogInput) -> None:
    state = ctx.state(SetupState)
    if given.choice == _CANCEL:
        ctx.end_dialog()
        ctx.say("Okay, I left your reminders as they were.")
        return
    if state.stage == Stage.TZ:
        await _on_zone(ctx, state, given)
    elif state.stage == Stage.DAYS:
        await _on_days(ctx, state, given)
    else:
        await _on_time(ctx, state, given)


async def _on_zone(ctx: TurnContext, state: SetupState, given: DialogInput) -> None:
    if given.choice != timezone.ZONE_SET:
        if given.text:
            # On success, apply_zone hands back to this dialog with ZONE_SET; otherwise the
            # person got suggestions and we keep waiting.
            await timezone.set_zone_from_text(ctx, given.text)
        else:
            timezone.ask_for_zone(ctx, "Pick your time zone first, or type it.")
        return
    if state.pending and state.minute is not None:
        await _save(ctx, WeeklyTime(state.days, state.minute), rule_id=None)
        return
    state.stage = Stage.DAYS
    _ask_days(ctx, state)


async def _on_days(ctx: TurnContext, state: SetupState, given: DialogInput) -> None:
    if given.choice is not None:
        if given.choice == _NEXT:
            if not state.days:
                _ask_days(ctx, state, lead="Pick at least one day first.")
                return
            state.stage = Stage.TIME
            _ask_time(ctx, state)
            return
        if given.choice.startswith("d") and given.choice[1:].isdigit():
            state.days ^= 1 << (int(given.choice[1:]) % 7)
            _ask_days(ctx, state, edit=True)
        return
    schedule = parse_schedule(given.text or "")
    if schedule.unknown or (not schedule.days and schedule.minute is None):
        _ask_days(ctx, state, lead=f"I didn't catch the days. Tap them, or type e.g. “{EXAMPLE}”.")
        return
    # Typed days join the ones tapped so far ("Thu" after tapping Wed: both).
    state.days |= schedule.days
    if schedule.minute is not None and state.days:
        await _save(ctx, WeeklyTime(state.days, schedule.minute), rule_id=state.rule)
        return
    if not state.days:
        _ask_days(ctx, state, lead="Which days? Tap them, then Next.")
        return
    state.stage = Stage.TIME
    _ask_time(ctx, state)


async def _on_time(ctx: TurnContext, state: SetupState, given: DialogInput) -> None:
    days = state.days
    minute: int | None = None
    if given.choice is not None and given.choice.startswith("t") and given.choice[1:].isdigit():
        minute = int(given.choice[1:])
    elif given.text is not None:
        schedule = parse_schedule(given.text)
        minute = parse_time(given.text) if schedule.unknown else schedule.minute
        if schedule.days and not schedule.unknown:
            days |= schedule.days  # as at the days question: typed days add to the choice
    if minute is None or not 0 <= minute < 24 * 60 or not days:
        _ask_time(ctx, state, lead="I didn't catch the time. Pick one, or type e.g. 7:15 or 18:40.")
        return
    await _save(ctx, WeeklyTime(days, minute), rule_id=state.rule)


def _ask_days(
    ctx: TurnContext, state: SetupState, *, lead: str | None = None, edit: bool = False
) -> None:
    def toggle(day: int) -> Button:
        mark = "✓ " if state.days >> day & 1 else ""
        return ctx.choice(f"{mark}{DAY_NAMES[day][:3]}", f"d{day}")

    text = "Which days should I remind you? Tap to choose, then **Next**."
    ctx.say(
        f"{lead}\n\n{text}" if lead else text,
        buttons=[
            [toggle(d) for d in range(4)],
            [toggle(d) for d in range(4, 7)],
            [ctx.choice("Next", _NEXT), ctx.choice("Cancel", _CANCEL)],
        ],
        intent=ReplyIntent.EDIT if edit else ReplyIntent.NEW,
    )


def _ask_time(ctx: TurnContext, state: SetupState, *, lead: str | None = None) -> None:
    days = WeeklyTime(state.days, 0).describe().removesuffix(" at 00:00")
    choices = [ctx.choice(f"{m // 60:02d}:{m % 60:02d}", f"t{m}") for m in TIME_CHOICES]
    text = f"What time on {days}? Pick one, or type a time like 7:15 or 18:40."
    ctx.say(
        f"{lead}\n\n{text}" if lead else text,
        buttons=[choices[:3], choices[3:], [ctx.choice("Cancel", _CANCEL)]],
    )


async def _save(ctx: TurnContext, when: WeeklyTime, *, rule_id: int | None) -> None:
    ctx.end_dialog()
    tz = ctx.user.timezone
    assert tz is not None  # every path to here has set it
    rule = await rules.owned_rule(ctx.session, ctx.user, str(rule_id)) if rule_id else None
    owned = await rules.rules_of(ctx.session, ctx.user.id)
    same = next(
        (
            (number, other)
            for number, other in enumerate(owned, start=1)
            if other is not rule and rules.weekly(other) == when
        ),
        None,
    )
    if same is not None:
        # One reminder per day and time: a second would only send the same message twice.
        number, other = same
        ctx.say(
            f"You already have that reminder: number {number}, {rules.describe(other)}. "
            "Nothing was changed.",
            buttons=[[ctx.action("My reminders", LIST_ACTION)]],
        )
        return
    if rule is not None:
        await rules.change_rule(ctx.session, rule, when, ctx.now)
        verb = "Changed"
    elif len(owned) >= rules.MAX_RULES:
        ctx.say(
            fill(ctx.content.reminders.too_many, count=rules.MAX_RULES),
            buttons=[[ctx.action("My reminders", LIST_ACTION)]],
        )
        return
    else:
        rule = await rules.create_rule(ctx.session, ctx.user, ctx.chat, when, tz, ctx.now)
        verb = "Done"
    ctx.say(
        f"{verb}: {when.describe()} ({tz}), {rules.next_label(rule)}.",
        buttons=[
            [ctx.action("My reminders", LIST_ACTION), ctx.action("Add another", SETUP_ACTION)]
        ],
    )


# --- list, pause, resume, delete, change -------------------------------------------------


async def _subcommand(ctx: TurnContext, word: str, rest: str) -> None:
    owned = await rules.rules_of(ctx.session, ctx.user.id)
    if word == "list":
        await show_list(ctx)
        return
    if not owned:
        ctx.say("You have no reminders yet.", buttons=[[ctx.action("Set one up", SETUP_ACTION)]])
        return
    if rest:
        if not rest.isdigit() or not 1 <= int(rest) <= len(owned):
            ctx.say(
                f"There's no reminder number {rest[:10]}. Nothing was changed.",
                buttons=[[ctx.action("My reminders", LIST_ACTION)]],
            )
            return
        targets = [owned[int(rest) - 1]]
    elif word in ("pause", "resume") or len(owned) == 1:
        targets = owned  # "/remind pause" pauses them all
    else:
        ctx.say(f"Which one? Use the buttons, or e.g. “/remind {word} 2”.")
        await show_list(ctx)
        return
    for rule in targets:
        await _apply(ctx, word, rule)


async def _apply(ctx: TurnContext, word: str, rule: ReminderRule) -> None:
    label = rules.weekly(rule).describe()
    if word == "pause":
        if rule.paused:
            ctx.say(f"{label} is already paused.")
            return
        await rules.pause(ctx.session, rule)
        ctx.say(f"Paused: {label}.", buttons=[[ctx.action("Resume", RESUME_ACTION, str(rule.id))]])
    elif word == "resume":
        if not rule.paused:
            ctx.say(f"{label} is already on, {rules.next_label(rule)}.")
            return
        rules.resume(rule, ctx.now)
        ctx.say(f"Resumed: {label}, {rules.next_label(rule)}.")
    elif word == "delete":
        await rules.delete_rule(ctx.session, rule)
        ctx.say(f"Deleted: {label}.", buttons=[[ctx.action("My reminders", LIST_ACTION)]])
    else:
        await start_setup(ctx, rule=rule)


async def show_list(ctx: TurnContext) -> None:
    owned = await rules.rules_of(ctx.session, ctx.user.id)
    if not owned:
        ctx.say(
            "You have no reminders yet. I can nudge you on the days you do core work.",
            buttons=[[ctx.action("Set one up", SETUP_ACTION)]],
        )
        return
    lines = ["**Your reminders**"]
    buttons: list[list[Button]] = []
    for number, rule in enumerate(owned, start=1):
        lines.append(f"{number}. {rules.describe(rule)}")
        toggle = (
            ctx.action(f"Resume {number}", RESUME_ACTION, str(rule.id))
            if rule.paused
            else ctx.action(f"Pause {number}", PAUSE_ACTION, str(rule.id))
        )
        buttons.append(
            [
                toggle,
                ctx.action(f"Change {number}", CHANGE_ACTION, str(rule.id)),
                ctx.action(f"Delete {number}", DELETE_ACTION, str(rule.id)),
            ]
        )
    if len(owned) < rules.MAX_RULES:
        buttons.append([ctx.action("Add a reminder", SETUP_ACTION)])
    ctx.say("\n".join(lines), buttons=buttons)


def rule_button(word: str) -> Handler:
    async def press(ctx: TurnContext) -> None:
        rule = await rules.owned_rule(ctx.session, ctx.user, ctx.action_arg)
        if rule is None:
            ctx.say(
                "That reminder no longer exists or isn't yours, so nothing was changed.",
                buttons=[[ctx.action("My reminders", LIST_ACTION)]],
            )
            return
        await _apply(ctx, word, rule)

    return press


# --- buttons on a reminder ---------------------------------------------------------------


async def snooze_button(ctx: TurnContext) -> None:
    found = await _reminder_of(ctx)
    if found is None:
        return
    rule, occurrence = found
    if ctx.now - occurrence > rules.SNOOZE_WINDOW:
        ctx.say(f"That reminder is from a while ago; {rules.next_label(rule)}.")
        return
    snoozed = await rules.snooze(
        ctx.session, rule, ctx.chat, occurrence, ctx.content.reminders, ctx.now, rules.SNOOZE
    )
    local = snoozed.at.astimezone(zone(rule.timezone))
    if snoozed.new:
        ctx.say(f"Okay, I'll remind you again at {local:%H:%M}.")
    else:
        ctx.say("You already snoozed this one; I'll remind you once more, as promised.")


async def skip_button(ctx: TurnContext) -> None:
    found = await _reminder_of(ctx)
    if found is None:
        return
    rule, occurrence = found
    await rules.skip_week(ctx.session, rule, occurrence, ctx.now)
    ctx.say(f"Okay, no more reminders this week; {rules.next_label(rule)}.")


async def _reminder_of(ctx: TurnContext) -> tuple[ReminderRule, datetime] | None:
    parsed = rules.parse_arg(ctx.action_arg)
    rule = await rules.owned_rule(ctx.session, ctx.user, parsed[0]) if parsed else None
    if parsed is None or rule is None:
        ctx.say("That reminder no longer exists or isn't yours, so nothing was changed.")
        return None
    if rule.paused:
        ctx.say(
            "This reminder is paused, so there's nothing to snooze or skip.",
            buttons=[[ctx.action("Resume", RESUME_ACTION, str(rule.id))]],
        )
        return None
    return rule, parsed[1]
