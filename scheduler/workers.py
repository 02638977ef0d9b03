"""Which senders are alive, so a dead one's claims move to a live one within seconds.

Each sender has a row in `outbox_workers` and beats every `HEARTBEAT` from a task of its
own, not between sends: a transport call may take up to a minute, and a slow worker that is
alive keeps its rows. A claim names its worker (`outbox.claimed_by`); a claim whose worker
has not beaten for `STALE` is due again (`orphaned()`), and the new claim's token fences the
old owner should it wake up. So on PostgreSQL a dead worker's rows move within
STALE + one claim round (< 30 s) instead of waiting for their lease.

SQLite runs one process, so when a sender starts there every claim is a dead process's:
`take_over_all()` frees them at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import Outbox, OutboxWorker
from scheduler.outbox import OUTBOX, PENDING

HEARTBEAT = timedelta(seconds=5)
STALE = timedelta(seconds=15)  # three beats missed
FORGET_AFTER = timedelta(days=1)  # a dead worker's row is deleted after this


def orphaned(me: str, now: datetime) -> ColumnElement[bool]:
    """Claims held by another worker that is gone or silent."""
    alive = select(OutboxWorker.id).where(OutboxWorker.heartbeat_at >= now - STALE)
    return and_(
        Outbox.claimed_by.is_not(None),
        Outbox.claimed_by != me,
        Outbox.claimed_by.not_in(alive),
    )


async def beat(
    sessions: async_sessionmaker[AsyncSession], worker: str, platform: str, now: datetime
) -> None:
    """Say this worker is alive (registering it on the first beat)."""
    async with sessions() as session, session.begin():
        insert: Any = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        statement = insert(OutboxWorker).values(id=worker, platform=platform, heartbeat_at=now)
        await session.execute(
            statement.on_conflict_do_update(index_elements=["id"], set_={"heartbeat_at": now})
        )


async def leave(sessions: async_sessionmaker[AsyncSession], worker: str, now: datetime) -> None:
    """A clean stop: the row goes, and so do rows of workers dead for a long time."""
    async with sessions() as session, session.begin():
        await session.execute(
            delete(OutboxWorker).where(
                (OutboxWorker.id == worker) | (OutboxWorker.heartbeat_at < now - FORGET_AFTER)
            )
        )


async def take_over_all(
    sessions: async_sessionmaker[AsyncSession], platform: str, chats: frozenset[str] | None
) -> int:
    """SQLite at start: free every claim on this platform's rows (their process is dead).
    Returns how many were freed."""
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name != "sqlite":
            return 0
        claimed = and_(
            Outbox.platform == platform,
            Outbox.status == PENDING,
            Outbox.claim_token.is_not(None),
        )
        if chats is not None:
            claimed = and_(claimed, Outbox.platform_chat_id.in_(sorted(chats)))
        result = await session.execute(
            update(OUTBOX)
            .where(claimed)
            .values(claimed_until=None, claim_token=None, claimed_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
