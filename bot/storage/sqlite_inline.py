"""SQLite for SQLAlchemy's asyncio layer without a thread hop, or a coroutine, per statement.

aiosqlite runs every statement on a helper thread and wakes the event loop for each result;
SQLAlchemy's asyncio adapter then wraps each call in a coroutine, an asyncio lock and two
greenlet switches. A turn's statements take SQLite tens of microseconds, so that wrapping cost
more than the work. This driver calls sqlite3 directly, on the event loop, from the greenlet
SQLAlchemy's asyncio layer runs its sync code in.

The one thing that could stall the loop is waiting for another writer's lock, so SQLite's own
busy handler is off (timeout=0). A statement that finds the database busy is retried after an
asyncio sleep (awaited from the greenlet, so the loop serves other chats meanwhile) until
`busy_seconds` have passed; then the error surfaces as it would after busy_timeout, and the
engine answers "try again in a moment".

`make_engine` (bot/storage/db.py) turns the configured `sqlite+aiosqlite://` URL into
`sqlite+inline://`: SQLAlchemy's aiosqlite dialect with this module as its DBAPI, so SQL,
types and pooling stay SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Callable, Generator, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
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
    """A sqlite3 connection whose calls wait out another writer's lock in asyncio sleeps."""

    def __init__(self, connection: sqlite3.Connection, busy_seconds: float) -> None:
        self._connection: sqlite3.Connection | None = connection
        self.busy_seconds = busy_seconds

    @property
    def live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self._connection

    def run(self, call: Callable[..., T], *args: Any) -> T:
        """Call now; only if the database is busy, sleep (not block) and call again. Runs in
        SQLAlchemy's greenlet, which is what lets a plain function await the sleep."""
        try:
            return call(*args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        return await_(self._retry_while_busy(call, args))

    async def _retry_while_busy(self, call: Callable[..., T], args: Sequence[Any]) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_seconds
        pause = FIRST_RETRY_S
        while True:
            # A statement that returned SQLITE_BUSY did nothing: calling it again is safe.
            await asyncio.sleep(max(0.0, min(pause, deadline - loop.time())))
            try:
                return call(*args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or loop.time() >= deadline:
                    raise
            pause = min(pause * 2, LONGEST_RETRY_S)

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _Ready:
    """An awaitable that is already done. SQLAlchemy's AsyncConnection.execute insists that
    the driver awaited something (its check against sync drivers); awaiting this costs a
    greenlet switch and no trip through the event loop."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # a generator that finishes at once


_READY = _Ready()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's adapted cursor over a plain sqlite3 cursor: every call is synchronous;
    rows are fetched at once (SQLite has them in memory; the base class buffers them)."""

    __slots__ = ()
    _awaitable_cursor_close = False
    _connection: InlineConnection  # type: ignore[assignment]
    _cursor: sqlite3.Cursor  # type: ignore[assignment]

    def _make_new_cursor(self, connection: Any) -> Any:
        return connection.live.cursor()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            if parameters is None:
                self._connection.run(self._cursor.execute, operation)
            else:
                self._connection.run(self._cursor.execute, operation, parameters)
            if self._cursor.description:
                self._rows = collections.deque(self._cursor.fetchall())
            await_(_READY)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            self._connection.run(self._cursor.executemany, operation, seq_of_parameters)
            await_(_READY)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()

    def setinputsizes(self, *_sizes: Any) -> None:
        return None

    def nextset(self) -> None:
        return None


class _Adapted(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, every call made synchronously."""

    __slots__ = ()
    _cursor_cls = _Cursor
    _connection: InlineConnection  # type: ignore[assignment]

    @property
    def isolation_level(self) -> str | None:
        return self._connection.live.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._connection.live.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.live.create_function(*args, **kwargs)

    def begin_immediate(self) -> None:
        self._call(lambda live: live.execute("BEGIN IMMEDIATE"))

    def commit(self) -> None:
        self._call(lambda live: live.commit())

    def rollback(self) -> None:
        if self._connection._connection is not None:
            self._call(lambda live: live.rollback())

    def close(self) -> None:
        self._connection.stop()

    def _call(self, call: Callable[[sqlite3.Connection], object]) -> None:
        try:
            inline = self._connection
            inline.run(call, inline.live)
        except Exception as error:
            self._handle_exception(error)

    async def _terminate_graceful_close(self) -> None:
        self._connection.stop()

    def _terminate_force_close(self) -> None:
        self._connection.stop()


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite adapter's DBAPI, with this module standing in for aiosqlite."""

    def __init__(self) -> None:
        stand_in = SimpleNamespace(
            Connection=SimpleNamespace(stop=InlineConnection.stop),  # "has terminate"
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
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> InlineDBAPI:
        return InlineDBAPI()

    def do_begin(self, dbapi_connection: Any) -> None:
        # The driver's deferred BEGIN let two processes both read a dialog step and both
        # accept the same button; IMMEDIATE takes the write lock up front, so turns
        # serialise. (SQLAlchemy wraps what this raises, e.g. "database is locked".)
        dbapi_connection.begin_immediate()


registry.register(f"sqlite.{INLINE_DRIVER}", __name__, "SQLiteDialect_inline")
