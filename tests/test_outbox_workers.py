"""Two sender processes' worth of workers on one PostgreSQL outbox: every message goes out
exactly once, and both workers take part (SKIP LOCKED claims plus the claim-token fence)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.events import Reply
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import Outbox, utcnow
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender, SenderConfig
from tests.conftest import PG_URL

MESSAGES = 160


class SharedRecorder:
    """One recipient-side log for both workers: which outbox ids arrived, from whom."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[int, str]] = []
        self.rng = random.Random(3)
        self.all_arrived = asyncio.Event()

    def transport(self, worker: str) -> WorkerTransport:
        return WorkerTransport(self, worker)


class WorkerTransport:
    platform = "test"

    def __init__(self, recorder: SharedRecorder, worker: str) -> None:
        self.recorder, self.worker = recorder, worker

    async def deliver(self, message: OutboundMessage) -> Delivery:
        # Real network calls take a moment; the pause lets the other worker interleave.
        await asyncio.sleep(self.recorder.rng.random() * 0.002)
        self.recorder.deliveries.append((message.outbox_id, self.worker))
        if len(self.recorder.deliveries) >= MESSAGES:
            self.recorder.all_arrived.set()
        return Delivery(DeliveryStatus.SENT)


async def test_two_workers_share_the_outbox_without_duplicates(db: AsyncEngine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite deployments run one process; several workers need PostgreSQL")
    async with db.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    # A second engine with its own connection pool: as separate as another process's.
    other = make_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        first_sessions, second_sessions = make_sessionmaker(db), make_sessionmaker(other)
        async with first_sessions() as session, session.begin():
            now = utcnow()
            await outbox.enqueue(
                session,
                [
                    outbox.NewMessage(
                        dedupe_key=f"m{i}",
                        platform="test",
                        chat_id=f"chat{i % 60}",
                        reply=Reply(f"message {i}"),
                    )
                    for i in range(MESSAGES)
                ],
                now=now,
            )
        recorder = SharedRecorder()
        config = SenderConfig(batch_size=15, max_in_flight=4, poll_interval=0.01)
        workers = [
            Sender(
                sessions, recorder.transport(name), pacing=PacingPolicy.unlimited(), config=config
            )
            for name, sessions in (("one", first_sessions), ("two", second_sessions))
        ]
        for worker in workers:
            worker.start()
        async with asyncio.timeout(30):
            await recorder.all_arrived.wait()
            while True:  # the last outcomes are being recorded
                async with first_sessions() as session:
                    pending = await session.scalar(
                        select(func.count()).where(Outbox.status != outbox.SENT)
                    )
                if pending == 0:
                    break
                await asyncio.sleep(0.01)
        await asyncio.gather(*(worker.stop() for worker in workers))
    finally:
        await other.dispose()

    per_message = Counter(outbox_id for outbox_id, _ in recorder.deliveries)
    assert len(per_message) == MESSAGES
    assert set(per_message.values()) == {1}
    per_worker = Counter(worker for _, worker in recorder.deliveries)
    assert per_worker["one"] > MESSAGES // 10 and per_worker["two"] > MESSAGES // 10
