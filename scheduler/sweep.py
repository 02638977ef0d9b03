"""The sweep: one job per process asks every feature for its due work on every pass.

Features (reminders, check-ins, club posts) hand over sweep hooks (bot.engine.feature); each
hook turns what is due into outbox rows in its own transactions, batch by batch, and returns
how many rows it wrote. This package knows none of them: it decides *when* (the interval, one
pass at a time) and delivers (the sender drains the outbox).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.engine.feature import DueWork, SweepHook
from bot.storage.models import utcnow

log = logging.getLogger("corecoach.sweep")


async def in_batches(batch: Callable[[], Awaitable[tuple[int, int]]], size: int) -> int:
    """Run a hook's `batch` (rows found, outbox rows written) until one finds fewer than
    `size` rows, so everything due now is done; returns the outbox rows written."""
    written = 0
    while True:
        found, queued = await batch()
        written += queued
        if found < size:
            return written


class Sweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: ContentBundle,
        settings: Settings,
        hooks: Sequence[SweepHook],
        *,
        clock: Callable[[], datetime] = utcnow,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.content = content
        self.settings = settings
        self.hooks = tuple(hooks)
        self.clock = clock
        self.on_enqueued = on_enqueued
        self.runs = 0
        self.swept = asyncio.Event()  # set after every completed sweep (tests, health)
        self._lock = asyncio.Lock()

    def due_work(self) -> DueWork:
        return DueWork(self.sessions, self.content, self.settings, self.clock())

    async def run_once(self) -> int:
        """Sweep everything due now; returns the outbox rows written."""
        async with self._lock:
            work = self.due_work()
            queued = 0
            for hook in self.hooks:
                queued += await hook(work)
            self.runs += 1
            self.swept.set()
            if queued:
                log.info("sweep.queued", extra={"count": queued})
                if self.on_enqueued is not None:
                    self.on_enqueued()
            return queued

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
