"""Database connection: one async engine per process, SQLite pragmas, and the migration run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.storage.sqlite_inline import DEFAULT_BUSY_SECONDS, INLINE_DRIVER

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# PostgreSQL's counterpart of SQLite's busy wait (DEFAULT_BUSY_SECONDS): a turn waiting on a
# lock gives up after this and answers "try again in a moment" instead of hanging (the default
# is to wait forever).
PG_LOCK_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and the single writer overlap. (No busy_timeout: the inline driver
    # waits out another writer's lock itself, without blocking the event loop.)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Let SQLAlchemy, not the driver, decide when transactions begin (the dialect's do_begin
    # issues BEGIN IMMEDIATE; see sqlite_inline).
    dbapi_connection.isolation_level = None


def make_engine(
    url: str, *, sqlite_busy_seconds: float = DEFAULT_BUSY_SECONDS, **kwargs: Any
) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Statements run on the event loop, not on aiosqlite's thread (see sqlite_inline).
        url = url.replace("sqlite+aiosqlite://", f"sqlite+{INLINE_DRIVER}://", 1)
        connect_args = dict(kwargs.pop("connect_args", {}))
        kwargs["connect_args"] = {"busy_seconds": sqlite_busy_seconds, **connect_args}
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
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Session(AsyncSession):
    """AsyncSession that leaves its `async with` block cheaply when nothing is left to clean up.

    AsyncSession's exit runs close() in a task of its own, shielded from cancellation, so a
    connection is always handed back to the pool. After the usual `session.begin()` block the
    transaction is over and the connection is back already: close() then only forgets the
    loaded objects, which needs no I/O, no greenlet and no extra trip through the event loop
    (a measurable share of a short turn)."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self.sync_session.in_transaction():
            await super().__aexit__(type_, value, traceback)
        else:
            self.sync_session.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=Session, expire_on_commit=False)


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
