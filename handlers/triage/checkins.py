"""Check-ins after a soreness check: the buttons of the offer ("check in with you in a day or
two?") and the answers to "Better, same or worse?".

The dialog (dialog.py) offers a check-in after a non-urgent outcome (checkin_store.offer).
"Worse" re-runs the soreness check through `dialog.begin`, prefilled with the area from the
report so only the rest is asked again; red-flag questions always run.
"""

from __future__ import annotations

from datetime import timedelta

from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from bot.storage.models import CheckIn, TriageReport
from handlers.reminders.api import ask_for_zone
from handlers.triage import checkin_store as checkins
from handlers.triage import dialog as triage
from scheduler.occurrences import zone


async def offer_button(ctx: TurnContext) -> None:
    episode_ref, _, choice = ctx.action_arg.rpartition(".")
    if not checkins.valid_ref(episode_ref) or choice not in ("no", "24", "48"):
        ctx.say("I don't recognise that button, so nothing was changed.")
        return
    if ctx.in_group:
        ctx.say("Let's keep check-ins to our private chat.", intent=ReplyIntent.PRIVATE)
        return
    if not await _own_report(ctx, episode_ref):
        ctx.say("That check-in offer isn't one of yours, so nothing was changed.")
        return
    if choice == "no":
        ctx.say("Okay, no check-in. Tell me any time how it's going, or type /sore.")
        return
    checkin = await checkins.schedule_checkin(
        ctx.session, ctx.user, ctx.chat, episode_ref, ctx.now + timedelta(hours=int(choice))
    )
    if ctx.user.timezone is None:
        ctx.say(f"Okay, I'll check in {_when(ctx, checkin)} (UTC).")
        ask_for_zone(
            ctx, "Which time zone are you in? Then I can keep my messages to daytime for you."
        )
        return
    ctx.say(f"Okay, I'll check in {_when(ctx, checkin)}.")


async def _own_report(ctx: TurnContext, episode_ref: str) -> bool:
    """An offer names the stored report it follows up; buttons can be forged."""
    if not episode_ref.isdigit():
        return False
    report = await ctx.session.get(TriageReport, int(episode_ref))
    return report is not None and report.user_id == ctx.user.id


def _when(ctx: TurnContext, checkin: CheckIn) -> str:
    local = checkin.due_at.astimezone(zone(ctx.user.timezone or "UTC"))
    return f"on {local:%A} at about {local:%H:%M}"


async def answer_button(ctx: TurnContext) -> None:
    checkin_id, _, answer = ctx.action_arg.partition(".")
    checkin = (
        await ctx.session.get(CheckIn, int(checkin_id))
        if checkin_id.isdigit() and answer in checkins.ANSWERS
        else None
    )
    if checkin is None or checkin.user_id != ctx.user.id:
        ctx.say("That check-in isn't one of yours, so nothing was changed.")
        return
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    if checkin.status == checkins.ANSWERED:
        ctx.say(
            "You've already answered this check-in, thanks. If things have changed, "
            "type /sore and we'll go through it again.",
            intent=intent,
        )
        return
    checkin.status, checkin.answer, checkin.answered_at = checkins.ANSWERED, answer, ctx.now
    texts = ctx.content.reminders
    if answer == "better":
        await checkins.cancel_checkins(ctx.session, ctx.user.id, checkin.episode_ref)
        ctx.say(texts.checkin_better, intent=intent)
    elif answer == "same" and checkin.round < checkins.LAST_ROUND:
        await checkins.schedule_checkin(
            ctx.session,
            ctx.user,
            ctx.chat,
            checkin.episode_ref,
            ctx.now + checkins.FOLLOW_UP,
            round=checkin.round + 1,
        )
        ctx.say(texts.checkin_same, intent=intent)
    elif answer == "same":
        ctx.say(texts.checkin_same_again, intent=intent)
    else:
        await _worse(ctx, checkin)


async def _worse(ctx: TurnContext, checkin: CheckIn) -> None:
    await checkins.cancel_checkins(ctx.session, ctx.user.id, checkin.episode_ref)
    texts = ctx.content.reminders
    if triage.DIALOG not in ctx.router.dialogs:
        ctx.say(texts.checkin_worse_no_triage)
        return
    ctx.say(texts.checkin_worse)
    facts: dict[str, str] = {}
    place = ctx.content.triage.place_fact
    report = (
        await ctx.session.get(TriageReport, int(checkin.episode_ref))
        if checkin.episode_ref.isdigit()
        else None
    )
    if report is not None and report.user_id == ctx.user.id and report.area and place:
        facts[place] = report.area
    await triage.begin(ctx, facts)
