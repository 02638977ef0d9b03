"""Writing to the durable outbox: the one way anything proactive leaves the bot.

Call `enqueue()` inside the same transaction that decides to send (a sweep advancing a rule,
a handler confirming a broadcast): the message exists exactly when the decision does. The
`dedupe_key` is unique, so a decision re-run after a crash cannot write a second message.

Key conventions (prefixes let a rule's pending messages be cancelled together):
`remind:<rule id>:<occurrence epoch>`, `snooze:<rule id>:<occurrence epoch>`,
`checkin:<check-in id>`; other features pick their own prefix (e.g. `club:`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.events import Reply
from bot.storage.models import Chat, Outbox

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # the platform rejected it for good, or retries ran out
UNREACHABLE = "unreachable"  # the person blocked us / the bot left the chat
EXPIRED = "expired"  # not delivered before expires_at (e.g. a reminder after a long outage)
FINAL_STATUSES = (SENT, FAILED, UNREACHABLE, EXPIRED)

OUTBOX = cast(Table, Outbox.__table__)


@dataclass(frozen=True)
class NewMessage:
    dedupe_key: str
    platform: str
    chat_id: str  # the platform's chat id
    reply: Reply
    user_id: int | None = None  # set for personal messages, so forgetting a person drops them
    thread_id: str = ""
    is_private: bool = True
    not_before: datetime | None = None  # None: as soon as possible
    expires_at: datetime | None = None  # None: never stale

    @classmethod
    def to(
        cls,
        chat: Chat,
        *,
        dedupe_key: str,
        reply: Reply,
        user_id: int | None = None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> NewMessage:
        """A message to a stored chat: its platform, platform id and kind come from the row."""
        return cls(
            dedupe_key,
            chat.platform,
            chat.platform_chat_id,
            reply,
            user_id=user_id,
            is_private=chat.is_private,
            not_before=not_before,
            expires_at=expires_at,
        )

    def row(self, now: datetime) -> dict[str, Any]:
        if len(self.dedupe_key) > 128:
            raise ValueError("dedupe_key longer than 128 characters")
        return {
            "dedupe_key": self.dedupe_key,
            "platform": self.platform,
            "platform_chat_id": self.chat_id,
            "thread_id": self.thread_id,
            "is_private": self.is_private,
            "user_id": self.user_id,
            "reply": self.reply.to_dict(),
            "status": PENDING,
            "attempts": 0,
            "not_before": self.not_before or now,
            "expires_at": self.expires_at,
            "created_at": now,
        }


async def enqueue(session: AsyncSession, messages: Sequence[NewMessage], *, now: datetime) -> int:
    """Add messages to the outbox; ones whose dedupe_key exists are skipped. Returns how many
    were added."""
    if not messages:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OUTBOX.c.id)
    )
    result = await session.execute(statement, [m.row(now) for m in messages])
    return len(result.all())


async def cancel_pending(session: AsyncSession, *prefixes: str) -> int:
    """Drop messages not yet sent whose dedupe_key starts with any prefix (a paused rule)."""
    removed = 0
    for prefix in prefixes:
        result = await session.execute(
            delete(Outbox).where(
                Outbox.status == PENDING, Outbox.dedupe_key.startswith(prefix, autoescape=True)
            )
        )
        removed += _rowcount(result)
    return removed


async def depth(session: AsyncSession) -> tuple[int, datetime | None]:
    """Pending messages and the oldest one's due time (for health checks and metrics)."""
    row = (
        await session.execute(
            select(func.count(), func.min(Outbox.not_before)).where(Outbox.status == PENDING)
        )
    ).one()
    return int(row[0]), row[1]


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
