"""Prebuilt statements (bot/storage/prebuilt.py) read and write exactly what SQLAlchemy reads
and writes, inside the session's transaction, seeing what the session has not flushed yet, and
fail with SQLAlchemy's errors: on SQLite they bypass SQLAlchemy's execution, so these are the
promises that must hold there as they do on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_sessionmaker
from bot.storage.models import Chat, Consent, DialogState, User
from bot.storage.prebuilt import Prebuilt

WHEN = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
_USERS = cast(Table, User.__table__)
_DIALOGS = cast(Table, DialogState.__table__)
_USER = select(*_USERS.c).where(User.platform_user_id == bindparam("who"))
_DIALOG = select(*_DIALOGS.c).where(DialogState.user_id == bindparam("user"))
_NEW_DIALOG = Prebuilt(
    insert(_DIALOGS),
    sets=("user_id", "chat_id", "thread_id", "kind", "nonce", "step", "data", "updated_at"),
)


async def _person_and_chat(db: AsyncEngine) -> tuple[int, int]:
    async with make_sessionmaker(db)() as session, session.begin():
        user = User(
            platform="test",
            platform_user_id="ann",
            display_name="Ann",
            locale=None,
            unreachable=True,
            created_at=WHEN,
            last_seen_at=WHEN + timedelta(minutes=5),
        )
        chat = Chat(platform="test", platform_chat_id="dm:ann", is_private=True, title="")
        session.add_all([user, chat])
        await session.flush()
        return user.id, chat.id


def _dialog(user_id: int, chat_id: int, thread: str = "") -> dict[str, Any]:
    return {
        "user_id": user_id,
        "chat_id": chat_id,
        "thread_id": thread,
        "kind": "echo",
        "nonce": "n1",
        "step": 2,
        "data": {"said": ["red", "blue"], "nested": {"n": 1, "none": None}},
        # Another zone: what is stored is the same instant in UTC.
        "updated_at": WHEN.astimezone(timezone(timedelta(hours=2))),
    }


async def test_rows_are_read_as_sqlalchemy_reads_them(db: AsyncEngine) -> None:
    await _person_and_chat(db)
    async with make_sessionmaker(db)() as session, session.begin():
        ours = await Prebuilt(_USER).execute(session, {"who": "ann"})
        theirs = [tuple(row) for row in await session.execute(_USER, {"who": "ann"})]
    assert ours == theirs
    [row] = ours
    assert row[_USERS.c.keys().index("unreachable")] is True
    assert row[_USERS.c.keys().index("created_at")] == WHEN
    assert row[_USERS.c.keys().index("last_seen_at")].tzinfo == UTC
    assert row[_USERS.c.keys().index("locale")] is None


async def test_values_are_written_as_sqlalchemy_writes_them(db: AsyncEngine) -> None:
    user_id, chat_id = await _person_and_chat(db)
    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        await _NEW_DIALOG.execute(session, _dialog(user_id, chat_id, "ours"))
        await session.execute(insert(_DIALOGS), [_dialog(user_id, chat_id, "theirs")])
    async with db.connect() as conn:  # as stored, before any type's processing
        stored = {
            thread: (updated_at, data)
            for thread, updated_at, data in await conn.exec_driver_sql(
                "SELECT thread_id, CAST(updated_at AS TEXT), CAST(data AS TEXT) FROM dialog_states"
            )
        }
    assert stored["ours"] == stored["theirs"]
    async with sessions() as session:
        row = await session.get(DialogState, (user_id, chat_id, "ours"))
    assert row is not None
    assert (row.kind, row.nonce, row.step) == ("echo", "n1", 2)
    assert row.data == {"said": ["red", "blue"], "nested": {"n": 1, "none": None}}
    assert row.updated_at == WHEN


async def test_an_update_sets_only_the_columns_it_is_given(db: AsyncEngine) -> None:
    user_id, chat_id = await _person_and_chat(db)
    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        await _NEW_DIALOG.execute(session, _dialog(user_id, chat_id))
    step_only = Prebuilt(
        update(_DIALOGS).where(DialogState.user_id == bindparam("user")), sets=("step",)
    )
    async with sessions() as session, session.begin():
        await step_only.execute(session, {"user": user_id, "step": 3})
        row = await Prebuilt(_DIALOG).first(session, {"user": user_id})
    assert row is not None
    by_name = dict(zip(_DIALOGS.c.keys(), row, strict=True))
    assert (by_name["step"], by_name["kind"], by_name["updated_at"]) == (3, "echo", WHEN)


async def test_it_sees_what_the_session_has_not_flushed_yet(db: AsyncEngine) -> None:
    user_id, _ = await _person_and_chat(db)
    granted = Prebuilt(select(Consent.granted).where(Consent.user_id == bindparam("user")))
    async with make_sessionmaker(db)() as session, session.begin():
        session.add(Consent(user_id=user_id, topic="health", granted=True, decided_at=WHEN))
        assert await granted.first(session, {"user": user_id}) == (True,)


async def test_it_runs_inside_the_sessions_transaction(db: AsyncEngine) -> None:
    user_id, chat_id = await _person_and_chat(db)
    sessions = make_sessionmaker(db)
    async with sessions() as session:
        await _NEW_DIALOG.execute(session, _dialog(user_id, chat_id))  # begins a transaction
        assert await Prebuilt(_DIALOG).first(session, {"user": user_id}) is not None
        await session.rollback()
    async with sessions() as session:
        assert await Prebuilt(_DIALOG).first(session, {"user": user_id}) is None


async def test_database_errors_are_sqlalchemys(db: AsyncEngine) -> None:
    user_id, chat_id = await _person_and_chat(db)
    async with make_sessionmaker(db)() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await _NEW_DIALOG.execute(session, _dialog(user_id, chat_id))
                await _NEW_DIALOG.execute(session, _dialog(user_id, chat_id))


async def test_a_statement_that_relies_on_column_defaults_is_refused(
    sqlite_db: AsyncEngine,
) -> None:
    """SQLAlchemy fills Python-side defaults in at execution; a Prebuilt statement on SQLite
    does not, so it must be given every value rather than store a row without them."""
    partial = Prebuilt(insert(_USERS), sets=("platform", "platform_user_id"))
    async with make_sessionmaker(sqlite_db)() as session, session.begin():
        with pytest.raises(ValueError, match="not a one-trip statement"):
            await partial.execute(session, {"platform": "test", "platform_user_id": "bob"})
