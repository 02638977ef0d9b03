"""Running the proactive side next to the platform adapters: one APScheduler sweep job per
process (not one job per person: 100,000 people are 100,000 rows, not pickled jobs), a daily
outbox clean-up, and one sender per platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Transport
from bot.storage.models import Outbox, utcnow
from scheduler.outbox import FINAL_STATUSES
from scheduler.pacing import PacingPolicy
from scheduler.quiet import QuietHours
from scheduler.retention import add_retention_job
from scheduler.sender import Sender, SenderConfig
from scheduler.sweep import SweepConfig, Sweeper

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Settings

log = logging.getLogger("corecoach.scheduler")

SWEEP_JOB = "sweep"
PRUNE_JOB = "outbox-prune"
# Delivered, failed and expired messages are kept this long for troubleshooting, then
# deleted: they hold message text, and nobody needs last month's reminder.
OUTBOX_KEEP = timedelta(days=7)


def sweep_config(settings: Settings) -> SweepConfig:
    return SweepConfig(
        reminder_grace=timedelta(minutes=settings.reminder_grace_minutes),
        quiet=QuietHours(settings.quiet_hours),
        default_timezone=settings.default_timezone,
    )


def pacing_for(platform: str, settings: Settings) -> PacingPolicy:
    if platform == "telegram":
        return PacingPolicy.telegram(settings.telegram_rate)
    if platform == "discord":
        return PacingPolicy.discord(settings.discord_rate)
    return PacingPolicy.unlimited()


def make_scheduler(sweeper: Sweeper, interval_seconds: float) -> AsyncIOScheduler:
    """The process's APScheduler: the sweep every `interval_seconds`, first run at once
    (catching up after downtime), never two sweeps at the same time."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        sweeper.run_logged,
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
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class Background:
    scheduler: AsyncIOScheduler
    sweeper: Sweeper
    senders: list[Sender]

    async def stop(self) -> None:
        """Graceful: no new sweep, the running one finishes, senders finish what is in
        flight and hand back the rest of their claims."""
        if self.scheduler.running:
            self.scheduler.pause()
        await self.sweeper.idle()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.gather(*(sender.stop() for sender in self.senders))
        await asyncio.sleep(0)  # let the scheduler's queued shutdown run


def start_background(
    app: App, transports: Sequence[Transport], *, clock: Callable[[], datetime] = utcnow
) -> Background:
    """Start the sweep job and one sender per transport on the running event loop."""
    settings = app.settings
    senders = [
        Sender(
            app.sessions,
            transport,
            pacing=pacing_for(transport.platform, settings),
            config=SenderConfig(),
            clock=clock,
        )
        for transport in transports
    ]

    def wake_senders() -> None:
        for sender in senders:
            sender.wake()

    sweeper = Sweeper(
        app.sessions,
        app.content,
        config=sweep_config(settings),
        clock=clock,
        on_enqueued=wake_senders,
        hooks=app.engine.router.sweep_hooks,
    )
    scheduler = make_scheduler(sweeper, settings.sweep_seconds)

    async def prune() -> None:
        try:
            removed = await prune_outbox(app.sessions, clock())
            log.info("outbox.pruned", extra={"count": removed})
        except Exception:
            log.exception("outbox.prune_failed")

    scheduler.add_job(
        prune, CronTrigger(hour=3, minute=17, timezone=UTC), id=PRUNE_JOB, coalesce=True
    )
    add_retention_job(scheduler, app, clock)
    scheduler.start()
    for sender in senders:
        sender.start()
    log.info("background.started", extra={"platforms": ",".join(s.platform for s in senders)})
    return Background(scheduler, sweeper, senders)
