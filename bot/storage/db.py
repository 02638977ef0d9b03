"""Database connection: one async engine per process, SQLite's settings, and the migration run."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A statement that finds another writer's lock waits this long, then fails ("database is
# locked") and the turn answers "try again in a moment" instead of hanging. SQLite waits in its
# own busy handler on aiosqlite's thread, so the event loop serves other chats meanwhile.
SQLITE_BUSY_SECONDS = 5.0
# PostgreSQL's counterpart (the default is to wait forever).
PG_LOCK_TIMEOUT_MS = 5000


def _no_driver_debug(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


# aiosqlite logs every call at DEBUG with its arguments, statements' parameters included (message
# text, health answers): dropped at the source, whatever level the bot logs at.
logging.getLogger("aiosqlite").addFilter(_no_driver_debug)


def make_engine(
    url: str, *, sqlite_busy_seconds: float = SQLITE_BUSY_SECONDS, **kwargs: Any
) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql"):
        connect_args = dict(kwargs.pop("connect_args", {}))
        server = {
            "lock_timeout": str(PG_LOCK_TIMEOUT_MS),
            **connect_args.get("server_settings", {}),
        }
        kwargs["connect_args"] = {**connect_args, "server_settings": server}
    # Statement parameters hold message text and health answers: keep them out of logs and
    # out of error messages (which the engine logs with their traceback).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # The pool's rollback-on-return costs a trip to aiosqlite's thread after every
        # committed transaction; _sqlite_transactions rolls back only what is still open.
        kwargs.setdefault("pool_reset_on_return", None)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine, sqlite_busy_seconds)
    return engine


def _sqlite_transactions(engine: AsyncEngine, busy_seconds: float) -> None:
    """SQLAlchemy's documented recipe for SQLite transactions ("Enabling Non-Legacy SQLite
    Transactional Modes", aiosqlite variant), with BEGIN IMMEDIATE instead of BEGIN."""
    busy_ms = round(busy_seconds * 1000)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver emits no BEGIN of its own (it would defer it past the first read); the
        # begin hook below does. COMMIT and ROLLBACK stay the driver's.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: switching to WAL may wait
        cursor.execute("PRAGMA journal_mode=WAL")  # readers and the one writer overlap
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    def on_begin(connection: Connection) -> None:
        # A deferred BEGIN let two processes both read a dialog step and both accept the same
        # button; IMMEDIATE takes the write lock up front, so their turns serialise. Sent with
        # the driver's own execute (one trip to its thread, where exec_driver_sql takes three:
        # open a cursor, execute, close it), and its errors raised as SQLAlchemy's would be.
        adapted = connection.connection.dbapi_connection
        assert isinstance(adapted, AdaptedConnection)
        try:
            adapted.run_async(lambda driver: driver.execute_fetchall("BEGIN IMMEDIATE"))
        except sqlite3.Error as error:
            raise DBAPIError.instance(
                "BEGIN IMMEDIATE", None, error, sqlite3.Error, hide_parameters=True
            ) from error

    def on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # Stands in for the pool's rollback-on-return (turned off in make_engine). Reading
        # in_transaction needs no trip to the driver's thread.
        if (
            state.asyncio_safe
            and not state.terminate_only
            and dbapi_connection.driver_connection.in_transaction
        ):
            dbapi_connection.rollback()

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    event.listen(engine.sync_engine, "reset", on_reset)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _upgrade(sync_connection: Any) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = sync_connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (run at every start; a no-op when current)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
