"""Sunday evening's summaries become outbox rows: this feature's share of the scheduler's sweep.

Due from SEND_AT on a Sunday on the person's clock, never in quiet hours, until Sunday ends
(or quiet hours begin): then that week's summary is skipped rather than sent on Monday. The
outbox's dedupe key (person and week) makes it once a week however often the sweep runs; the
opt-in's `sent_for` lets later passes skip the person without drawing the chart again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.bundle import ContentBundle
from bot.engine.events import Button, Reply
from bot.engine.feature import DueWork
from bot.engine.payloads import action_payload
from bot.storage.models import Chat, User, WeeklySummaryOptIn
from handlers.summary import optin
from handlers.summary.commands import ACTION, OFF
from handlers.summary.message import compose
from scheduler import outbox
from scheduler.occurrences import local_instant, zone
from scheduler.quiet import QuietHours

SUNDAY = 6
SEND_AT = time(18, 0)  # Sunday evening, local
BATCH_SIZE = 200
# Sunday 18:00 to midnight anywhere on Earth (UTC+14 to UTC-12) lies between Saturday 12:00
# and Monday 14:00 UTC (minutes since Monday 00:00 UTC); outside it the sweep reads nothing.
_WINDOW_OPENS = 5 * 1440 + 12 * 60
_WINDOW_CLOSES = 14 * 60


def in_utc_window(now: datetime) -> bool:
    utc = now.astimezone(UTC)
    minute = utc.weekday() * 1440 + utc.hour * 60 + utc.minute
    return minute >= _WINDOW_OPENS or minute < _WINDOW_CLOSES


def due_week(now: datetime, tz_name: str, quiet: QuietHours) -> tuple[date, datetime] | None:
    """The Monday of the week to sum up and the message's deadline, if one is due now."""
    tz = zone(tz_name)
    local = now.astimezone(tz)
    if local.weekday() != SUNDAY or local.time() < SEND_AT or quiet.covers(now, tz):
        return None
    day_ends = local_instant(local.date() + timedelta(days=1), 0, tz)
    quiet_starts = quiet.next_start(now, tz)
    deadline = day_ends if quiet_starts is None else min(day_ends, quiet_starts)
    return local.date() - timedelta(days=SUNDAY), deadline


async def sweep_summaries(work: DueWork) -> int:
    """Queue every summary due now; returns the outbox rows written."""
    if not in_utc_window(work.now):
        return 0
    written, after = 0, 0
    while True:
        found, queued, after = await _batch(work, after)
        written += queued
        if found < BATCH_SIZE:
            return written


async def _batch(work: DueWork, after: int) -> tuple[int, int, int]:
    """One batch of opted-in people by id (keyset), in one transaction."""
    now, settings = work.now, work.settings
    quiet = QuietHours(settings.quiet_hours)
    not_this_week = now.date() - timedelta(days=7)
    query = (
        select(User, Chat.platform, Chat.platform_chat_id, WeeklySummaryOptIn.sent_for)
        .join(WeeklySummaryOptIn, WeeklySummaryOptIn.user_id == User.id)
        .join(Chat, Chat.private_user_id == User.id)
        .where(
            User.id > after,
            User.unreachable.is_(False),
            Chat.is_private.is_(True),
            Chat.bot_is_member.is_(True),
            or_(
                WeeklySummaryOptIn.sent_for.is_(None),
                WeeklySummaryOptIn.sent_for < not_this_week,
            ),
        )
        .order_by(User.id)
        .limit(BATCH_SIZE)
    )
    async with work.sessions() as session, session.begin():
        rows = (await session.execute(query)).all()
        messages: list[outbox.NewMessage] = []
        seen: set[int] = set()
        for user, platform, chat_id, sent_for in rows:
            due = due_week(now, user.timezone or settings.default_timezone, quiet)
            if due is None or sent_for == due[0] or user.id in seen:
                continue
            seen.add(user.id)  # one message, to the first private chat found
            week, deadline = due
            reply = await _reply(session, user, now, work.content, settings.data_dir)
            messages.append(
                outbox.NewMessage(
                    dedupe_key=f"summary:{user.id}:{week.isoformat()}",
                    platform=platform,
                    chat_id=chat_id,
                    user_id=user.id,
                    reply=reply,
                    expires_at=deadline,
                )
            )
            await optin.mark_sent(session, user.id, week)
        written = await outbox.enqueue(session, messages, now=now)
    last = rows[-1][0].id if rows else after
    return len(rows), written, last


async def _reply(
    session: AsyncSession, user: User, now: datetime, content: ContentBundle, data_dir: Path
) -> Reply:
    texts = content.training.texts
    summary = await compose(session, user, now, content, data_dir)
    return Reply(
        f"{summary.text}\n\n{texts.summary_status_on}",
        title=texts.summary_title,
        image=summary.image,
        buttons=[[Button(texts.summary_off_button, action_payload(ACTION, OFF))]],
    )
