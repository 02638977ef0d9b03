"""Live countdowns for timed steps (a 45 s plank): the message is edited every few seconds with
the time left, in a task of its own, so other interactions go on meanwhile.

Discord allows about five edits per five seconds per channel; one edit every `interval`
(at least `min_gap`) seconds stays well inside it. Editing goes through whatever sent the
message (the interaction's webhook for ephemeral ones, which only that token may edit),
and a later edit of the same message (a button press) cancels the countdown first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any, Protocol

import discord

log = logging.getLogger("corecoach.discord")


class Editable(Protocol):
    """discord.Message, WebhookMessage and InteractionMessage all fit."""

    id: int

    async def edit(self, *, content: str | None = ...) -> Any: ...


def footer(remaining: float) -> str:
    seconds = math.ceil(max(0.0, remaining))
    if seconds == 0:
        return "⏱ Time!"
    return f"⏱ {seconds // 60}:{seconds % 60:02d} left"


def with_footer(content: str | None, remaining: float) -> str:
    return f"{content}\n\n{footer(remaining)}" if content else footer(remaining)


class Countdowns:
    def __init__(self, *, interval: float = 5.0, min_gap: float = 3.0) -> None:
        self.interval = max(interval, min_gap)
        self.min_gap = min_gap
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, message: Editable, content: str | None, seconds: float) -> None:
        """Count down on a message just sent showing `with_footer(content, seconds)`."""
        self.cancel(message.id)
        task = asyncio.create_task(self._run(message, content, seconds))
        self._tasks[message.id] = task
        task.add_done_callback(lambda done: self._forget(message.id, done))

    def cancel(self, message_id: int) -> None:
        task = self._tasks.pop(message_id, None)
        if task is not None:
            task.cancel()

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _forget(self, message_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(message_id) is task:
            del self._tasks[message_id]

    async def _run(self, message: Editable, content: str | None, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        remaining = seconds
        last_edit = loop.time()  # the message itself was just sent
        while remaining > 0:
            # Ticks fall on whole multiples of the interval before the end: 45 s → 40, 35, … 0.
            target = math.ceil(remaining / self.interval) - 1
            next_tick = max(end - target * self.interval, last_edit + self.min_gap)
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            last_edit = loop.time()
            remaining = max(0.0, end - loop.time())
            try:
                await message.edit(content=with_footer(content, remaining))
            except (discord.NotFound, discord.Forbidden):
                return  # deleted, or the interaction's 15 minutes are over
            except discord.HTTPException as exc:
                log.info("discord.countdown_edit_skipped", extra={"status": exc.status})
