"""Real sender processes (tests/outbox_process.py: the sender `corecoach run` builds, the real
TelegramTransport) against the fake Bot API, which enforces Telegram's flood limits and stamps
every message it accepts; `kill -9` at chosen moments.

- Two workers on one PostgreSQL, one killed mid-broadcast to 300 groups (0.3 s per send):
  nothing lost; duplicates only from the sends in flight at the kill; the survivor sends the
  dead worker's rows within 30 s (its heartbeat goes stale, the claims move); the coach's
  report counts what may have arrived twice.
- One process on SQLite, killed and started again: it takes the dead process's claims at
  start, without waiting for their lease.
- Two workers together keep Telegram's caps: ≤ 30 messages a second plus the burst, 1 s
  between two messages to one private chat, 3 s to one group (20 a minute).

Figures are printed (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.events import Reply
from bot.storage.db import make_sessionmaker
from bot.storage.models import Outbox, utcnow
from scheduler import outbox
from scheduler.workers import HEARTBEAT, STALE
from tests.fakes.telegram_api import FakeTelegramAPI, RateLimitConfig, SentRecord
from tests.outbox_process import MAX_IN_FLIGHT

ROOT = Path(__file__).resolve().parents[1]
CAP, BURST = 30, 5  # PacingPolicy.telegram(): what the two workers together may send
LATE = 3  # sends a late wake-up may bunch into one second (see below)
GROUPS = 300
LATENCY = 0.3  # seconds the fake holds each send, as a slow network would
KILL_AFTER = 130  # sends: mid-way through the second batch of claims
TAKEOVER_BOUND = 30.0  # seconds: the bound for a dead worker's rows to move


class Worker:
    def __init__(self, process: asyncio.subprocess.Process, worker_id: str) -> None:
        self.process, self.id = process, worker_id
        # When it began each send, and to which chat, as it printed on stopping.
        self.began: list[tuple[float, str]] = []

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no clean-up of any kind

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        assert self.process.stdout is not None
        out = await asyncio.wait_for(self.process.stdout.read(), 30)
        if await asyncio.wait_for(self.process.wait(), 30) == 0 and out.strip():
            self.began = json.loads(out)


@contextlib.asynccontextmanager
async def workers(db: AsyncEngine, api: str, count: int) -> AsyncIterator[list[Worker]]:
    url = db.url.render_as_string(hide_password=False)
    schema = ""
    if db.dialect.name == "postgresql":
        async with db.connect() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    started: list[Worker] = []
    try:
        for _ in range(count):
            started.append(await spawn(url, schema, api))
        yield started
    finally:
        for worker in started:
            with contextlib.suppress(ProcessLookupError):
                await worker.stop()


async def spawn(url: str, schema: str, api: str) -> Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.outbox_process",
        url,
        schema,
        api,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    assert line.startswith(b"worker "), line
    return Worker(process, line.split()[1].decode())


async def enqueue(db: AsyncEngine, chats: Iterable[tuple[int, bool]], key: str) -> None:
    messages = [
        outbox.NewMessage(
            f"{key}:{n}", "telegram", str(chat), Reply(f"Core at 7 #{n}"), None, "", private
        )
        for n, (chat, private) in enumerate(chats)
    ]
    async with make_sessionmaker(db)() as session, session.begin():
        await outbox.enqueue(session, messages, now=utcnow())


async def statuses(db: AsyncEngine) -> dict[str, int]:
    async with db.connect() as conn:
        rows = await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
        return {status: int(n) for status, n in rows.all()}


async def all_sent(db: AsyncEngine, total: int, timeout: float) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while (await statuses(db)).get(outbox.SENT, 0) < total:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.2)


def busiest_second(stamps: list[float]) -> int:
    """The most messages in any one-second window."""
    stamps = sorted(stamps)
    most, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def shortest_gaps(sent: list[SentRecord]) -> dict[int, float]:
    """Per chat, the shortest time between two of its messages as the platform got them."""
    return {int(c): gap for c, gap in gaps_between((r.chat_id, r.timestamp) for r in sent).items()}


def gaps_between(sends: Iterable[tuple[int | str, float]]) -> dict[str, float]:
    """Per chat, the shortest time between two of its messages."""
    by_chat: dict[str, list[float]] = defaultdict(list)
    for chat, stamp in sends:
        by_chat[str(chat)].append(stamp)
    return {
        chat: min(b - a for a, b in zip(sorted(s), sorted(s)[1:], strict=False))
        for chat, s in by_chat.items()
        if len(s) > 1
    }


def pg_only(db: AsyncEngine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite runs one process)")


async def test_a_worker_killed_mid_broadcast_loses_nothing_and_its_rows_move(
    db: AsyncEngine,
) -> None:
    pg_only(db)
    async with FakeTelegramAPI(rate_limits=RateLimitConfig(enabled=True)) as fake:
        groups = [fake.add_group(f"club {n}").id for n in range(GROUPS)]
        fake.delay_next("sendMessage", LATENCY, times=10 * GROUPS)
        async with workers(db, fake.base_url, 2) as (doomed, _survivor):
            await enqueue(db, ((g, False) for g in groups), "club:broadcast:1")
            await fake.wait_for_sent(count=KILL_AFTER, timeout=60)
            doomed.kill()
            killed_at = time.monotonic()
            both_running = [r.timestamp for r in fake.sent]
            async with db.connect() as conn:
                orphans = set(
                    (
                        await conn.execute(
                            select(Outbox.platform_chat_id).where(
                                Outbox.claimed_by == doomed.id, Outbox.status == outbox.PENDING
                            )
                        )
                    ).scalars()
                )
            await all_sent(db, GROUPS, timeout=TAKEOVER_BOUND + 30)
            moved_at = time.monotonic() - killed_at
            await asyncio.sleep(LATENCY + 0.5)  # any send still on its way lands
        per_group = Counter(record.chat_id for record in fake.sent)
        after_kill = [r for r in fake.sent if r.timestamp > killed_at + LATENCY + 0.2]
        resent = sorted(r.timestamp - killed_at for r in after_kill if str(r.chat_id) in orphans)
        violations = fake.rate_violations
    async with db.connect() as conn:
        flagged = set(
            (
                await conn.execute(select(Outbox.platform_chat_id).where(Outbox.maybe_twice))
            ).scalars()
        )
    twice = {str(chat) for chat, n in per_group.items() if n > 1}
    print(
        f"\nPG, 2 workers, one killed after {len(both_running)} of {GROUPS} sends: lost "
        f"{GROUPS - len(per_group)}, duplicated {len(twice)} (≤ {MAX_IN_FLIGHT} in flight), "
        f"reported 'may have arrived twice' {len(flagged)}; the dead worker held "
        f"{len(orphans)} claims: first resent {resent[0] if resent else -1:.1f} s after the "
        f"kill, all sent {moved_at:.1f} s after; busiest second while both ran "
        f"{busiest_second(both_running)} (cap {CAP} + burst {BURST}); 429s {violations}"
    )
    assert set(per_group) == set(groups)  # nothing lost
    assert max(per_group.values()) <= 2 and len(twice) <= MAX_IN_FLIGHT
    assert twice <= flagged  # every duplicate is one the coach is told about
    assert orphans and resent  # the dead worker had claims, and the survivor sent them
    assert moved_at <= TAKEOVER_BOUND
    # Moved once its heartbeat (the last up to one beat before the kill) went stale...
    assert resent[0] >= (STALE - HEARTBEAT).total_seconds() - 1
    assert violations == 0  # ...and the pace held


async def test_sqlite_restart_takes_the_dead_process_claims_at_start(
    sqlite_db: AsyncEngine,
) -> None:
    db = sqlite_db
    async with FakeTelegramAPI(rate_limits=RateLimitConfig(enabled=True)) as fake:
        groups = [fake.add_group(f"club {n}").id for n in range(GROUPS)]
        fake.delay_next("sendMessage", LATENCY, times=10 * GROUPS)
        await enqueue(db, ((g, False) for g in groups), "club:broadcast:1")
        async with workers(db, fake.base_url, 1) as [first]:
            await fake.wait_for_sent(count=KILL_AFTER, timeout=60)
            first.kill()
            await first.process.wait()
        await asyncio.sleep(LATENCY + 0.5)  # the sends in flight at the kill land
        before = len(fake.sent)
        claimed = (await statuses(db)).get(outbox.PENDING, 0)
        async with db.connect() as conn:
            held = await conn.scalar(
                select(func.count()).where(
                    Outbox.status == outbox.PENDING, Outbox.claimed_until > utcnow()
                )
            )
        restarted_at = time.monotonic()
        async with workers(db, fake.base_url, 1):
            ready_at = time.monotonic()
            await fake.wait_for_sent(count=before + 1, timeout=30)
            first_resend = fake.sent[before].timestamp
            await all_sent(db, GROUPS, timeout=60)
            await asyncio.sleep(LATENCY + 0.5)
        per_group = Counter(record.chat_id for record in fake.sent)
    twice = sum(1 for n in per_group.values() if n > 1)
    print(
        f"\nSQLite, killed after {before} sends with {claimed} pending ({held} claimed, "
        f"lease 60 s): restart to first resend {first_resend - restarted_at:.2f} s "
        f"(sender running to first resend {first_resend - ready_at:.2f} s); "
        f"lost {GROUPS - len(per_group)}, duplicated {twice}"
    )
    assert held  # the dead process left live claims...
    assert first_resend - ready_at < 5  # ...taken at start, not after their 60 s lease
    assert set(per_group) == set(groups) and twice <= MAX_IN_FLIGHT


async def test_two_workers_keep_the_bots_caps_together(db: AsyncEngine) -> None:
    pg_only(db)
    async with FakeTelegramAPI(
        rate_limits=RateLimitConfig(enabled=True), auto_create_chats=True
    ) as fake:
        people = [500_000 + n for n in range(100)]
        groups = [fake.add_group(f"club {n}").id for n in range(20)]
        # Three messages per person and two per group, interleaved, so both workers hold
        # messages for the same chats.
        chats = [(p, True) for _ in range(3) for p in people] + [
            (g, False) for _ in range(2) for g in groups
        ]
        async with workers(db, fake.base_url, 2) as pair:
            await enqueue(db, chats, "pace")
            await all_sent(db, len(chats), timeout=90)
            await asyncio.sleep(0.5)
            for worker in pair:
                await worker.stop()
        async with db.connect() as conn:
            by_worker = dict(
                (
                    await conn.execute(
                        select(Outbox.claimed_by, func.count()).group_by(Outbox.claimed_by)
                    )
                ).all()
            )
        stamps = [record.timestamp for record in fake.sent]
        gaps = shortest_gaps(fake.sent)
    busiest = busiest_second(stamps)
    kept = busiest_second([t for worker in pair for t, _ in worker.began])
    kept_gaps = gaps_between([(chat, t) for worker in pair for t, chat in worker.began])
    rate = (len(stamps) - 1) / (max(stamps) - min(stamps))
    private_gap = min(gaps[p] for p in people)
    group_gap = min(gaps[g] for g in groups)
    print(
        f"\n2 workers, {len(chats)} messages: busiest second {kept} as sent, {busiest} as "
        f"received (cap {CAP} + burst {BURST}), {rate:.1f} msg/s overall; "
        f"shortest gap per person {private_gap:.2f} s "
        f"({min(kept_gaps[str(p)] for p in people):.2f} s as sent), "
        f"per group {group_gap:.2f} s ({min(kept_gaps[str(g)] for g in groups):.2f} s as sent); "
        f"per worker {sorted(by_worker.values())}; "
        f"429s {fake.rate_violations}"
    )
    assert len(stamps) == len(chats)
    assert all(n > len(chats) // 10 for n in (by_worker.get(w.id, 0) for w in pair))
    assert sum(len(w.began) for w in pair) == len(chats)
    assert min(kept_gaps.values()) >= 1.0
    # The pace the workers kept together. A send whose process wakes late (two cores shared
    # by many processes) bunches with the next ones: 0.1 s late at 30/s is 3 more.
    assert kept <= CAP + BURST + LATE
    # What the platform sees adds the receiving side's scheduling: the fake stamps requests as
    # its own event loop gets to them, so a stall there bunches them into one second (48 seen
    # once in CI with 36 as sent). The platform's verdict on the pace is the fake's rate model
    # (with its jitter tolerance): no 429, asserted below; `busiest` is printed as a figure.
    # Stamped on arrival at the fake; the pace keeps a margin for network jitter.
    assert private_gap >= 1.0 and group_gap >= 3.0
    assert fake.rate_violations == 0
