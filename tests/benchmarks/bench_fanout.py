"""Outbox fan-out through the real Telegram adapter: 10,000 messages to 10,000 private chats,
delivered by the outbox sender through TelegramTransport (python-telegram-bot over real HTTP)
to the local fake Bot API enforcing Telegram's flood limits (30 msg/s overall).

Reports the achieved rate as a fraction of the 30 msg/s cap (goal ≥ 95 %), messages lost,
duplicated, and answered with 429. One backend (SQLite, the default deployment) unless
--postgresql is given; the database is not the bottleneck at 30 msg/s.

    .venv/bin/python -m tests.benchmarks.bench_fanout [--quick] [--postgresql]
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram.application import build_application
from bot.adapters.telegram.outgoing import Outgoing
from bot.adapters.telegram.transport import TelegramTransport
from bot.config import Settings
from bot.engine.events import Button, Reply
from bot.storage.db import make_sessionmaker
from bot.storage.models import Outbox, utcnow
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender
from scheduler.shared_pace import SharedPace
from tests.benchmarks._databases import database, pg_reachable
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramAPI, RateLimitConfig

CAP = 30.0
GOAL = 0.95
FIRST_CHAT = 500_000_000


async def _fill(db: AsyncEngine, count: int) -> None:
    reply = Reply(
        "**Tuesday 07:00** — time for your core session.",
        buttons=[[Button("Start session", "session:start")]],
    )
    async with make_sessionmaker(db)() as session, session.begin():
        now = utcnow()
        for start in range(0, count, 2000):
            await outbox.enqueue(
                session,
                [
                    outbox.NewMessage(f"bench:{i}", "telegram", str(FIRST_CHAT + i), reply)
                    for i in range(start, min(count, start + 2000))
                ],
                now=now,
            )


async def _bench(backend: str, count: int) -> bool:
    async with (
        database(backend) as (db, _url),
        FakeTelegramAPI(rate_limits=RateLimitConfig(enabled=True), auto_create_chats=True) as fake,
    ):
        await _fill(db, count)
        settings = Settings(telegram_token=DEFAULT_TOKEN, telegram_api_base_url=fake.base_url)
        application = build_application(settings)
        async with application:
            transport = TelegramTransport(Outgoing(application.bot), ready=True)
            sessions = make_sessionmaker(db)
            policy = PacingPolicy.telegram(CAP)
            # Paced through the database, as `corecoach run` sends (scheduler.service).
            pace = SharedPace(sessions, "telegram", policy)
            sender = Sender(sessions, transport, pacing=policy, shared_pace=pace)
            sender.start()
            try:
                await fake.wait_for_sent(count=count, timeout=count / 10 + 60)
            except TimeoutError as exc:
                print(f"{backend}: {exc}"[:300])
            await sender.stop()
        async with sessions() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(Outbox.status, func.count()).group_by(Outbox.status)
                    )
                ).all()
            )
    per_chat = Counter(record.chat_id for record in fake.sent)
    lost = count - len(per_chat)
    duplicates = sum(n - 1 for n in per_chat.values())
    stamps = sorted(record.timestamp for record in fake.sent)
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    fraction = rate / CAP
    met = fraction >= GOAL and lost == 0 and duplicates == 0 and fake.rate_violations == 0
    print(
        f"{backend:<10} {count:,} messages through TelegramTransport → fake Bot API (30 msg/s)\n"
        f"{'':<10} achieved {rate:5.2f} msg/s = {fraction:6.1%} of the cap "
        f"(first to last message {stamps[-1] - stamps[0]:6.1f} s)\n"
        f"{'':<10} lost {lost}, duplicates {duplicates}, 429 answers {fake.rate_violations}, "
        f"outbox {statuses}, {pace.round_trips / count:.2f} pace statements a message\n"
        f"{'':<10} goal (≥ {GOAL:.0%} of the cap, 0 lost, 0 duplicates, 0 × 429): "
        f"{'met' if met else 'MISSED'}",
        flush=True,
    )
    return met


async def run(quick: bool, postgresql: bool) -> int:
    count = 1_000 if quick else 10_000
    backends = ["sqlite"]
    if postgresql:
        if await pg_reachable():
            backends.append("postgresql")
        else:
            print("postgresql: not reachable, skipped (set COACH_TEST_PG_URL)")
    results = [await _bench(backend, count) for backend in backends]
    return 0 if all(results) else 1


def main(argv: list[str]) -> int:
    return asyncio.run(run("--quick" in argv, "--postgresql" in argv))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
