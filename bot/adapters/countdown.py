"""Live countdowns shared by the adapters: one task per message edits it every few seconds
with the time left, so other updates go on meanwhile. A later edit of the same message (a
button press) cancels its countdown first, so the two never overwrite each other.

Each platform supplies only how to edit once (`Tick`); the timing and task bookkeeping live
here. Time comes from a `Clock`, the event loop's by default; tests pass one they move by hand,
so what they see never depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)

# Edit the message to show `remaining` seconds; False stops the countdown (message gone).
Tick = Callable[[float], Awaitable[bool]]


class Clock(Protocol):
    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's monotonic clock and asyncio.sleep."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def footer(remaining: float) -> str:
    seconds = math.ceil(max(0.0, remaining))
    if seconds == 0:
        return "⏱ Time!"
    return f"⏱ {seconds // 60}:{seconds % 60:02d} left"


class CountdownTasks(Generic[K]):
    """`min_gap` keeps edits above the platform's per-message edit limit whatever `interval`
    says."""

    def __init__(
        self, *, interval: float = 5.0, min_gap: float = 3.0, clock: Clock | None = None
    ) -> None:
        self.interval = max(interval, min_gap)
        self.min_gap = min_gap
        self.clock = clock or LoopClock()
        self._tasks: dict[K, asyncio.Task[None]] = {}

    def begin(self, key: K, tick: Tick, seconds: float) -> None:
        """Count down on a message that was just sent showing `footer(seconds)`."""
        self.cancel(key)
        task = asyncio.create_task(self._run(tick, seconds))
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def cancel(self, key: K) -> None:
        task = self._tasks.pop(key, None)
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

    def _forget(self, key: K, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]

    async def _run(self, tick: Tick, seconds: float) -> None:
        clock = self.clock
        end = clock.time() + seconds
        remaining = seconds
        last_edit = clock.time()  # the message itself was just sent
        while remaining > 0:
            # Ticks fall on whole multiples of the interval before the end: 45 s → 40, 35, … 0.
            target = math.ceil(remaining / self.interval) - 1
            next_tick = max(end - target * self.interval, last_edit + self.min_gap)
            await clock.sleep(max(0.0, next_tick - clock.time()))
            last_edit = clock.time()
            remaining = max(0.0, end - clock.time())
            if not await tick(remaining):
                return
