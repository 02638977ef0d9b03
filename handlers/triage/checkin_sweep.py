"""Due check-ins become outbox rows: the triage feature's share of the scheduler's sweep.

Each batch is one transaction that writes the outbox rows and moves the check-ins on, so a
crash did both or neither; the outbox's dedupe key (the check-in id) makes a re-run harmless.
Check-ins are sent up to CHECKIN_GRACE late, deferred while quiet hours last, then missed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from bot.engine.feature import DueWork
from bot.storage.models import Chat, CheckIn, User
from handlers.triage import checkin_store as checkins
from scheduler import outbox
from scheduler.occurrences import zone
from scheduler.quiet import QuietHours
from scheduler.sweep import in_batches

CHECKIN_GRACE = timedelta(hours=24)
BATCH_SIZE = 500
_CHECKINS = cast(Table, CheckIn.__table__)  # Core table: one executemany per batch


async def sweep_checkins(work: DueWork) -> int:
    """Queue every due check-in, batch by batch; returns the outbox rows written."""
    return await in_batches(lambda: _batch(work), BATCH_SIZE)


async def _batch(work: DueWork) -> tuple[int, int]:
    now, settings = work.now, work.settings
    quiet = QuietHours(settings.quiet_hours)
    query = (
        select(
            CheckIn.id,
            CheckIn.user_id,
            CheckIn.due_at,
            User.timezone,
            User.unreachable,
            Chat.platform,
            Chat.platform_chat_id,
            Chat.is_private,
            Chat.bot_is_member,
        )
        .join(User, User.id == CheckIn.user_id)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .where(CheckIn.status == checkins.SCHEDULED, CheckIn.due_at <= now)
        .order_by(CheckIn.due_at)
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True, of=CheckIn)
    )
    async with work.sessions() as session, session.begin():
        rows = (await session.execute(query)).all()
        changes: list[dict[str, Any]] = []
        messages: list[outbox.NewMessage] = []
        for row in rows:
            tz = zone(row.timezone or settings.default_timezone)
            status, due = checkins.QUEUED, row.due_at
            gone = not row.bot_is_member or row.unreachable
            if gone or now - row.due_at > CHECKIN_GRACE:
                status = checkins.MISSED
            elif quiet.covers(now, tz):
                status, due = checkins.SCHEDULED, quiet.defer(now, tz)
            else:
                deadline = row.due_at + CHECKIN_GRACE
                quiet_starts = quiet.next_start(now, tz)
                if quiet_starts is not None:
                    deadline = min(deadline, quiet_starts)
                messages.append(
                    outbox.NewMessage(
                        dedupe_key=f"checkin:{row.id}",
                        platform=row.platform,
                        chat_id=row.platform_chat_id,
                        is_private=row.is_private,
                        user_id=row.user_id,
                        reply=checkins.question_reply(work.content.reminders, row.id),
                        expires_at=deadline,
                    )
                )
            changes.append({"cid": row.id, "status": status, "due": due})
        written = await outbox.enqueue(session, messages, now=now)
        if changes:
            await session.execute(
                update(_CHECKINS)
                .where(_CHECKINS.c.id == bindparam("cid"))
                .values(status=bindparam("status"), due_at=bindparam("due")),
                changes,
            )
    return len(rows), written
