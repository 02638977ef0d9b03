"""The bot's pace kept in the database, so the platform's caps hold for all workers together.

GCRA (the generic cell rate algorithm, a leaky bucket stored as one number): for the whole
bot and for each chat, `send_pace.tat` is the theoretical arrival time of the next message.
A worker reserves slots for a few sends at once with one `INSERT … ON CONFLICT DO UPDATE …
RETURNING` (one statement, one short transaction, any number of workers), then waits until
each slot. A message may leave at `tat - tolerance`, where the tolerance is the burst for the
bot and zero for a chat; each reservation moves `tat` on by one emission interval.

A platform's "retry after" moves `tat` past the hold (`hold()`), so every worker waits it out,
not only the one that was told.

Slots are Unix times from each worker's wall clock: the workers' clocks must agree (NTP), as
they must for claim leases. A worker that dies with slots reserved only leaves them unused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import SendPace
from scheduler.pacing import PacingPolicy

BOT = "bot"


class SharedPace:
    """One platform's pace, shared through the database by every worker sending for it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        platform: str,
        policy: PacingPolicy,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.platform = platform
        self.policy = policy
        self.wall = wall
        self.interval = 1 / policy.per_second
        self.tolerance = (policy.burst - 1) * self.interval
        self.round_trips = 0  # statements sent, for the benchmark's cost figure

    def chat_interval(self, is_private: bool) -> float:
        if is_private:
            return self.policy.private_interval
        return 60 / self.policy.group_per_minute

    async def reserve(self, sends: Sequence[tuple[str, bool]]) -> list[float]:
        """Reserve a slot for each send, given as (chat, is_private) with distinct chats;
        returns each one's wait in seconds from now, in the same order."""
        if not sends:
            return []
        now = self.wall()
        steps = {BOT: len(sends) * self.interval}
        for chat, is_private in sends:
            steps[_chat_key(chat)] = self.chat_interval(is_private)
        tats = await self._advance(now, {key: now + step for key, step in steps.items()})
        # The bot's slots are consecutive; the sends whose chat is free soonest take the first.
        start = tats[BOT] - steps[BOT]  # max(old tat, now)
        chat_free = [tats[_chat_key(chat)] - steps[_chat_key(chat)] for chat, _ in sends]
        order = sorted(range(len(sends)), key=lambda i: chat_free[i])
        waits = [0.0] * len(sends)
        for slot, i in enumerate(order):
            bot_at = start + slot * self.interval - self.tolerance
            waits[i] = max(0.0, bot_at - now, chat_free[i] - now)
        return waits

    async def hold(self, seconds: float, chat: str | None = None) -> None:
        """The platform said to wait: no worker sends to `chat` (or at all, without one)
        until `seconds` from now."""
        until = self.wall() + seconds
        if chat is None:
            await self._push({BOT: until + self.tolerance})
        else:
            await self._push({_chat_key(chat): until})

    async def _advance(self, now: float, fresh: dict[str, float]) -> dict[str, float]:
        """Each key's tat moves to max(tat, now) + its step (`fresh` is now + step, the value
        of a key seen for the first time); returns the new tats."""
        async with self.sessions() as session, session.begin():
            insert, greatest = _dialect(session)
            statement = insert(SendPace).values(
                [{"platform": self.platform, "key": k, "tat": t} for k, t in fresh.items()]
            )
            statement = statement.on_conflict_do_update(
                index_elements=["platform", "key"],
                set_={"tat": statement.excluded.tat + greatest(SendPace.tat - now, 0.0)},
            ).returning(SendPace.key, SendPace.tat)
            self.round_trips += 1
            rows = (await session.execute(statement)).all()
        return {key: float(tat) for key, tat in rows}

    async def _push(self, until: dict[str, float]) -> None:
        """Each key's tat moves to at least its value."""
        async with self.sessions() as session, session.begin():
            insert, greatest = _dialect(session)
            statement = insert(SendPace).values(
                [{"platform": self.platform, "key": k, "tat": t} for k, t in until.items()]
            )
            statement = statement.on_conflict_do_update(
                index_elements=["platform", "key"],
                set_={"tat": greatest(SendPace.tat, statement.excluded.tat)},
            )
            self.round_trips += 1
            await session.execute(statement)


def _chat_key(chat: str) -> str:
    return f"chat:{chat}"


def _dialect(session: AsyncSession) -> tuple[Any, Any]:
    """The dialect's INSERT (for ON CONFLICT) and its two-argument maximum."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert, func.greatest
    return sqlite.insert, func.max
