"""One person's dialog row (dialog_states), read and written with prebuilt Core statements.

Every turn reads this row and most turns write it, so it skips the ORM's identity map and unit
of work (which cost more than SQLite's own work; see tests/benchmarks/bench_engine.py). The
JSON is read as text and parsed here into the dialog kind's state model (a plain dict for a
kind without one), which gives handlers a fresh object to change in place and keeps the stored
original for telling whether anything changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, Text, and_, bindparam, cast, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine import payloads
from bot.engine.context import ActiveDialog
from bot.engine.events import Reply
from bot.engine.state_model import StateModel
from bot.storage.models import DialogState
from bot.storage.prebuilt import Prebuilt

_TABLE: Table = DialogState.__table__  # type: ignore[assignment]
# What a turn needs of the row, for adding to the query that finds it (engine._who_and_where).
COLUMNS = (
    DialogState.kind.label("dialog_kind"),
    DialogState.nonce.label("dialog_nonce"),
    DialogState.step.label("dialog_step"),
    cast(DialogState.data, Text).label("dialog_data"),
)
# Names that differ from the columns': an UPDATE's own values take the column names.
_KEY = and_(
    _TABLE.c.user_id == bindparam("key_user"),
    _TABLE.c.chat_id == bindparam("key_chat"),
    _TABLE.c.thread_id == bindparam("key_thread"),
)
_CHANGES = ("kind", "nonce", "step", "data", "updated_at")
_INSERT = Prebuilt(insert(_TABLE), sets=("user_id", "chat_id", "thread_id", *_CHANGES, "question"))
_UPDATE = Prebuilt(update(_TABLE).where(_KEY), sets=_CHANGES)
# A new question (another step or dialog) replaces the one kept for stale presses.
_UPDATE_ASKING = Prebuilt(update(_TABLE).where(_KEY), sets=(*_CHANGES, "question"))
_DELETE = Prebuilt(delete(_TABLE).where(_KEY))
_QUESTION = Prebuilt(select(_TABLE.c.question).where(_KEY))

# Leave the kept question as it is (the turn asked nothing new); [] keeps none.
KEEP = None


@dataclass(frozen=True)
class DialogKey:
    user_id: int
    chat_id: int
    thread_id: str

    def params(self) -> dict[str, Any]:
        return {"key_user": self.user_id, "key_chat": self.chat_id, "key_thread": self.thread_id}


@dataclass(frozen=True)
class StoredDialog:
    """The row as the turn found it."""

    kind: str
    nonce: str
    step: int
    data_json: str

    def active(self, state: type[StateModel] | None) -> ActiveDialog[Any]:
        """The row as the turn's dialog, its data as `state` (the kind's model); raises
        pydantic.ValidationError for data in a shape this release does not read."""
        data = state.model_validate_json(self.data_json) if state else json.loads(self.data_json)
        return ActiveDialog(self.kind, self.nonce, self.step, data)

    def same_as(self, dialog: ActiveDialog[Any]) -> bool:
        return (self.kind, self.nonce, self.step) == (
            dialog.kind,
            dialog.nonce,
            dialog.step,
        ) and json.loads(self.data_json) == as_stored(dialog.data)


def as_stored(data: StateModel | dict[str, Any]) -> dict[str, Any]:
    """The dialog's data as the JSON column holds it."""
    return data.model_dump(mode="json") if isinstance(data, StateModel) else data


def stored(values: Sequence[Any]) -> StoredDialog | None:
    """The dialog from the values of COLUMNS, in their order (None: no dialog open)."""
    kind, nonce, step, data_json = values
    if kind is None:
        return None
    return StoredDialog(kind, nonce, step, data_json)


async def save(
    session: AsyncSession,
    key: DialogKey,
    before: StoredDialog | None,
    after: ActiveDialog[Any] | None,
    now: datetime,
    question: list[dict[str, Any]] | None = KEEP,
) -> None:
    """Write the dialog as the turn left it: gone, new, changed, or (often) untouched; with
    `question`, the replies that asked its current step (see asked())."""
    if after is None and before is None:
        return
    if after is not None and before is not None and before.same_as(after):
        return  # a refused button or a command beside the dialog: the row stays as it was
    if after is None:
        await _DELETE.execute(session, key.params())
        return
    values = {
        "kind": after.kind,
        "nonce": after.nonce,
        "step": after.step,
        "data": as_stored(after.data),
        "updated_at": now,
    }
    if before is None:
        await _INSERT.execute(
            session,
            {
                "user_id": key.user_id,
                "chat_id": key.chat_id,
                "thread_id": key.thread_id,
                "question": question,
                **values,
            },
        )
    elif question is not KEEP:
        await _UPDATE_ASKING.execute(session, {**key.params(), **values, "question": question})
    else:
        await _UPDATE.execute(session, {**key.params(), **values})


def asked(dialog: ActiveDialog[Any], replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """The replies offering buttons for the dialog's current step (its open question), as
    stored; empty when the step asks nothing with buttons."""
    prefix = payloads.dialog_payload(dialog.nonce, dialog.step, "x")[:-1]
    asking = [
        reply.to_dict()
        for reply in replies
        if any(b.payload.startswith(prefix) for b in reply.flat_buttons())
    ]
    return asking


async def question(session: AsyncSession, key: DialogKey) -> list[Reply]:
    """The open question's replies, kept when it was asked (none for a row without)."""
    row = await _QUESTION.first(session, key.params())
    stored = row[0] if row is not None else None
    if isinstance(stored, str):  # the JSON as text on drivers that do not parse it
        stored = json.loads(stored)
    return [Reply.from_dict(item) for item in stored or []]
