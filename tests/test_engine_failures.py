"""When a handler fails or the database is out of reach: a friendly answer, nothing changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.engine import SOMETHING_WRONG, TRY_AGAIN
from bot.storage.db import make_engine, migrate
from tests.echo_dialog import dialog_rows, echo_bot, echo_engine
from tests.harness import ChatHarness, FakeClock


@pytest.fixture
def echo(db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> ChatHarness:
    return echo_bot(db, content, clock)


async def test_failing_command_rolls_back(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    await ann.press("Red")
    before = await dialog_rows(db)
    await ann.say("/boom")
    assert ann.text().strip() == SOMETHING_WRONG
    assert "half a reply" not in ann.text()  # replies of a failed turn are dropped
    assert ann.dialog == "echo"  # still open, and the turn says so
    assert await dialog_rows(db) == before


async def test_failing_dialog_step_rolls_back(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    await ann.say("fine")
    before = await dialog_rows(db)
    await ann.say("boom")  # the dialog appends to its data and bumps the step, then raises
    assert ann.text().strip() == SOMETHING_WRONG
    assert ann.dialog == "echo"
    assert await dialog_rows(db) == before
    await ann.say("after")  # the dialog carries on from where it was
    assert "Echo 2: after" in ann.text()


async def test_failing_first_turn_leaves_no_user_behind(db: AsyncEngine, echo: ChatHarness) -> None:
    await echo.person("newcomer").say("/boom")
    async with db.connect() as conn:
        users = await conn.exec_driver_sql("SELECT count(*) FROM users")
        assert users.scalar_one() == 0


async def test_locked_database_says_try_again(
    tmp_path: Path, content: ContentBundle, clock: FakeClock
) -> None:
    path = tmp_path / "coach.db"
    db = make_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(db.sync_engine, "connect")
    def _impatient(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=50")  # runs after the engine's own 5 s setting
        cursor.close()

    await migrate(db)
    bot = echo_bot(db, content, clock)
    ann = bot.person()
    await ann.say("/echo")
    before = await dialog_rows(db)

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
    try:
        await ann.say("hello")
        assert ann.text().strip() == TRY_AGAIN
        newcomer = bot.person("newcomer")
        await newcomer.say("/start")
        assert newcomer.text().strip() == TRY_AGAIN
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await dialog_rows(db) == before
    await ann.say("hello")  # the lock is gone: the same message now goes through
    assert "Echo 1: hello" in ann.text()
    await db.dispose()


async def test_read_only_database_says_try_again(
    tmp_path: Path, content: ContentBundle, clock: FakeClock
) -> None:
    path = tmp_path / "coach.db"
    db = make_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    await echo_bot(db, content, clock).person().say("/echo")
    before = await dialog_rows(db)
    await db.dispose()
    # The same file, now only readable (a full disk or a read-only mount behaves alike).
    read_only = make_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    ann = echo_bot(read_only, content, clock).person()
    await ann.say("hello")
    assert ann.text().strip() == TRY_AGAIN
    assert ann.dialog == "echo"
    assert await dialog_rows(read_only) == before
    await read_only.dispose()


async def test_unreachable_postgresql_says_try_again(
    content: ContentBundle, clock: FakeClock
) -> None:
    # Port 1 on the loopback interface: the connection is refused at once.
    down = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    bot = ChatHarness(echo_engine(down, content, clock))
    ann = bot.person()
    await ann.say("/start")
    assert ann.text().strip() == TRY_AGAIN
    await down.dispose()
