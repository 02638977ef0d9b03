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
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import SendPace
from scheduler.pacing import PacingPolicy

BOT = "bot"
MAX_LAG = 0.5  # seconds
CHAT_MARGIN = 0.5  # seconds added to a chat's interval: sends arrive with varying latency


class Slot(NamedTuple):
    wait: float  # seconds from now
    reserved: bool  # False: the chat is busy; try again after `wait`, nothing was taken


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
        # A chat turn further off than this takes no bot slot yet (see reserve()).
        self.horizon = max(self.tolerance, self.interval)
        self.round_trips = 0  # statements sent, for the benchmark's cost figure
        self._lag = 0.0  # how long a reservation takes: the recent longest, fading

    def chat_interval(self, is_private: bool) -> float:
        # A chat sees few messages: a margin for network jitter costs it nothing.
        if is_private:
            return self.policy.private_interval + CHAT_MARGIN
        return 60 / self.policy.group_per_minute + CHAT_MARGIN

    async def reserve(self, sends: Sequence[tuple[str, bool]]) -> list[Slot]:
        """Reserve a slot for each send, given as (chat, is_private) with distinct chats;
        returns each one's slot, in the same order.

        One transaction of two or three statements, whatever the number of sends: the chats'
        turns; the bot's slots at or after them; then the chats set to what each send really
        got. A send later than its chat's turn pushes the chat's next turn; a send whose chat
        is busy beyond `horizon` takes no bot slot (a gap in the bot's pace would be lost to
        every chat) and gives its chat turn back: it is to be tried at that turn.
        Rows are locked chats first, in key order, then the bot: no deadlock between workers.
        """
        if not sends:
            return []
        began = self.wall()
        # Turns start when this transaction is likely to have committed: a slot that passed
        # meanwhile would be a late send, bunched with the next ones.
        now = began + self._lag
        keys = [_chat_key(chat) for chat, _ in sends]
        steps = [self.chat_interval(is_private) for _, is_private in sends]
        order = sorted(range(len(sends)), key=lambda i: keys[i])
        async with self.sessions() as session, session.begin():
            insert, greatest = _dialect(session)
            # 1. Each chat's turn: max(tat, now); its tat moves on by the chat's interval.
            chat_tats = await self._upsert(
                session,
                insert,
                {keys[i]: now + steps[i] for i in order},
                lambda excluded: excluded.tat + greatest(SendPace.tat - now, 0.0),
            )
            turns = [chat_tats[key] - step for key, step in zip(keys, steps, strict=True)]
            ready = [i for i in range(len(sends)) if turns[i] - now <= self.horizon]
            slots = {i: turns[i] for i in range(len(sends))}
            if ready:
                slots.update(await self._bot_slots(session, insert, greatest, ready, turns))
            # 3. Chats whose send moved from their turn: later (pushed) or not at all (given
            # back). Their rows are ours until commit, so plain values are right.
            fixed = {
                keys[i]: (slots[i] + steps[i] if i in ready else turns[i])
                for i in order
                if i not in ready or slots[i] > turns[i]
            }
            if fixed:
                await self._upsert(session, insert, fixed, lambda excluded: excluded.tat)
        ready_set, after = set(ready), self.wall()  # waits count from the commit
        self._lag = min(MAX_LAG, max(after - began, 0.9 * self._lag))
        return [Slot(max(0.0, slots[i] - after), i in ready_set) for i in range(len(sends))]

    async def _bot_slots(
        self,
        session: AsyncSession,
        insert: Any,
        greatest: Any,
        ready: list[int],
        turns: list[float],
    ) -> dict[int, float]:
        """2. The bot's slots, each at or after its chat's turn (earliest turns first). GCRA
        over turns t_1 ≤ … ≤ t_k ends at max(tat, c) + kT with c = max(t_i - (i-1)T); the
        old tat comes back (prev_tat) to place each slot."""
        by_turn = sorted(ready, key=lambda i: turns[i])
        span = len(by_turn) * self.interval
        floor = max(turns[i] - n * self.interval for n, i in enumerate(by_turn))
        statement = insert(SendPace).values(
            platform=self.platform, key=BOT, tat=floor + span, prev_tat=None
        )
        statement = statement.on_conflict_do_update(
            index_elements=["platform", "key"],
            # SET reads the row as it was: prev_tat gets the old tat.
            set_={"tat": greatest(SendPace.tat, floor) + span, "prev_tat": SendPace.tat},
        ).returning(SendPace.prev_tat)
        self.round_trips += 1
        previous = (await session.execute(statement)).scalar_one()
        tat = float("-inf") if previous is None else float(previous)
        slots = {}
        for i in by_turn:
            slots[i] = max(turns[i], tat - self.tolerance)
            tat = max(tat, turns[i]) + self.interval
        return slots

    async def hold(self, seconds: float, chat: str | None = None) -> None:
        """The platform said to wait: no worker sends to `chat` (or at all, without one)
        until `seconds` from now."""
        until = self.wall() + seconds
        if chat is None:
            await self._push({BOT: until + self.tolerance})
        else:
            await self._push({_chat_key(chat): until})

    async def _upsert(
        self,
        session: AsyncSession,
        insert: Any,
        fresh: dict[str, float],
        updated: Callable[[Any], Any],
    ) -> dict[str, float]:
        """Insert each key's tat, or set it to `updated(excluded)`; returns the new tats."""
        statement = insert(SendPace).values(
            [{"platform": self.platform, "key": k, "tat": t} for k, t in fresh.items()]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["platform", "key"], set_={"tat": updated(statement.excluded)}
        ).returning(SendPace.key, SendPace.tat)
        self.round_trips += 1
        rows = (await session.execute(statement)).all()
        return {key: float(tat) for key, tat in rows}

    async def _push(self, until: dict[str, float]) -> None:
        """Each key's tat moves to at least its value."""
        async with self.sessions() as session, session.begin():
            insert, greatest = _dialect(session)
            await self._upsert(
                session, insert, until, lambda excluded: greatest(SendPace.tat, excluded.tat)
            )


def _chat_key(chat: str) -> str:
    return f"chat:{chat}"


def _dialect(session: AsyncSession) -> tuple[Any, Any]:
    """The dialect's INSERT (for ON CONFLICT) and its two-argument maximum."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert, func.greatest
    return sqlite.insert, func.max
