"""SQLite on SQLAlchemy's stock aiosqlite dialect: every transaction takes the write lock up
front (BEGIN IMMEDIATE), a writer waits for another process's lock in SQLite's own busy
handler on aiosqlite's thread while the event loop keeps serving other chats, and a lock that
outlasts the wait ends in an error the engine answers with "try again in a moment"."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.engine import TRY_AGAIN
from bot.storage.db import SQLITE_BUSY_SECONDS, make_engine, make_sessionmaker, migrate
from tests.echo_dialog import echo_router
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock


@pytest.fixture
async def coach_db(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "coach.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine)
    yield engine, path
    await engine.dispose()


@contextlib.contextmanager
def other_writer(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the write lock until the block ends."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def _can_write(path: Path) -> bool:
    """Whether another process could take the write lock right now (without waiting)."""
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        probe.close()


async def test_the_stock_driver_with_its_settings(coach_db: tuple[AsyncEngine, Path]) -> None:
    engine, _ = coach_db
    assert (engine.dialect.name, engine.dialect.driver) == ("sqlite", "aiosqlite")
    async with engine.connect() as conn:
        settings = [
            (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        ]
    assert settings == ["wal", 1, 1, SQLITE_BUSY_SECONDS * 1000]  # synchronous 1: NORMAL


async def test_a_transaction_holds_the_write_lock_from_its_start(
    coach_db: tuple[AsyncEngine, Path],
) -> None:
    """A deferred BEGIN would let another process write between our read and our write."""
    engine, path = coach_db
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("SELECT count(*) FROM users"))  # reads only, so far
        assert not _can_write(path)
    assert _can_write(path)


async def test_a_writer_waits_for_another_process_while_the_loop_runs_on(
    coach_db: tuple[AsyncEngine, Path],
) -> None:
    engine, path = coach_db
    ticks = 0

    async def write() -> None:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(text("CREATE TABLE waited (x INTEGER)"))

    with other_writer(path):
        task = asyncio.create_task(write())
        # The event loop serves other work while the write waits for the lock...
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not task.done()
    await task  # ...and the write goes ahead once the lock is gone.
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM waited"))).scalar() == 0


async def test_a_lock_longer_than_the_busy_wait_fails_as_a_database_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "coach.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_seconds=0.05)
    await migrate(engine)
    with other_writer(path), pytest.raises(OperationalError, match="database is locked"):
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(text("SELECT 1"))
    # The failed BEGIN left nothing behind: the next transaction starts and commits.
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("CREATE TABLE after_the_lock (x INTEGER)"))
    await engine.dispose()


async def test_a_long_lock_is_answered_with_try_again(
    tmp_path: Path, content: ContentBundle, clock: FakeClock
) -> None:
    path = tmp_path / "coach.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_seconds=0.05)
    await migrate(engine)
    bot = ChatHarness(build_engine(engine, content, router=echo_router(), clock=clock))
    ann = bot.person()
    await ann.say("/echo")
    with other_writer(path):
        await ann.say("red")
        assert ann.text().strip() == TRY_AGAIN
    await ann.say("red")
    assert "Echo 1: red" in ann.text()
    await engine.dispose()


async def test_a_connection_handed_back_mid_transaction_is_rolled_back(
    coach_db: tuple[AsyncEngine, Path],
) -> None:
    """The pool's own rollback-on-return is off (it cost a trip per transaction); ours rolls
    back whatever is still open, so the next user of the connection starts clean."""
    engine, path = coach_db

    def abandon(sync_conn: Connection) -> tuple[bool, bool]:
        raw = sync_conn.engine.raw_connection()
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("CREATE TABLE abandoned (x INTEGER)")
        cursor.close()
        driver = raw.driver_connection
        assert driver is not None
        was_open = bool(driver.in_transaction)
        raw.close()  # handed back mid-transaction: the pool's reset runs on checkin
        return was_open, bool(driver.in_transaction)

    async with engine.connect() as conn:
        was_open, still_open = await conn.run_sync(abandon)
    assert was_open and not still_open
    assert _can_write(path)
    async with engine.connect() as conn:
        found = await conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'abandoned'"
        )
        assert found.scalar() == 0
