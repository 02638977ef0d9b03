"""Durable inbound updates (the inbound_updates table): stored before the platform is told
they arrived, answered in the turn's own transaction, done once the replies went out.

    received ──turn commits (mark_answered, same transaction)──▶ answered ──sent──▶ done

A process that dies leaves rows `received` (run the turn) or `answered` (send the stored
replies); `claim_open` hands them to the next process, or to another worker once the dead
one's lease ran out. Done rows lose their text at once and their key after a day.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Table, and_, bindparam, delete, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import InboundUpdate
from bot.storage.prebuilt import Prebuilt

RECEIVED = "received"
ANSWERED = "answered"
DONE = "done"
# How long a worker owns a stored update before another may take it (its turn and sends take
# well under a second; a lease this long only delays recovery from a dead worker).
CLAIM_LEASE = timedelta(seconds=20)
# Done keys are kept this long: the platform redelivers an unconfirmed update within minutes.
KEEP_DONE = timedelta(days=1)
CLAIM_BATCH = 100

_TABLE: Table = InboundUpdate.__table__  # type: ignore[assignment]
_THIS = and_(
    _TABLE.c.platform == bindparam("key_platform"), _TABLE.c.update_key == bindparam("key")
)
_COLUMNS = ("platform", "update_key", "payload", "status", "claimed_until", "created_at")
# Each turn runs these: prebuilt, so SQLite takes one trip to its thread for each.
_STORE = {
    name: Prebuilt(
        dialect.insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["platform", "update_key"])
        .returning(_TABLE.c.update_key),
        sets=_COLUMNS,
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_ANSWERED = Prebuilt(
    update(_TABLE)
    .where(_THIS, _TABLE.c.status == RECEIVED)
    .values(status=ANSWERED, replies=bindparam("replies", type_=JSON()))
    .returning(_TABLE.c.id)
)
_DONE = Prebuilt(
    update(_TABLE)
    .where(_THIS)
    .values(status=DONE, payload=null(), replies=null(), claimed_until=null())
)


@dataclass(frozen=True)
class Receipt:
    """Names the stored update a turn answers: the turn writes its replies to that row."""

    platform: str
    key: str


@dataclass(frozen=True)
class Stored:
    """A stored update handed to a worker: run its turn (`replies` None) or send `replies`."""

    key: str
    payload: dict[str, Any]
    replies: list[dict[str, Any]] | None


async def store(
    sessions: async_sessionmaker[AsyncSession],
    platform: str,
    updates: Sequence[tuple[str, dict[str, Any]]],
    now: datetime,
) -> set[str]:
    """Store (key, payload) pairs once each, claimed by the caller; commit; return the keys
    that were new (a redelivered update is already stored and is not handled twice)."""
    if not updates:
        return set()
    rows = [
        {
            "platform": platform,
            "update_key": key,
            "payload": payload,
            "status": RECEIVED,
            "claimed_until": now + CLAIM_LEASE,
            "created_at": now,
        }
        for key, payload in updates
    ]
    async with sessions() as session, session.begin():
        statement = _STORE[session.get_bind().dialect.name]
        # One row per statement: executemany with RETURNING is not on every backend.
        new: set[str] = set()
        for row in rows:
            new.update(key for (key,) in await statement.execute(session, row))
    return new


async def mark_answered(
    session: AsyncSession, receipt: Receipt, replies: list[dict[str, Any]]
) -> bool:
    """In the turn's transaction: the turn's replies, to be sent. False when the update was
    not waiting for a turn (another worker answered it first): the caller rolls back."""
    params = {"key_platform": receipt.platform, "key": receipt.key, "replies": replies}
    return bool(await _ANSWERED.execute(session, params))


async def mark_done(
    sessions: async_sessionmaker[AsyncSession], platform: str, keys: Sequence[str]
) -> None:
    """Handled and delivered: the text goes now; the key stays to recognise a redelivery."""
    async with sessions() as session, session.begin():
        for key in keys:
            await _DONE.execute(session, {"key_platform": platform, "key": key})


class DoneMarks:
    """Marks updates done, those finished meanwhile together: while one transaction marks
    some, the updates finishing meanwhile wait and then go in the next one (a group commit),
    so under load the marks cost a fraction of a transaction each. `writing` wraps each
    transaction (the engine's one writer on SQLite)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        platform: str,
        writing: Callable[[], AbstractAsyncContextManager[Any]],
    ) -> None:
        self.sessions = sessions
        self.platform = platform
        self.writing = writing
        self._waiting: list[str] = []
        self._one_at_a_time = asyncio.Lock()

    async def mark(self, key: str) -> None:
        """Returns once `key` is marked done (raises if its transaction failed)."""
        self._waiting.append(key)
        async with self._one_at_a_time:
            if not self._waiting:
                return  # an earlier transaction took ours with it
            keys, self._waiting = self._waiting, []
            async with self.writing():
                await mark_done(self.sessions, self.platform, keys)


async def claim_open(
    sessions: async_sessionmaker[AsyncSession],
    platform: str,
    now: datetime,
    *,
    take_over: bool = False,
    limit: int = CLAIM_BATCH,
) -> list[Stored]:
    """Claim stored updates nobody finished, oldest first: those whose lease ran out, or
    (`take_over`, for the one process that may be serving) every one not done."""
    open_rows = and_(_TABLE.c.platform == platform, _TABLE.c.status != DONE)
    if not take_over:
        open_rows = and_(
            open_rows, or_(_TABLE.c.claimed_until.is_(None), _TABLE.c.claimed_until < now)
        )
    # SKIP LOCKED: two workers claiming at once take different rows (SQLite ignores it and
    # has one writer anyway).
    chosen = (
        select(_TABLE.c.id)
        .where(open_rows)
        .order_by(_TABLE.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id.in_(chosen))
            .values(claimed_until=now + CLAIM_LEASE)
            .returning(_TABLE.c.id, _TABLE.c.update_key, _TABLE.c.payload, _TABLE.c.replies)
        )
        rows = sorted(result.all())
    return [Stored(key, payload, replies) for _id, key, payload, replies in rows if payload]


async def prune(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Forget done keys older than KEEP_DONE."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(_TABLE).where(_TABLE.c.status == DONE, _TABLE.c.created_at < now - KEEP_DONE)
        )
    return int(getattr(result, "rowcount", 0))
