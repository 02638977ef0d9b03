"""Durable inbound for Telegram: every update is stored (and committed) before Telegram is told
it arrived, then handled; its replies are stored with the turn and the row is marked done
once they were sent (bot/storage/inbound.py).

- Polling confirms an update's offset with the next getUpdates, which is sent only after the
  batch was stored; the webhook answers 200 only after storing.
- A stored update that no process finished is handled by `recover`: at start (the process
  that polls is the only one serving, so it takes over every unfinished row at once), and
  every few seconds for rows whose claim lease ran out (a dead worker's, with several
  webhook workers on one PostgreSQL).
- Stored replies whose sending was cut short are sent again without running the turn again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update

from bot.adapters.telegram.adapter import PLATFORM, TelegramAdapter
from bot.adapters.telegram.application import TelegramApplication
from bot.engine.events import Reply
from bot.storage import inbound
from bot.storage.models import utcnow

log = logging.getLogger("corecoach.telegram")

# How often a worker looks for stored updates whose claim lease ran out.
RECOVER_SECONDS = 5.0
PRUNE_EVERY = timedelta(hours=1)
TAKE_OVER_LIMIT = 100_000

Json = dict[str, Any]


class Intake:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        application: TelegramApplication,
        adapter: TelegramAdapter,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.application = application
        self.adapter = adapter
        self.clock = clock
        self._in_hand: set[str] = set()  # keys this process is handling now
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._pruned_at: datetime | None = None
        self._done = inbound.DoneMarks(sessions, PLATFORM, adapter.engine.writer)
        # Polling: the offset that confirms every stored update (receive.py).
        self.confirmed_below: int | None = None

    async def accept(self, updates: Sequence[tuple[Update, Json]]) -> None:
        """Store the updates (with their JSON as received) and commit; then handle the new
        ones. Returns once they are stored: raises (nothing confirmed) if storing failed."""
        keyed = [(str(update.update_id), update, data) for update, data in updates]
        async with self.adapter.engine.writer():
            new = await inbound.store(
                self.sessions, PLATFORM, [(key, data) for key, _, data in keyed], self.clock()
            )
        for key, update, _ in keyed:
            if key in new:
                self._start(key, update, None)

    async def recover(self, *, take_over: bool) -> int:
        """Handle stored updates nobody finished (see bot/storage/inbound.claim_open)."""
        # Taking over (at start) takes everything at once: a second batch would find the first
        # still unfinished and claim it again.
        limit = TAKE_OVER_LIMIT if take_over else inbound.CLAIM_BATCH
        rows = await inbound.claim_open(
            self.sessions, PLATFORM, self.clock(), take_over=take_over, limit=limit
        )
        started = 0
        for row in rows:
            if row.key in self._in_hand:
                continue
            update = Update.de_json(row.payload, self.application.bot)
            replies = [Reply.from_dict(r) for r in row.replies] if row.replies is not None else None
            self._start(row.key, update, replies)
            started += 1
        if started:
            log.info("telegram.recovered", extra={"updates": started})
        return started

    async def keep_recovering(self) -> None:
        """Every few seconds: updates a dead worker left (lease run out); done keys pruned."""
        while True:
            await asyncio.sleep(RECOVER_SECONDS)
            try:
                await self.recover(take_over=False)
                now = self.clock()
                if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                    await inbound.prune(self.sessions, now)
                    self._pruned_at = now
            except Exception as exc:  # the database is away: try again next round
                log.warning("telegram.recover_failed", extra={"error": type(exc).__name__})

    async def drain(self) -> None:
        """Wait until every update in hand was handled (and its replies sent)."""
        await self._idle.wait()

    def _start(self, key: str, update: Update, replies: list[Reply] | None) -> None:
        self._in_hand.add(key)
        self._idle.clear()
        task = asyncio.create_task(self._handle(key, update, replies))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def _handle(self, key: str, update: Update, replies: list[Reply] | None) -> None:
        try:
            if replies is None:
                # The adapter's handlers run the turn with this update's receipt.
                await self.application.process_update(update)
            else:
                await self.adapter.redeliver(update, replies)
            await self._done.mark(key)
        except Exception as exc:  # left stored: a later recover() tries again
            log.warning("telegram.update_unfinished", extra={"error": type(exc).__name__})
        finally:
            self._in_hand.discard(key)


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel and wait; what the task raised was reported by whoever awaited its result."""
    task.cancel()
    await asyncio.wait({task})
