"""The after-run check-in: right after a run arrives from Strava, one question (outside quiet
hours, at most once a day): how did the core and back feel? Fine / a bit sore / sore; "sore"
starts the soreness check for that run. One button turns the questions off."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.content.strava_schema import StravaTexts
from bot.engine.context import TurnContext
from bot.engine.events import Button, Reply, ReplyIntent
from bot.engine.payloads import action_payload
from bot.storage.models import Chat, StravaConnection, User
from handlers.strava import store
from handlers.strava.gateway import ActivityFacts
from handlers.triage.api import start_check_after_run
from scheduler import outbox
from scheduler.occurrences import zone_or_utc
from scheduler.quiet import QuietHours

ACTION = "stravarun"  # stravarun:<answer>.<run id>, stravarun:off
FINE, BIT, SORE, OFF = "fine", "bit", "sore", "off"
# A run uploaded long after it happened is not "just now": no question about it.
FRESH = timedelta(hours=12)
STALE_AFTER = timedelta(hours=12)


def question(texts: StravaTexts, run_id: int, distance_m: int) -> Reply:
    def button(label: str, answer: str) -> Button:
        return Button(label, action_payload(ACTION, f"{answer}.{run_id}"))

    return Reply(
        texts.checkin_question.format(distance=f"{distance_m / 1000:.1f} km"),
        buttons=[
            [
                button(texts.fine_button, FINE),
                button(texts.bit_sore_button, BIT),
                button(texts.sore_button, SORE),
            ],
            [Button(texts.off_button, action_payload(ACTION, OFF))],
        ],
    )


async def maybe_ask(
    session: AsyncSession,
    conn: StravaConnection,
    run_id: int,
    facts: ActivityFacts,
    content: ContentBundle,
    settings: Settings,
    now: datetime,
) -> int:
    """Queue the question for a run that just arrived; the outbox rows written (0 or 1)."""
    if not conn.checkins or now - facts.started_at > FRESH + timedelta(seconds=facts.moving_s or 0):
        return 0
    user = await session.get(User, conn.user_id)
    chat = await session.get(Chat, conn.chat_id)
    if user is None or chat is None or user.unreachable or not chat.bot_is_member:
        return 0
    if not chat.is_private:  # health questions never go to a group
        return 0
    tz = zone_or_utc(user.timezone or settings.default_timezone)
    send_at = QuietHours(settings.quiet_hours).defer(now, tz)
    day = send_at.astimezone(tz).date()
    if conn.checked_in_on == day:
        return 0  # at most once a day
    conn.checked_in_on = day
    message = outbox.NewMessage.to(
        chat,
        dedupe_key=f"strava:checkin:{run_id}",
        user_id=user.id,
        reply=question(content.strava, run_id, facts.distance_m),
        not_before=send_at,
        expires_at=send_at + STALE_AFTER,
    )
    return await outbox.enqueue(session, [message], now=now)


async def answer_button(ctx: TurnContext) -> None:
    texts = ctx.content.strava
    answer, _, run = ctx.action_arg.partition(".")
    conn = await store.connection_of(ctx.session, ctx.user.id)
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    if answer == OFF:
        if conn is not None:
            conn.checkins = False
        ctx.say(texts.checkins_stopped, intent=intent)
        return
    if answer not in (FINE, BIT, SORE) or not run.isdigit():
        ctx.say(texts.not_yours, intent=intent)
        return
    if not await store.run_is_theirs(ctx.session, ctx.user.id, int(run)):
        ctx.say(texts.not_yours, intent=intent)
        return
    if answer == FINE:
        ctx.say(texts.fine_answer, intent=intent)
    elif answer == BIT:
        ctx.say(texts.bit_sore_answer, intent=intent)
    else:
        await start_check_after_run(ctx, int(run))
