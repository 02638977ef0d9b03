"""Statements on a turn's hot path: built once, and on SQLite run in one trip to the driver.

SQLAlchemy runs a statement on aiosqlite as three or four trips to the driver's thread (open a
cursor, execute, fetch the rows, close the cursor), and each trip wakes that thread and then
the event loop, which costs more than SQLite's work on the few rows a turn touches. On SQLite a
Prebuilt statement is compiled once for the engine's dialect and sent with aiosqlite's
execute_fetchall (one trip) on the turn's own connection, so inside its transaction. Values
pass through the column types' own bind and result processors, so what is written and read is
what SQLAlchemy would write and read. Other drivers (asyncpg) execute it through SQLAlchemy.

Only public API: AsyncConnection.get_raw_connection(), the pool's driver_connection, the
compiler's documented attributes, and aiosqlite's Connection.execute_fetchall.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

Processor = Callable[[Any], Any]
Statement = Select[Any] | Insert | Update | Delete
# The one driver whose statements take several trips each under SQLAlchemy.
_ONE_TRIP_DRIVER = "aiosqlite"


class _Compiled:
    """The statement as SQL for one dialect, with where each positional value comes from."""

    def __init__(self, statement: Statement, dialect: Dialect, sets: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=sets)
        names = compiled.positiontup
        # Anything SQLAlchemy would add at execution time (Python-side column defaults,
        # expanding IN lists) has no place here: give every value, or use plain execute().
        if (
            names is None
            or compiled.post_compile_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or not set(names) <= set(compiled.binds)
        ):
            raise ValueError(f"not a one-trip statement: {compiled.string}")
        self.sql = compiled.string
        self.names = tuple(names)
        binds = [compiled.binds[name] for name in names]
        # Values written into the statement itself (e.g. a constant in its WHERE clause).
        self.constants = {
            name: bind.value
            for name, bind in zip(names, binds, strict=True)
            if not bind.required and bind.callable is None
        }
        # The dialect's own types (SQLite's DATETIME stores text, its JSON serialises), as
        # SQLAlchemy's execution uses them.
        self.bind_processors = tuple(
            bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds
        )
        self.result_processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        )

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, process in zip(self.names, self.bind_processors, strict=True):
            value = params[name] if name in params else self.constants[name]
            values.append(value if process is None else process(value))
        return values

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(raw, self.result_processors, strict=True)
        )


class Prebuilt:
    """One Core statement for the hot path. `sets`: the columns an INSERT or UPDATE is given
    (its parameters), as SQLAlchemy would read them off the parameters at execution."""

    def __init__(self, statement: Statement, *, sets: Sequence[str] = ()) -> None:
        self.statement = statement
        self._sets = list(sets) or None
        self._compiled: WeakKeyDictionary[Dialect, _Compiled] = WeakKeyDictionary()

    async def execute(
        self, session: AsyncSession, params: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        """Run inside the session's transaction; the rows it returns, if any."""
        if session.sync_session.autoflush and (session.new or session.dirty or session.deleted):
            # As session.execute() would: what the turn changed so far is what this reads.
            await session.flush()
        connection = await session.connection()
        dialect = connection.dialect
        if dialect.driver != _ONE_TRIP_DRIVER:
            result = await connection.execute(self.statement, dict(params))
            return [tuple(row) for row in result] if result.returns_rows else []
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled(self.statement, dialect, self._sets)
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a connection in a transaction is live
        try:
            found = await driver.execute_fetchall(compiled.sql, compiled.arguments(params))
        except sqlite3.Error as error:
            # As SQLAlchemy raises it, so callers handle one kind of error on every backend.
            raise DBAPIError.instance(
                compiled.sql, None, error, sqlite3.Error, hide_parameters=True
            ) from error
        return [compiled.row(row) for row in found]

    async def first(
        self, session: AsyncSession, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        found = await self.execute(session, params)
        return found[0] if found else None
