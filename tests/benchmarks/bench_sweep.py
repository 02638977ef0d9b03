"""Reminder sweep: 100,000 people with weekly reminders in mixed time zones, 10,000 of them due
in one minute. Measures the time for one sweep of that minute (outbox rows written, rules
advanced), an idle sweep (nothing due: what every 20-second tick costs), and peak memory
(tracemalloc during the sweep; ru_maxrss of the whole process), on SQLite and PostgreSQL.
The bot's own CPU time is printed too: on a busy machine the wall time also counts waiting
for the database and for other processes.

    .venv/bin/python -m tests.benchmarks.bench_sweep [--quick]
    .venv/bin/python -m tests.benchmarks sweep [--quick]
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_router
from bot.config import Settings
from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_or_raise
from bot.storage.db import make_sessionmaker
from bot.storage.models import Chat, Outbox, ReminderRule, User
from handlers.reminders.rules import zone
from scheduler.occurrences import WeeklyTime, next_occurrence
from scheduler.sweep import Sweeper
from tests.benchmarks._databases import database, pg_reachable

ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "Europe/Helsinki",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
    "Australia/Adelaide",  # +10:30 in summer
    "Pacific/Auckland",
    "Africa/Nairobi",
    "UTC",
)
# The due minute: Tuesday 2026-11-24 06:00 UTC (07:00 Berlin, 01:00 New York, 17:00 Sydney).
DUE_MINUTE = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
CHUNK = 5000

_USERS = cast(Table, User.__table__)
_CHATS = cast(Table, Chat.__table__)
_RULES = cast(Table, ReminderRule.__table__)


def _population(people: int, due: int, seed: int = 42) -> list[tuple[str, int, int, datetime]]:
    """(zone, days, minute, next_due_at) per person; exactly `due` fall in DUE_MINUTE."""
    rng = random.Random(seed)
    before = DUE_MINUTE - timedelta(hours=1)
    window_end = DUE_MINUTE + timedelta(minutes=1)
    rows = []
    for i in range(people):
        name = ZONES[i % len(ZONES)]
        tz = zone(name)
        if i < due:
            local = DUE_MINUTE.astimezone(tz)
            days = rng.randrange(1, 128) | 1 << local.weekday()
            minute = local.hour * 60 + local.minute
        else:
            while True:
                days, minute = rng.randrange(1, 128), rng.randrange(0, 24 * 60)
                first = next_occurrence(WeeklyTime(days, minute), tz, before)
                if first >= window_end:
                    break
        when = WeeklyTime(days, minute)
        rows.append((name, days, minute, next_occurrence(when, tz, before)))
    assert sum(DUE_MINUTE <= r[3] < window_end for r in rows) == due
    return rows


async def _load(db: AsyncEngine, people: int, due: int) -> float:
    started = time.perf_counter()
    population = _population(people, due)
    created = DUE_MINUTE - timedelta(days=30)
    async with db.begin() as conn:
        for start in range(0, people, CHUNK):
            ids = range(start + 1, min(people, start + CHUNK) + 1)
            await conn.execute(
                insert(_USERS),
                [
                    {
                        "id": i,
                        "platform": "telegram",
                        "platform_user_id": str(10_000_000 + i),
                        "display_name": "",
                        "timezone": population[i - 1][0],
                        "unreachable": False,
                        "created_at": created,
                        "last_seen_at": created,
                    }
                    for i in ids
                ],
            )
            await conn.execute(
                insert(_CHATS),
                [
                    {
                        "id": i,
                        "platform": "telegram",
                        "platform_chat_id": str(10_000_000 + i),
                        "is_private": True,
                        "title": "",
                        "bot_is_member": True,
                        "created_at": created,
                    }
                    for i in ids
                ],
            )
            await conn.execute(
                insert(_RULES),
                [
                    {
                        "id": i,
                        "user_id": i,
                        "chat_id": i,
                        "days": population[i - 1][1],
                        "minute_of_day": population[i - 1][2],
                        "timezone": population[i - 1][0],
                        "paused": False,
                        "next_due_at": population[i - 1][3],
                        "created_at": created,
                    }
                    for i in ids
                ],
            )
    if db.dialect.name == "postgresql":
        async with db.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            # Explicit ids leave the sequences behind; later inserts would collide.
            for table in ("users", "chats", "reminder_rules"):
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {people})"
                )
            await conn.commit()
    return time.perf_counter() - started


async def _rewind(db: AsyncEngine, due: int) -> None:
    """Make the same minute due again (for the second, memory-traced sweep)."""
    firsts = [{"rid": i + 1, "due": row[3]} for i, row in enumerate(_population(due, due))]
    async with db.begin() as conn:
        await conn.execute(delete(Outbox))
        await conn.execute(
            update(_RULES)
            .where(_RULES.c.id == bindparam("rid"))
            .values(next_due_at=bindparam("due")),
            firsts,
        )


async def _bench(backend: str, content: ContentBundle, people: int, due: int) -> None:
    async with database(backend) as (db, _url):
        loaded = await _load(db, people, due)
        sessions = make_sessionmaker(db)
        now = DUE_MINUTE + timedelta(seconds=59)
        clock: list[datetime] = [DUE_MINUTE - timedelta(minutes=1)]

        def at() -> datetime:
            return clock[0]

        # With the features' hooks, as the bot runs it: the idle figure counts their queries.
        sweeper = Sweeper(sessions, content, Settings(), build_router().sweep_hooks, clock=at)
        await sweeper.run_once()  # warm-up: connections, statement caches; nothing due
        idle = []
        for _ in range(5):
            t0 = time.perf_counter()
            await sweeper.run_once()
            idle.append(time.perf_counter() - t0)

        clock[0] = now
        gc.collect()
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = await sweeper.run_once()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        async with sessions() as session:
            written = await session.scalar(select(func.count()).select_from(Outbox))
        assert result == due == written, (result, written)

        await _rewind(db, due)
        gc.collect()
        tracemalloc.start()
        traced = await sweeper.run_once()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert traced == due
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

        print(
            f"{backend:<10} {people:>7,} people ({len(ZONES)} zones), loaded in {loaded:5.1f} s\n"
            f"{'':<10} sweep of the due minute: {due:,} reminders in {seconds * 1000:7.0f} ms "
            f"({seconds / due * 1e6:5.0f} µs each, {due / seconds:,.0f}/s); "
            f"CPU in this process {cpu * 1000:5.0f} ms\n"
            f"{'':<10} idle sweep (nothing due): {min(idle) * 1000:5.1f} ms (best of 5)\n"
            f"{'':<10} peak memory: sweep {peak / 2**20:5.1f} MiB (tracemalloc), "
            f"process {rss:5.0f} MiB (ru_maxrss)",
            flush=True,
        )


async def run(quick: bool) -> int:
    content = load_or_raise(DEFAULT_CONTENT_DIR)
    people, due = (10_000, 1_000) if quick else (100_000, 10_000)
    backends = ["sqlite"]
    if await pg_reachable():
        backends.append("postgresql")
    else:
        print("postgresql: not reachable, skipped (set COACH_TEST_PG_URL)")
    for backend in backends:
        await _bench(backend, content, people, due)
    return 0


def main(argv: list[str]) -> int:
    return asyncio.run(run("--quick" in argv))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
