"""Shared fixtures: real databases (a SQLite file; the local PostgreSQL when reachable), the
real content folder, and the engine behind an errbot-style harness."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_or_raise
from bot.engine.engine import Engine
from bot.storage.db import make_engine, make_sessionmaker, migrate
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock

PG_URL = os.environ.get("COACH_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def content() -> ContentBundle:
    return load_or_raise(DEFAULT_CONTENT_DIR)


async def _pg_engine() -> tuple[AsyncEngine, str]:
    """An engine confined to a fresh schema, so parallel test runs never meet."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = make_engine(PG_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # unreachable, refused, no such database...
        await admin.dispose()
        reason = f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(f"{reason}; set COACH_TEST_PG_URL to run these tests")
    await admin.dispose()
    engine = make_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    return engine, schema


async def _drop_schema(schema: str) -> None:
    admin = make_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each kind."""
    schema = None
    if request.param == "sqlite":
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    else:
        engine, schema = await _pg_engine()
    await migrate(engine)
    yield engine
    await engine.dispose()
    if schema:
        await _drop_schema(schema)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """SQLite only, for tests whose subject is not the database."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(db)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> Engine:
    return build_engine(db, content, clock=clock)


@pytest.fixture
def bot(engine: Engine) -> ChatHarness:
    return ChatHarness(engine)


@pytest.fixture
def quick_bot(sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> ChatHarness:
    """The engine on SQLite only: for behaviour tests that need not run per backend."""
    return ChatHarness(build_engine(sqlite_db, content, clock=clock))
