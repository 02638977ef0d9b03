"""SQLite for SQLAlchemy's asyncio layer without a thread hop per statement.

aiosqlite runs every statement on a helper thread and wakes the event loop for each result:
three or four hops per turn cost more than SQLite's own work (a turn's statements take tens of
microseconds; see tests/benchmarks/bench_engine.py). This driver runs them inline on the event
loop instead. The one thing that could stall the loop is waiting for another writer's lock, so
SQLite's own busy handler is off (busy_timeout=0) and a statement that finds the database busy
is retried after an asyncio sleep, until `busy_seconds` have passed; then the error surfaces
as it would after busy_timeout, and the engine answers "try again in a moment".

`make_engine` (bot/storage/db.py) turns the configured `sqlite+aiosqlite://` URL into
`sqlite+inline://`: SQLAlchemy's aiosqlite dialect with this module as its DBAPI, so SQL,
types and pooling stay SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import await_

T = TypeVar("T")

INLINE_DRIVER = "inline"  # the URL's driver name: sqlite+inline://
# How long a statement waits for another writer before it fails with "database is locked".
DEFAULT_BUSY_SECONDS = 5.0
SQLITE_BUSY = 5
# The first retry comes quickly (most locks are one short write transaction), later ones back
# off so a long lock costs few wake-ups.
FIRST_RETRY_S = 0.0005
LONGEST_RETRY_S = 0.05


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return (error.sqlite_errorcode & 0xFF) == SQLITE_BUSY  # extended codes keep it in the low byte


class InlineConnection:
    """The slice of aiosqlite's Connection that SQLAlchemy's adapter calls, run inline."""

    def __init__(self, connection: sqlite3.Connection, busy_seconds: float) -> None:
        self._connection: sqlite3.Connection | None = connection
        self.busy_seconds = busy_seconds

    @property
    def live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self._connection

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """Call now; while the database is busy, sleep (not block) and call again."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        pause = FIRST_RETRY_S
        while True:
            try:
                return call(*args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                now = loop.time()
                if deadline is None:
                    deadline = now + self.busy_seconds
                if now >= deadline:
                    raise
                # A statement that returned SQLITE_BUSY did nothing: calling it again is safe.
                await asyncio.sleep(min(pause, deadline - now))
                pause = min(pause * 2, LONGEST_RETRY_S)

    @property
    def isolation_level(self) -> str | None:
        return self.live.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self.live.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        await self.run(self.live.commit)

    async def rollback(self) -> None:
        await self.run(self.live.rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.live.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class InlineCursor:
    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection.live.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        await self._owner.run(self._cursor.execute, operation, parameters)
        return self

    async def executemany(self, operation: str, rows: Sequence[Sequence[Any]]) -> InlineCursor:
        await self._owner.run(self._cursor.executemany, operation, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Adapted(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def begin_immediate(self) -> None:
        inline: InlineConnection = self._connection  # type: ignore[assignment]
        await_(inline.run(inline.live.execute, "BEGIN IMMEDIATE"))

    # aiosqlite's setter queues onto its thread; here the attribute is simply set.
    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level  # type: ignore[no-any-return]

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite adapter's DBAPI, with this module standing in for aiosqlite."""

    def __init__(self) -> None:
        stand_in = SimpleNamespace(
            Connection=InlineConnection,
            __version__="inline",
            **{
                name: getattr(sqlite3, name)
                for name in (
                    "DatabaseError",
                    "Error",
                    "IntegrityError",
                    "NotSupportedError",
                    "OperationalError",
                    "ProgrammingError",
                    "sqlite_version",
                    "sqlite_version_info",
                )
            },
        )
        super().__init__(stand_in, sqlite3)  # type: ignore[arg-type]

    def connect(
        self, *args: Any, busy_seconds: float = DEFAULT_BUSY_SECONDS, **kwargs: Any
    ) -> _Adapted:
        kwargs.pop("async_creator_fn", None)
        # One connection is used by one task at a time (the pool hands it out), but tasks
        # may run it from different threads' event loops in tests: no same-thread check.
        kwargs["check_same_thread"] = False
        kwargs["timeout"] = 0  # SQLite's own busy wait would block the loop; see run()
        connection = sqlite3.connect(*args, **kwargs)
        return _Adapted(self, InlineConnection(connection, busy_seconds))  # type: ignore[arg-type]


class SQLiteDialect_inline(SQLiteDialect_aiosqlite):
    driver = INLINE_DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> InlineDBAPI:
        return InlineDBAPI()

    def do_begin(self, dbapi_connection: Any) -> None:
        # The driver's deferred BEGIN let two processes both read a dialog step and both
        # accept the same button; IMMEDIATE takes the write lock up front, so turns
        # serialise. (SQLAlchemy wraps what this raises, e.g. "database is locked".)
        dbapi_connection.begin_immediate()


registry.register(f"sqlite.{INLINE_DRIVER}", __name__, "SQLiteDialect_inline")
