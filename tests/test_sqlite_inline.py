"""The inline SQLite driver: statements run on the event loop, and waiting for another
writer's lock happens in asyncio sleeps, so the loop keeps serving other chats meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.storage.db import make_engine, make_sessionmaker, migrate


async def _longest_stall(work: asyncio.Future[object] | asyncio.Task[object]) -> float:
    """Tick every millisecond until `work` is done; return the longest gap between ticks."""
    longest, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    return longest


def _hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    """Another process's writer: BEGIN IMMEDIATE, hold it, then commit."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


async def test_a_write_waits_for_another_writer_without_stalling_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    db = make_engine(f"sqlite+aiosqlite:///{path}")
    assert db.dialect.driver == "inline"
    await migrate(db)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.4, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)

    async def write() -> object:
        async with make_sessionmaker(db)() as session, session.begin():
            await session.execute(text("CREATE TABLE waited (x INTEGER)"))
        return time.perf_counter()

    started = time.perf_counter()
    task = asyncio.ensure_future(write())
    stall = await _longest_stall(task)
    finished = await task
    holder.join()
    assert isinstance(finished, float) and finished - started >= 0.35  # it did wait its turn
    assert stall < 0.1, f"the event loop stalled for {stall * 1000:.0f} ms"
    async with db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM waited"))).scalar() == 0
    await db.dispose()


async def test_a_lock_longer_than_the_busy_wait_fails_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    db = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_seconds=0.1)
    await migrate(db)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.6, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)
    started = time.perf_counter()
    with pytest.raises(OperationalError, match="database is locked"):
        async with make_sessionmaker(db)() as session, session.begin():
            await session.execute(text("CREATE TABLE never (x INTEGER)"))
    assert time.perf_counter() - started < 0.5  # gave up after its own wait, not the lock's
    holder.join()
    await db.dispose()
