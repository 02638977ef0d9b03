"""The database briefly locked or its connections cut: the bot answers "try again in a
moment", recovers by itself, and loses no outbox message (each delivered exactly once); claims
the sender could not hand back go out as soon as the lock lifts, not when their lease ends.

"Another process" is real: a second sqlite3 connection holding BEGIN EXCLUSIVE beyond
the busy wait, or a second PostgreSQL session holding ACCESS EXCLUSIVE table locks beyond
lock_timeout, or pg_terminate_backend on every connection of the bot's pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.engine import TRY_AGAIN
from bot.engine.events import Reply
from bot.storage.db import make_engine, make_sessionmaker, migrate
from bot.storage.models import Outbox, utcnow
from scheduler.outbox import NewMessage, enqueue
from scheduler.pacing import Pacer, PacingPolicy
from scheduler.sender import Sender, SenderConfig
from tests.conftest import PG_URL
from tests.echo_dialog import dialog_rows, echo_router
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock

LOCKED_TABLES = "users, chats, dialog_states, outbox"
LEASE = SenderConfig().claim_lease


@dataclass
class Faulty:
    """A migrated database whose lock waits are short, and a way to lock it from outside."""

    backend: str
    engine: AsyncEngine
    lock: Callable[[], contextlib.AbstractAsyncContextManager[None]]
    tag: str = ""  # PostgreSQL application_name of the bot's connections


@pytest.fixture(params=["sqlite", "postgresql"])
async def faulty(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Faulty]:
    if request.param == "sqlite":
        async for value in _sqlite(tmp_path):
            yield value
    else:
        async for value in _postgresql():
            yield value


async def _sqlite(tmp_path: Path) -> AsyncIterator[Faulty]:
    path = tmp_path / "coach.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_seconds=0.1)

    @contextlib.asynccontextmanager
    async def lock() -> AsyncIterator[None]:
        # Taken off the event loop: it may wait for the bot's own writer, whose COMMIT needs
        # the loop (aiosqlite runs statements on its thread and answers through the loop).
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    await migrate(engine)
    yield Faulty("sqlite", engine, lock)
    await engine.dispose()


async def _postgresql() -> AsyncIterator[Faulty]:
    schema = f"t_{secrets.token_hex(6)}"
    tag = f"coach-faults-{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        await admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__})")
    settings = {"search_path": schema, "lock_timeout": "300", "application_name": tag}
    engine = make_engine(PG_URL, connect_args={"server_settings": settings})

    @contextlib.asynccontextmanager
    async def lock() -> AsyncIterator[None]:
        async with admin.connect() as conn:
            await conn.begin()
            await conn.execute(text(f'SET search_path TO "{schema}"'))
            await conn.execute(text(f"LOCK TABLE {LOCKED_TABLES} IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await conn.rollback()

    await migrate(engine)
    try:
        yield Faulty("postgresql", engine, lock, tag)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


class Recorder:
    """A transport that records every delivery; `during_first` is awaited inside the first."""

    platform = "test"

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.during_first: Callable[[], Awaitable[None]] | None = None

    async def deliver(self, message: OutboundMessage) -> Delivery:
        if not self.delivered and self.during_first is not None:
            await self.during_first()
        self.delivered.append(message.outbox_id)
        return Delivery(DeliveryStatus.SENT)


async def _enqueue(engine: AsyncEngine, n: int) -> list[int]:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await enqueue(
            session,
            [NewMessage(f"fault:{i}", "test", f"dm:p{i}", Reply(f"message {i}")) for i in range(n)],
            now=utcnow(),
        )
        return list(await session.scalars(select(Outbox.id).order_by(Outbox.id)))


async def _statuses(engine: AsyncEngine) -> list[str]:
    async with make_sessionmaker(engine)() as session:
        return list(await session.scalars(select(Outbox.status).order_by(Outbox.id)))


def _sender(engine: AsyncEngine, transport: Recorder, **config: Any) -> Sender:
    """The real sender on the real clock, with short leases: a claim stranded by a failed
    write is taken over after a second instead of a minute."""
    return Sender(
        make_sessionmaker(engine),
        transport,
        pacing=PacingPolicy.unlimited(),
        config=SenderConfig(
            poll_interval=0.05,
            claim_lease=timedelta(seconds=1),
            send_lease=timedelta(seconds=2),
            **config,
        ),
    )


async def _until(condition: Callable[[], bool], seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


async def test_locked_database_says_try_again_then_recovers(
    faulty: Faulty, content: ContentBundle, clock: FakeClock
) -> None:
    bot = ChatHarness(build_engine(faulty.engine, content, router=echo_router(), clock=clock))
    ann = bot.person()
    await ann.say("/echo")
    before = await dialog_rows(faulty.engine)
    async with faulty.lock():
        await ann.say("during the lock")
        assert ann.text().strip() == TRY_AGAIN
        newcomer = bot.person("newcomer")
        await newcomer.say("/start")
        assert newcomer.text().strip() == TRY_AGAIN
    assert await dialog_rows(faulty.engine) == before  # the dialog is still open, unchanged
    await ann.say("after the lock")  # no restart, no intervention
    assert "Echo 1: after the lock" in ann.text()
    await bot.person("newcomer").say("/start")
    assert TRY_AGAIN not in bot.person("newcomer").inbox


async def test_sender_rides_out_a_lock_and_loses_no_message(faulty: Faulty) -> None:
    ids = await _enqueue(faulty.engine, 6)
    transport = Recorder()
    sender = _sender(faulty.engine, transport)
    async with faulty.lock():
        sender.start()
        await asyncio.sleep(0.8)  # several claims fail on the lock meanwhile
        assert transport.delivered == []
    try:
        await _until(lambda: len(transport.delivered) >= len(ids))
        await asyncio.sleep(0.2)  # room for a duplicate to show up, if there were one
    finally:
        await sender.stop()
    assert sorted(transport.delivered) == ids  # every message, each once
    assert await _statuses(faulty.engine) == ["sent"] * len(ids)


async def test_a_lock_while_recording_a_delivery_does_not_resend(faulty: Faulty) -> None:
    """The platform accepted the message, then the database is locked before "sent" is
    written: the sender retries the write until the lock goes, and never sends twice."""
    ids = await _enqueue(faulty.engine, 3)
    held = faulty.lock()
    transport = Recorder()
    loop = asyncio.get_running_loop()
    released = asyncio.Event()

    async def lock_now() -> None:
        locked = asyncio.Event()

        async def hold_then_release() -> None:
            async with held:
                locked.set()
                await asyncio.sleep(0.7)
            released.set()

        task = loop.create_task(hold_then_release())
        tasks.append(task)
        await locked.wait()  # the delivery returns with the database locked

    tasks: list[asyncio.Task[None]] = []
    transport.during_first = lock_now
    sender = _sender(faulty.engine, transport, max_in_flight=1)
    sender.start()
    try:
        await _until(lambda: len(transport.delivered) >= len(ids))
        await asyncio.wait_for(released.wait(), 10)
        await asyncio.sleep(0.3)  # room for a duplicate to show up, if there were one
    finally:
        await sender.stop()
        await asyncio.gather(*tasks)
    assert sorted(transport.delivered) == ids
    assert await _statuses(faulty.engine) == ["sent"] * len(ids)


async def test_postgresql_pool_recovers_after_its_connections_are_killed(
    content: ContentBundle, clock: FakeClock
) -> None:
    async for faulty in _postgresql():
        bot = ChatHarness(build_engine(faulty.engine, content, clock=clock))
        ann = bot.person()
        await ann.say("/start")
        admin = make_engine(PG_URL)
        async with admin.begin() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :tag"
                ),
                {"tag": faulty.tag},
            )
        await admin.dispose()
        assert killed and killed >= 1
        # The first turn finds its pooled connection dead: an apology, and SQLAlchemy drops
        # the whole pool. Every later turn gets a fresh connection, with no restart.
        await ann.say("/help")
        apologies = int(ann.text().strip() == TRY_AGAIN)
        for _ in range(3):
            await ann.say("/help")
            assert "/start" in ann.text()
        assert apologies <= 1


async def _claim_tokens(engine: AsyncEngine) -> list[str | None]:
    async with make_sessionmaker(engine)() as session:
        return list(await session.scalars(select(Outbox.claim_token).order_by(Outbox.id)))


async def _strand_claims(faulty: Faulty, sender: Sender, *, at_hand_back: bool) -> None:
    """The sender claims every row and waits its turn (a platform hold); meanwhile the
    database is locked, and the batch meets the lock either handing its claims back (a
    longer hold came in) or beginning its sends (the hold is over). Either way the rows stay
    claimed by this sender when the lock goes."""
    sender.pacer.hold(1.0)
    drain = asyncio.create_task(sender.drain_once())
    for _ in range(200):
        await asyncio.sleep(0.02)
        try:
            tokens = await _claim_tokens(faulty.engine)
        except DBAPIError:  # the sender's own writes outlasted the short busy wait
            continue
        if all(tokens):
            break
    async with faulty.lock():
        if at_hand_back:
            sender.pacer.hold(100)  # longer than half the lease: the batch goes back
        [outcome] = await asyncio.gather(drain, return_exceptions=True)
    if at_hand_back:
        assert isinstance(outcome, DBAPIError)  # handing the batch back failed
    else:
        assert outcome == len(tokens)  # every send began, and failed at its first write
    assert await _claim_tokens(faulty.engine) == tokens  # all still claimed
    sender.pacer = Pacer(PacingPolicy.unlimited())  # as if the hold were over


@pytest.mark.parametrize("at_hand_back", [True, False], ids=["hand-back", "send"])
async def test_claims_stranded_by_a_lock_go_out_once_it_lifts_not_after_the_lease(
    faulty: Faulty, at_hand_back: bool
) -> None:
    """The sender still holds the claims the lock made it drop: it hands them back at its
    next drain, and the rows go out within moments instead of after the 60 s lease."""
    ids = await _enqueue(faulty.engine, 4)
    transport = Recorder()
    sender = Sender(
        make_sessionmaker(faulty.engine),
        transport,
        pacing=PacingPolicy.unlimited(),
        config=SenderConfig(poll_interval=0.05),  # the default leases
    )
    await _strand_claims(faulty, sender, at_hand_back=at_hand_back)
    sender.start()
    try:
        # Their lease would free them after 60 s; they are due at once.
        await _until(lambda: len(transport.delivered) >= len(ids), seconds=10)
        await asyncio.sleep(0.2)  # room for a duplicate to show up, if there were one
    finally:
        await sender.stop()
    assert sorted(transport.delivered) == ids
    assert await _statuses(faulty.engine) == ["sent"] * len(ids)


async def test_a_claim_taken_over_before_the_hand_back_stays_with_its_new_owner(
    faulty: Faulty,
) -> None:
    """The lock outlasted the lease and another worker took the rows over: the stranded
    worker's late hand-back is fenced by its old token and touches none of them."""
    ids = await _enqueue(faulty.engine, 3)
    clock = FakeClock(utcnow())
    sessions = make_sessionmaker(faulty.engine)
    late = Recorder()
    stranded = Sender(sessions, late, pacing=PacingPolicy.unlimited(), clock=clock)
    await _strand_claims(faulty, stranded, at_hand_back=True)
    owner = Recorder()
    other = Sender(
        sessions,
        owner,
        pacing=PacingPolicy.unlimited(),
        clock=FakeClock(clock.now + LEASE + timedelta(seconds=1)),
    )
    taken = await other._claim()
    assert [row.id for row in taken] == ids
    assert await stranded.drain_once() == 0  # hands back nothing of theirs, claims nothing
    assert await _claim_tokens(faulty.engine) == [taken[0].token] * len(ids)
    for row in taken:
        await other._in_flight.acquire()
        await other._deliver(row)
    assert late.delivered == [] and owner.delivered == ids
    assert await _statuses(faulty.engine) == ["sent"] * len(ids)
