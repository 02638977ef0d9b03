"""The cost of one pace for the bot across workers (scheduler/shared_pace.py).

1. **Ceiling**: one sender with a transport that returns at once, caps out of the way
   (1,000,000 msg/s, no per-chat interval), with and without the shared pace: messages a
   second, and the pace's statements per message. What the database allows, far above any
   platform's cap.
2. **Two workers at the cap**: two senders, each with its own connection pool (as two
   processes would have), Telegram's policy (30 msg/s, burst 5), one shared pace: messages a
   second of both together against the cap, and the busiest second (goal: ≤ cap + burst + 3,
   the 3 for sends a busy event loop wakes late, and ≥ 90 % of the cap overall).

    .venv/bin/python -m tests.benchmarks.bench_pace [--quick] [--postgresql]
"""

from __future__ import annotations

import asyncio
import sys
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.events import Reply
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import utcnow
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender, SenderConfig
from scheduler.shared_pace import SharedPace
from tests.benchmarks._databases import database, pg_reachable

CAP, BURST = 30.0, 5


class Instant:
    """Returns at once and notes when each message left."""

    platform = "telegram"

    def __init__(self, stamps: list[float]) -> None:
        self.stamps = stamps

    async def deliver(self, message: OutboundMessage) -> Delivery:
        self.stamps.append(time.monotonic())
        return Delivery(DeliveryStatus.SENT)


async def _fill(db: AsyncEngine, count: int, tag: str) -> None:
    async with make_sessionmaker(db)() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.NewMessage(f"{tag}:{i}", "telegram", str(1_000 + i), Reply("Core at 7"))
                for i in range(count)
            ],
            now=utcnow(),
        )


async def _drain(senders: list[Sender], stamps: list[float], count: int) -> float:
    started = time.monotonic()
    for sender in senders:
        sender.start()
    while len(stamps) < count:  # noqa: ASYNC110 - the senders append, nothing to wait on
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    await asyncio.gather(*(sender.stop() for sender in senders))
    return elapsed


async def _ceiling(backend: str, count: int) -> None:
    policy = PacingPolicy(1e6, burst=1, private_interval=0, group_per_minute=1e9)
    for shared in (False, True):
        async with database(backend) as (db, _url):
            await _fill(db, count, "ceiling")
            sessions = make_sessionmaker(db)
            stamps: list[float] = []
            pace = SharedPace(sessions, "telegram", policy) if shared else None
            sender = Sender(sessions, Instant(stamps), pacing=policy, shared_pace=pace)
            elapsed = await _drain([sender], stamps, count)
        per_send = f", {pace.round_trips / count:.2f} pace statements a message" if pace else ""
        label = "shared pace" if shared else "local pace only"
        print(f"{backend:<10} ceiling, {label:<15}: {count / elapsed:7.0f} msg/s{per_send}")


async def _two_workers(backend: str, url: str, db: AsyncEngine, count: int) -> bool:
    await _fill(db, count, "pair")
    other = make_engine(url)
    try:
        policy = PacingPolicy.telegram(CAP)
        stamps: list[float] = []
        senders = []
        for engine in (db, other):
            sessions = make_sessionmaker(engine)
            senders.append(
                Sender(
                    sessions,
                    Instant(stamps),
                    pacing=policy,
                    config=SenderConfig(batch_size=50),
                    shared_pace=SharedPace(sessions, "telegram", policy),
                )
            )
        await _drain(senders, stamps, count)
    finally:
        await other.dispose()
    stamps.sort()
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    busiest, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    statements = sum(s.shared_pace.round_trips for s in senders if s.shared_pace) / count
    met = busiest <= CAP + BURST + 3 and rate >= 0.9 * CAP
    print(
        f"{backend:<10} two workers, {count} messages at Telegram's pace: {rate:5.2f} msg/s "
        f"together ({rate / CAP:.0%} of the cap), busiest second {busiest} (cap + burst "
        f"{CAP + BURST:.0f}), {statements:.2f} pace statements a message: "
        f"{'met' if met else 'MISSED'}",
        flush=True,
    )
    return met


async def run(quick: bool, postgresql: bool) -> int:
    backends = ["sqlite"]
    if postgresql or await pg_reachable():
        backends.append("postgresql")
    results = []
    for backend in backends:
        await _ceiling(backend, 500 if quick else 3_000)
        if backend == "postgresql":  # SQLite runs one process
            async with database(backend) as (db, url):
                results.append(await _two_workers(backend, url, db, 150 if quick else 600))
    return 0 if all(results) else 1


def main(argv: list[str]) -> int:
    return asyncio.run(run("--quick" in argv, "--postgresql" in argv))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
