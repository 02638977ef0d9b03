"""Throw-away databases for benchmarks: a SQLite file in a temporary folder, or a fresh database
on the local PostgreSQL (COACH_TEST_PG_URL, as in the tests), dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_engine, migrate

PG_URL = os.environ.get("COACH_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def pg_reachable() -> bool:
    probe = make_engine(PG_URL)
    try:
        async with probe.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await probe.dispose()


@contextlib.asynccontextmanager
async def database(backend: str) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A migrated, empty database; yields the engine and a URL other processes can use."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'coach.db'}"
            engine = make_engine(url)
            await migrate(engine)
            try:
                yield engine, url
            finally:
                await engine.dispose()
        return
    # A database of its own (not a schema), so other processes reach it by URL alone.
    name = f"coach_bench_{secrets.token_hex(5)}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    await _execute(admin, f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        await migrate(engine)
        yield engine, url
    finally:
        await engine.dispose()
        await _execute(admin, f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.dispose()


async def _execute(engine: AsyncEngine, statement: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text(statement))
