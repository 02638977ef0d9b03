"""Due reminder rules become outbox rows: the reminders feature's share of the sweep.

Each batch is one transaction that writes the outbox rows *and* advances the rules, so a crash
either did both or neither; the outbox's unique dedupe_key (rule + occurrence) makes a re-run
after a crash harmless. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several processes sweep
at once without waiting on, or repeating, each other's rows.

Misfire policy (after downtime, or a person who was unreachable): of the occurrences missed
since `next_due_at`, only the latest is considered. It is sent late if its deadline has not
passed (`rules.reminder_deadline`: within the grace window, default 1 h, and not late into
quiet hours), otherwise skipped; either way the rule moves to its next occurrence. So a 3-day
outage yields at most one reminder per rule, never a burst.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from bot.engine.feature import DueWork
from bot.storage.models import Chat, ReminderRule, User
from handlers.reminders import rules
from scheduler import outbox
from scheduler.occurrences import WeeklyTime, last_occurrence, next_occurrence, zone
from scheduler.quiet import QuietHours
from scheduler.sweep import in_batches

# A reminder this late still counts as on time, even if quiet hours began meanwhile.
ON_TIME = timedelta(minutes=5)
BATCH_SIZE = 500
_RULES = cast(Table, ReminderRule.__table__)  # Core table: one executemany per batch


class _Pass:
    """One sweep pass: rules that fall due together mostly share days, time and zone, so
    their occurrence and deadline are worked out once per pass."""

    def __init__(self, work: DueWork) -> None:
        self.work = work
        self.grace = timedelta(minutes=work.settings.reminder_grace_minutes)
        self.quiet = QuietHours(work.settings.quiet_hours)
        self.timings: dict[tuple[int, int, str], tuple[datetime, datetime, datetime]] = {}

    def timing(self, when: WeeklyTime, tz: str) -> tuple[datetime, datetime, datetime]:
        """(latest occurrence, its deadline, next occurrence) at the pass's `now`."""
        key = (when.days, when.minute, tz)
        found = self.timings.get(key)
        if found is None:
            now = self.work.now
            last = last_occurrence(when, zone(tz), now)
            found = (last, self.deadline(when, tz, last), next_occurrence(when, zone(tz), now))
            self.timings[key] = found
        return found

    def deadline(self, when: WeeklyTime, tz: str, occurrence: datetime) -> datetime:
        return rules.reminder_deadline(
            when, zone(tz), occurrence, grace=self.grace, on_time=ON_TIME, quiet=self.quiet
        )


async def sweep_reminders(work: DueWork) -> int:
    """Queue every due reminder, batch by batch; returns the outbox rows written."""
    run = _Pass(work)
    return await in_batches(lambda: _batch(run), BATCH_SIZE)


async def _batch(run: _Pass) -> tuple[int, int]:
    now = run.work.now
    rule = ReminderRule
    query = (
        select(
            rule.id,
            rule.user_id,
            rule.days,
            rule.minute_of_day,
            rule.timezone,
            rule.next_due_at,
            Chat.platform,
            Chat.platform_chat_id,
            Chat.is_private,
            Chat.bot_is_member,
            User.unreachable,
        )
        .join(User, User.id == rule.user_id)
        .join(Chat, Chat.id == rule.chat_id)
        .where(rule.next_due_at <= now)
        .order_by(rule.next_due_at)
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True, of=rule)
    )
    async with run.work.sessions() as session, session.begin():
        rows = (await session.execute(query)).all()
        if not rows:
            return 0, 0
        advances: list[dict[str, Any]] = []
        messages: list[outbox.NewMessage] = []
        for row in rows:
            when = WeeklyTime(row.days, row.minute_of_day)
            last, deadline, following = run.timing(when, row.timezone)
            latest = max(last, row.next_due_at)
            if latest != last:  # not an occurrence of the rule as it stands: be exact
                deadline = run.deadline(when, row.timezone, latest)
            if row.bot_is_member and not row.unreachable and now < deadline:
                messages.append(_reminder(run.work, row, when, latest, deadline))
            advances.append({"rid": row.id, "due": following})
        written = await outbox.enqueue(session, messages, now=now)
        await session.execute(
            update(_RULES)
            .where(_RULES.c.id == bindparam("rid"))
            .values(next_due_at=bindparam("due")),
            advances,
        )
    return len(rows), written


def _reminder(
    work: DueWork, row: Any, when: WeeklyTime, occurrence: datetime, deadline: datetime
) -> outbox.NewMessage:
    return outbox.NewMessage(
        dedupe_key=f"remind:{row.id}:{int(occurrence.timestamp())}",
        platform=row.platform,
        chat_id=row.platform_chat_id,
        is_private=row.is_private,
        user_id=row.user_id,
        reply=rules.reminder_reply(work.content.reminders, row.id, when, row.timezone, occurrence),
        expires_at=deadline,
    )
