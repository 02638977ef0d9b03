"""Everything stored about one person, found from the schema itself: count, export, erase.

A row is about a person when
- it hangs off their `users` row through foreign keys that cascade on delete (the schema's way
  of saying "owned by": consents, reports, reminders, their private chats and what hangs off
  those), or
- a column named `platform_user_id` holds their platform id, or one named `platform_chat_id`
  holds the id of one of their private chats (e.g. outbox messages addressed to them).

New tables that follow these conventions are covered without a change here; the privacy tests
scan every table of the schema after /forget to keep it that way. Foreign keys to users that do
not cascade (SET NULL) mark rows that merely mention a person: the database clears the
reference when the person is deleted, and the row stays.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Base, Chat, User

PLATFORM_USER_COLUMN = "platform_user_id"
PLATFORM_CHAT_COLUMN = "platform_chat_id"
EXPORT_FORMAT = "corecoach-export/1"
# /export files go to COACH_DATA_DIR/exports; the retention job deletes them after a day.
EXPORTS_SUBDIR = "exports"


@dataclass(frozen=True)
class Subject:
    """Who the rows are about: the users row and the platform ids that identify them."""

    user_id: int
    platform: str
    platform_user_id: str
    private_chat_ids: tuple[str, ...]  # the platform ids of their private chats with the bot


async def subject_for(session: AsyncSession, user: User) -> Subject:
    chats = await session.scalars(
        select(Chat.platform_chat_id).where(Chat.private_user_id == user.id)
    )
    return Subject(user.id, user.platform, user.platform_user_id, tuple(chats))


def selections(subject: Subject) -> dict[Table, ColumnElement[bool]]:
    """Per table, the condition picking the subject's rows; parents before children."""
    users = Base.metadata.tables[User.__tablename__]
    found: dict[Table, ColumnElement[bool]] = {}
    for table in Base.metadata.sorted_tables:
        conditions: list[ColumnElement[bool]] = []
        if table is users:
            conditions.append(users.c.id == subject.user_id)
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent not in found or (fk.ondelete or "").upper() != "CASCADE":
                continue
            if parent is users:
                conditions.append(fk.parent == subject.user_id)
            else:
                conditions.append(fk.parent.in_(select(fk.column).where(found[parent])))
        by_platform_id = _platform_id_condition(table, subject)
        if by_platform_id is not None:
            conditions.append(by_platform_id)
        if conditions:
            found[table] = or_(*conditions)
    return found


def _platform_id_condition(table: Table, subject: Subject) -> ColumnElement[bool] | None:
    columns = table.c
    matches: list[ColumnElement[bool]] = []
    if PLATFORM_USER_COLUMN in columns:
        matches.append(columns[PLATFORM_USER_COLUMN] == subject.platform_user_id)
    if PLATFORM_CHAT_COLUMN in columns:
        chat_ids = list(subject.private_chat_ids)
        matches.append(columns[PLATFORM_CHAT_COLUMN].in_(chat_ids) if chat_ids else false())
    if not matches:
        return None
    match = or_(*matches)
    # Ids are only unique per platform: "123" on Telegram is someone else on Discord.
    return and_(columns["platform"] == subject.platform, match) if "platform" in columns else match


async def count(session: AsyncSession, user: User) -> dict[str, int]:
    """How many rows each table holds about this person (tables with none are left out)."""
    counts: dict[str, int] = {}
    for table, condition in selections(await subject_for(session, user)).items():
        n = int(await session.scalar(select(func.count()).select_from(table).where(condition)) or 0)
        if n:
            counts[table.name] = n
    return counts


async def export(session: AsyncSession, user: User, now: datetime) -> dict[str, Any]:
    """Every row about this person, table by table, as JSON-ready data."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, condition in selections(await subject_for(session, user)).items():
        rows = (await session.execute(select(table).where(condition))).mappings().all()
        if rows:
            tables[table.name] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
    return {"format": EXPORT_FORMAT, "exported_at": now.isoformat(), "tables": tables}


async def erase(session: AsyncSession, user: User) -> dict[str, int]:
    """Delete every row about this person in the session's transaction; rows per table.

    Explicit deletes, children first, rather than only the users row's cascades: the counts
    come out per table, and nothing depends on a backend enforcing foreign keys. The cascades
    still back this up (tests check both)."""
    chosen = selections(await subject_for(session, user))
    await session.flush()  # pending changes to rows about to go (e.g. last_seen_at)
    removed: dict[str, int] = {}
    for table, condition in reversed(chosen.items()):
        result = await session.execute(delete(table).where(condition))
        n = int(getattr(result, "rowcount", 0) or 0)
        if n:
            removed[table.name] = n
    # The ORM copies of deleted rows must never be flushed again in this transaction.
    session.expunge_all()
    return removed


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value
