"""A countdown clock (bot.adapters.countdown.Clock) that moves only when a test moves it, and a
patient wait for things the bot does in the background.

With it a countdown test says "now the next tick is due" instead of sleeping and hoping the
machine kept up: a slow or loaded machine only makes the test take longer, never fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# How long a test waits for something that should happen at once: only a failing test waits
# this long, so it can be generous.
PATIENCE = 30.0


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Park the caller until the clock is moved to `now + seconds`."""
        entry = (self.now + max(0.0, seconds), asyncio.get_running_loop().create_future())
        self._sleepers.append(entry)
        try:
            await entry[1]
        finally:  # woken, or cancelled (a countdown stopped by a button press)
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        """Sleepers still waiting (one cancelled a moment ago is not)."""
        return len(self._waiting())

    def advance(self, seconds: float) -> None:
        """Move the clock on and wake every sleeper whose time has come."""
        self.now += seconds
        for entry in self._waiting():
            if entry[0] <= self.now:
                self._sleepers.remove(entry)
                entry[1].set_result(None)

    async def next_tick(self) -> float:
        """Wait until a countdown sleeps, move the clock to its wake-up time and wake it; the
        new time."""
        await eventually(lambda: self.sleeping > 0, "a countdown waiting for its next tick")
        self.advance(max(0.0, min(at for at, _ in self._waiting()) - self.now))
        return self.now

    def _waiting(self) -> list[tuple[float, asyncio.Future[None]]]:
        return [entry for entry in self._sleepers if not entry[1].done()]


async def eventually(check: Callable[[], bool], what: str = "condition") -> None:
    """Wait until `check()` holds (looked at every 10 ms, for up to PATIENCE seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not check():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.01)
