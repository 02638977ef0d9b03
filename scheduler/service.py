"""Running the proactive side next to the platform adapters: one APScheduler sweep job per
process (not one job per person: 100,000 people are 100,000 rows, not pickled jobs), a daily
outbox clean-up, and one sender per platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.assembled import Assembled
from bot.config import Settings
from bot.delivery import DropsRepeats, ReachesSomeChats, Transport
from bot.engine.feature import Daily
from bot.storage.models import Outbox, SendPace, utcnow
from scheduler.outbox import FINAL_STATUSES
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender, SenderConfig
from scheduler.shared_pace import SharedPace
from scheduler.sweep import Sweeper

log = logging.getLogger("corecoach.scheduler")


SWEEP_JOB = "sweep"
PRUNE_JOB = "outbox-prune"
# Delivered, failed and expired messages are kept this long for troubleshooting, then
# deleted: they hold message text, and nobody needs last month's reminder.
OUTBOX_KEEP = timedelta(days=7)


def pacing_for(platform: str, settings: Settings) -> PacingPolicy:
    if platform == "telegram":
        return PacingPolicy.telegram(settings.telegram_rate)
    if platform == "discord":
        return PacingPolicy.discord(settings.discord_rate)
    return PacingPolicy.unlimited()


class RunningJobs:
    """The scheduler's jobs now running, so a stop waits for them: shutting the scheduler
    down cancels them, and a job cancelled mid-transaction can hold SQLite's write lock past
    the stop (its connection is cleaned up only later)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job()
            finally:
                if task is not None:
                    self._running.discard(task)

        return run

    async def idle(self) -> None:
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)


def make_scheduler(
    sweeper: Sweeper, interval_seconds: float, jobs: RunningJobs | None = None
) -> AsyncIOScheduler:
    """The process's APScheduler: the sweep every `interval_seconds`, first run at once
    (catching up after downtime), never two sweeps at the same time."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        (jobs or RunningJobs()).tracked(sweeper.run_logged),
        IntervalTrigger(seconds=interval_seconds, timezone=UTC),
        id=SWEEP_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(interval_seconds)),
        next_run_time=datetime.now(UTC),
    )
    return scheduler


async def prune_outbox(
    sessions: async_sessionmaker[AsyncSession], now: datetime, keep: timedelta = OUTBOX_KEEP
) -> int:
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(Outbox).where(Outbox.status.in_(FINAL_STATUSES), Outbox.created_at < now - keep)
        )
        # A chat's pace long past is the same as none: one row per chat ever written to
        # would otherwise pile up.
        await session.execute(delete(SendPace).where(SendPace.tat < now.timestamp() - 3600))
        return int(getattr(result, "rowcount", 0) or 0)


def daily_job_id(name: str) -> str:
    return f"daily-{name}"


def add_daily_job(
    scheduler: AsyncIOScheduler, sweeper: Sweeper, daily: Daily, jobs: RunningJobs | None = None
) -> None:
    """A feature's daily job at its UTC time, and once at start: a process restarted every
    night would otherwise never be up at the fixed time."""

    async def job() -> None:
        try:
            await daily.job(sweeper.due_work())
        except asyncio.CancelledError:
            # Shut down mid-run: the transaction rolled back and the next start runs it again.
            log.info("daily.interrupted", extra={"job": daily.name})
        except Exception:  # the database is down: tomorrow's run (or the next start) catches up
            log.exception("daily.failed", extra={"job": daily.name})

    scheduler.add_job(
        (jobs or RunningJobs()).tracked(job),
        CronTrigger(hour=daily.hour, minute=daily.minute, timezone=UTC),
        id=daily_job_id(daily.name),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
        next_run_time=datetime.now(UTC),
    )


@dataclass
class Background:
    scheduler: AsyncIOScheduler
    sweeper: Sweeper
    senders: list[Sender]
    jobs: RunningJobs = field(default_factory=RunningJobs)

    async def stop(self) -> None:
        """Graceful: no new sweep, the running one finishes, senders finish what is in
        flight and hand back the rest of their claims."""
        if self.scheduler.running:
            self.scheduler.pause()
        await self.jobs.idle()  # the sweep and daily jobs under way finish, uncancelled
        await self.sweeper.idle()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.gather(*(sender.stop() for sender in self.senders))
        await asyncio.sleep(0)  # let the scheduler's queued shutdown run


def sender_for(
    sessions: async_sessionmaker[AsyncSession],
    transport: Transport,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> Sender:
    """One platform's sender. A platform with caps paces itself through the database, so the
    caps hold for every worker together (scheduler/shared_pace.py)."""
    pacing = pacing_for(transport.platform, settings)
    limited = pacing != PacingPolicy.unlimited()
    return Sender(
        sessions,
        transport,
        pacing=pacing,
        config=SenderConfig(
            chats=transport.reachable_chats if isinstance(transport, ReachesSomeChats) else None
        ),
        clock=clock,
        shared_pace=SharedPace(sessions, transport.platform, pacing) if limited else None,
        drops_repeats=isinstance(transport, DropsRepeats) and transport.drops_repeats,
    )


def start_background(
    app: Assembled, transports: Sequence[Transport], *, clock: Callable[[], datetime] = utcnow
) -> Background:
    """Start the sweep job and one sender per transport on the running event loop."""
    settings = app.settings
    senders = [sender_for(app.sessions, t, settings, clock=clock) for t in transports]

    def wake_senders() -> None:
        for sender in senders:
            sender.wake()

    router = app.engine.router
    sweeper = Sweeper(
        app.sessions,
        app.content,
        settings,
        router.sweep_hooks,
        clock=clock,
        on_enqueued=wake_senders,
    )
    jobs = RunningJobs()
    scheduler = make_scheduler(sweeper, settings.sweep_seconds, jobs)

    async def prune() -> None:
        try:
            removed = await prune_outbox(app.sessions, clock())
            log.info("outbox.pruned", extra={"count": removed})
        except Exception:
            log.exception("outbox.prune_failed")

    scheduler.add_job(
        jobs.tracked(prune),
        CronTrigger(hour=3, minute=17, timezone=UTC),
        id=PRUNE_JOB,
        coalesce=True,
    )
    for daily in router.daily_jobs:
        add_daily_job(scheduler, sweeper, daily, jobs)
    scheduler.start()
    for sender in senders:
        sender.start()
    log.info("background.started", extra={"platforms": ",".join(s.platform for s in senders)})
    return Background(scheduler, sweeper, senders, jobs)
