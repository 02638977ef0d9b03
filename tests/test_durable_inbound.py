"""The stored inbound update (bot/storage/inbound.py) and the engine's receipt, on SQLite and
PostgreSQL: stored once, answered in the turn's own transaction, and claimed by one worker at a
time with a lease another worker takes over once it runs out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.events import Actor, Inbound, Place
from bot.storage import inbound
from bot.storage.db import make_sessionmaker
from bot.storage.inbound import CLAIM_LEASE, Receipt
from bot.storage.models import InboundUpdate
from tests.echo_dialog import echo_engine, said
from tests.harness import FakeClock

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ANN = Actor("test", "ann", display_name="Ann")
DM = Place("dm:ann", is_private=True)


def _says(text: str) -> Inbound:
    return Inbound(ANN, DM, text=text)


async def _rows(db: AsyncEngine) -> list[tuple[str, str, object]]:
    async with make_sessionmaker(db)() as session:
        result = await session.execute(
            select(InboundUpdate.update_key, InboundUpdate.status, InboundUpdate.replies).order_by(
                InboundUpdate.id
            )
        )
        return [tuple(row) for row in result.all()]  # type: ignore[misc]


async def test_an_update_is_stored_once(db: AsyncEngine) -> None:
    sessions = make_sessionmaker(db)
    first = await inbound.store(sessions, "test", [("1", {"n": 1}), ("2", {"n": 2})], NOW)
    again = await inbound.store(sessions, "test", [("2", {"n": 2}), ("3", {"n": 3})], NOW)
    assert (first, again) == ({"1", "2"}, {"3"})  # the redelivered "2" is not new
    assert [key for key, _, _ in await _rows(db)] == ["1", "2", "3"]


async def test_the_turn_writes_its_replies_to_its_update_in_its_transaction(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    sessions = make_sessionmaker(db)
    engine = echo_engine(db, content, clock)
    await inbound.store(sessions, "test", [("1", {}), ("2", {}), ("3", {})], NOW)
    turn = await engine.handle(Inbound(ANN, DM, command="echo"), Receipt("test", "1"))
    [(_, status, replies)] = (await _rows(db))[:1]
    assert status == inbound.ANSWERED
    assert replies == [reply.to_dict() for reply in turn.replies]
    # A turn that fails rolls back its receipt with everything else: still waiting.
    failed = await engine.handle(_says("boom"), Receipt("test", "2"))
    assert failed.failure == "error"
    assert (await _rows(db))[1][1:] == (inbound.RECEIVED, None)
    # The same update again (a second worker, a recovered row): not run twice.
    await engine.handle(_says("red"), Receipt("test", "3"))
    again = await engine.handle(_says("red"), Receipt("test", "3"))
    assert again.duplicate and again.replies == []
    assert await said(db) == [["red"]]


async def test_done_forgets_the_text_and_prune_the_key_after_a_day(db: AsyncEngine) -> None:
    sessions = make_sessionmaker(db)
    await inbound.store(sessions, "test", [("1", {"text": "my abs are sore"})], NOW)
    await inbound.mark_done(sessions, "test", ["1"])
    async with sessions() as session:
        row = await session.scalar(select(InboundUpdate))
    assert row is not None and (row.status, row.payload, row.replies) == ("done", None, None)
    assert await inbound.prune(sessions, NOW + timedelta(hours=23)) == 0
    assert await inbound.prune(sessions, NOW + timedelta(days=1, seconds=1)) == 1


async def test_a_claim_is_taken_over_only_after_its_lease(db: AsyncEngine) -> None:
    sessions = make_sessionmaker(db)
    await inbound.store(sessions, "test", [("1", {"n": 1}), ("2", {"n": 2})], NOW)
    await inbound.mark_done(sessions, "test", ["2"])
    # The storing worker holds the lease: nobody else takes the row...
    assert await inbound.claim_open(sessions, "test", NOW + CLAIM_LEASE / 2) == []
    # ...until it runs out (the worker died); done rows are never handed out.
    later = NOW + CLAIM_LEASE + timedelta(seconds=1)
    [taken] = await inbound.claim_open(sessions, "test", later)
    assert (taken.key, taken.payload, taken.replies) == ("1", {"n": 1}, None)
    # The taker now holds a fresh lease; a restarted sole process takes everything at once.
    assert await inbound.claim_open(sessions, "test", later) == []
    [again] = await inbound.claim_open(sessions, "test", later, take_over=True)
    assert again.key == "1"


async def test_two_workers_claiming_at_once_take_different_rows(db: AsyncEngine) -> None:
    sessions = make_sessionmaker(db)
    keys = [str(n) for n in range(40)]
    await inbound.store(sessions, "test", [(k, {"k": k}) for k in keys], NOW)
    later = NOW + CLAIM_LEASE + timedelta(seconds=1)
    claims = await asyncio.gather(
        *(inbound.claim_open(make_sessionmaker(db), "test", later, limit=25) for _ in range(2))
    )
    taken = [row.key for claim in claims for row in claim]
    assert sorted(taken, key=int) == keys  # every row, each by one worker


async def test_updates_finished_together_are_marked_done_in_one_transaction(
    db: AsyncEngine,
) -> None:
    sessions = make_sessionmaker(db)
    keys = [str(n) for n in range(20)]
    await inbound.store(sessions, "test", [(k, {"k": k}) for k in keys], NOW)
    transactions = 0

    @contextlib.asynccontextmanager
    async def counted() -> AsyncIterator[None]:
        nonlocal transactions
        transactions += 1
        yield

    marks = inbound.DoneMarks(sessions, "test", counted)
    await asyncio.gather(*(marks.mark(k) for k in keys))
    assert {status for _, status, _ in await _rows(db)} == {inbound.DONE}
    # The first mark's transaction, then one for the 19 that finished while it ran.
    assert transactions == 2
