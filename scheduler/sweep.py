"""The sweep: one job per process turns due reminder rules and check-ins into outbox rows.

Each batch is one transaction that writes the outbox rows *and* advances the rules, so a
crash either did both or neither; the outbox's unique dedupe_key (rule + occurrence) makes a
re-run after a crash harmless. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several
processes sweep at once without waiting on, or repeating, each other's rows.

Misfire policy (after downtime, or a person who was unreachable): of the occurrences missed
since `next_due_at`, only the latest is considered. It is sent late if its deadline has not
passed (`rules.reminder_deadline`: within the grace window, default 1 h, and not late into
quiet hours), otherwise skipped; either way the rule moves to its next occurrence. So a
3-day outage yields at most one reminder per rule, never a burst. Check-ins are sent up to
`checkin_grace` late (default 24 h), deferred while quiet hours last, then marked missed.

Features add their own due work as sweep hooks (bot.engine.router.SweepHook, handed over by
scheduler.service), run after these on every pass; this package knows none of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.bundle import ContentBundle
from bot.engine.router import SweepHook
from bot.storage.models import Chat, CheckIn, ReminderRule, User, utcnow
from scheduler import checkins, outbox, rules
from scheduler.occurrences import WeeklyTime, last_occurrence, next_occurrence
from scheduler.quiet import QuietHours

log = logging.getLogger("corecoach.sweep")

# Core tables for executemany updates (thousands of rows per batch, no ORM objects).
_RULES = cast(Table, ReminderRule.__table__)
_CHECKINS = cast(Table, CheckIn.__table__)


@dataclass(frozen=True)
class SweepConfig:
    reminder_grace: timedelta = timedelta(hours=1)
    # A reminder this late still counts as on time, even if quiet hours began meanwhile.
    on_time: timedelta = timedelta(minutes=5)
    checkin_grace: timedelta = timedelta(hours=24)
    quiet: QuietHours = field(default_factory=QuietHours)
    default_timezone: str = "UTC"
    batch_size: int = 500


@dataclass
class SweepResult:
    reminders_queued: int = 0
    reminders_skipped: int = 0
    checkins_queued: int = 0
    checkins_deferred: int = 0
    checkins_missed: int = 0
    hooks_queued: int = 0  # written by the features' sweep hooks (club posts and reports)

    def add(self, other: SweepResult) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Sweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: ContentBundle,
        *,
        config: SweepConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_enqueued: Callable[[], None] | None = None,
        hooks: Sequence[SweepHook] = (),
    ) -> None:
        self.sessions = sessions
        self.content = content
        self.hooks = tuple(hooks)
        self.config = config or SweepConfig()
        self.clock = clock
        self.on_enqueued = on_enqueued
        self.runs = 0
        self.swept = asyncio.Event()  # set after every completed sweep (tests, health)
        self._lock = asyncio.Lock()
        self._timing_at: datetime | None = None
        self._timings: dict[tuple[int, int, str], tuple[datetime, datetime, datetime]] = {}

    async def run_once(self) -> SweepResult:
        """Sweep everything due now, batch by batch, until nothing is left."""
        async with self._lock:
            now = self.clock()
            total = SweepResult()
            while True:
                found, result = await self._reminder_batch(now)
                total.add(result)
                if found < self.config.batch_size:
                    break
            while True:
                found, result = await self._checkin_batch(now)
                total.add(result)
                if found < self.config.batch_size:
                    break
            for hook in self.hooks:
                total.hooks_queued += await hook(self.sessions, self.content, now)
            self.runs += 1
            self.swept.set()
            if total.reminders_queued or total.checkins_queued or total.hooks_queued:
                log.info("sweep.queued", extra=vars(total))
                if self.on_enqueued is not None:
                    self.on_enqueued()
            return total

    async def run_logged(self) -> None:
        """The APScheduler job: a failed sweep is logged and retried at the next interval."""
        try:
            await self.run_once()
        except Exception:
            log.exception("sweep.failed")

    async def idle(self) -> None:
        """Wait for a sweep in progress to finish (graceful shutdown)."""
        async with self._lock:
            return

    async def _reminder_batch(self, now: datetime) -> tuple[int, SweepResult]:
        result = SweepResult()
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
            .limit(self.config.batch_size)
            .with_for_update(skip_locked=True, of=rule)
        )
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(query)).all()
            if not rows:
                return 0, result
            advances: list[dict[str, Any]] = []
            messages: list[outbox.NewMessage] = []
            for row in rows:
                when = WeeklyTime(row.days, row.minute_of_day)
                last, deadline, following = self._timing(when, row.timezone, now)
                latest = max(last, row.next_due_at)
                if latest != last:  # not an occurrence of the rule as it stands: be exact
                    deadline = self._deadline(when, row.timezone, latest)
                reachable = row.bot_is_member and not row.unreachable
                if reachable and now < deadline:
                    messages.append(self._reminder(row, when, latest, deadline))
                else:
                    result.reminders_skipped += 1
                advances.append({"rid": row.id, "due": following})
            result.reminders_queued = await outbox.enqueue(session, messages, now=now)
            await session.execute(
                update(_RULES)
                .where(_RULES.c.id == bindparam("rid"))
                .values(next_due_at=bindparam("due")),
                advances,
            )
        return len(rows), result

    def _timing(
        self, when: WeeklyTime, tz: str, now: datetime
    ) -> tuple[datetime, datetime, datetime]:
        """(latest occurrence, its deadline, next occurrence) at `now`. Rules that fall due
        together mostly share days, time and zone, so one sweep works each out once."""
        if self._timing_at != now:
            self._timing_at, self._timings = now, {}
        key = (when.days, when.minute, tz)
        found = self._timings.get(key)
        if found is None:
            zone = rules.zone(tz)
            last = last_occurrence(when, zone, now)
            found = (last, self._deadline(when, tz, last), next_occurrence(when, zone, now))
            self._timings[key] = found
        return found

    def _deadline(self, when: WeeklyTime, tz: str, occurrence: datetime) -> datetime:
        return rules.reminder_deadline(
            when,
            rules.zone(tz),
            occurrence,
            grace=self.config.reminder_grace,
            on_time=self.config.on_time,
            quiet=self.config.quiet,
        )

    def _reminder(
        self, row: Any, when: WeeklyTime, occurrence: datetime, deadline: datetime
    ) -> outbox.NewMessage:
        return outbox.NewMessage(
            dedupe_key=f"remind:{row.id}:{int(occurrence.timestamp())}",
            platform=row.platform,
            chat_id=row.platform_chat_id,
            is_private=row.is_private,
            user_id=row.user_id,
            reply=rules.reminder_reply(
                self.content.reminders, row.id, when, row.timezone, occurrence
            ),
            expires_at=deadline,
        )

    async def _checkin_batch(self, now: datetime) -> tuple[int, SweepResult]:
        result = SweepResult()
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
            .limit(self.config.batch_size)
            .with_for_update(skip_locked=True, of=CheckIn)
        )
        quiet = self.config.quiet
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(query)).all()
            changes: list[dict[str, Any]] = []
            messages: list[outbox.NewMessage] = []
            for row in rows:
                tz = rules.zone(row.timezone or self.config.default_timezone)
                status, due = checkins.QUEUED, row.due_at
                gone = not row.bot_is_member or row.unreachable
                if gone or now - row.due_at > self.config.checkin_grace:
                    status = checkins.MISSED
                elif quiet.covers(now, tz):
                    status, due = checkins.SCHEDULED, quiet.defer(now, tz)
                else:
                    deadline = row.due_at + self.config.checkin_grace
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
                            reply=checkins.question_reply(self.content.reminders, row.id),
                            expires_at=deadline,
                        )
                    )
                counter = {
                    checkins.QUEUED: "checkins_queued",
                    checkins.MISSED: "checkins_missed",
                    checkins.SCHEDULED: "checkins_deferred",
                }[status]
                setattr(result, counter, getattr(result, counter) + 1)
                changes.append({"cid": row.id, "status": status, "due": due})
            await outbox.enqueue(session, messages, now=now)
            if changes:
                await session.execute(
                    update(_CHECKINS)
                    .where(_CHECKINS.c.id == bindparam("cid"))
                    .values(status=bindparam("status"), due_at=bindparam("due")),
                    changes,
                )
        return len(rows), result
