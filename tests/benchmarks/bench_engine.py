"""Engine: turns per second and p50/p99 latency of one dialog step with its state persisted.

Each turn is a real `Engine.handle()` on a real database, one process: people walk the real
soreness check (/sore, consent, then the first option of every question until the result is
stored), so every timed turn reads and writes a dialog_states row in its own transaction. The
test-only echo dialog gives the engine's own floor (no content logic).

Goal (issue 14, on public APIs only): p50 ≤ 1 ms and p99 ≤ 5 ms on SQLite, ≥ 1,000 turns/s.

"durable" rows add what Telegram's durable inbound costs a turn (issue 16): the update stored
first in its own transaction (as the webhook stores one; polling stores a batch at once), the
turn writing its replies to it, then the row marked done in another transaction.

    .venv/bin/python -m tests.benchmarks engine [--quick] [--profile]
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_router
from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_or_raise
from bot.engine.engine import Engine, Turn
from bot.engine.events import Inbound
from bot.engine.payloads import DIALOG_PREFIX
from bot.engine.router import Router
from bot.storage import inbound
from bot.storage.db import make_sessionmaker
from bot.storage.inbound import Receipt
from bot.storage.models import utcnow
from tests.benchmarks._databases import database, pg_reachable
from tests.echo_dialog import echo_router
from tests.factory import build_engine
from tests.harness import ChatHarness, Person

GOAL_P50_MS = 1.0
GOAL_P99_MS = 5.0
GOAL_TURNS_PER_S = 1000.0


@dataclass(frozen=True)
class Figures:
    label: str
    turns: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float  # this process, all threads

    def line(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        p50 = statistics.median(ms)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        rate = self.turns / self.seconds
        return (
            f"{self.label:<34} {self.turns:>6} turns  {rate:>7.0f} turns/s  "
            f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {ms[-1]:6.1f} ms  "
            f"cpu {self.cpu_seconds / self.turns * 1000:5.2f} ms/turn"
        )

    def meets_goal(self) -> bool:
        ms = sorted(x * 1000 for x in self.latencies)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        rate = self.turns / self.seconds
        return (
            statistics.median(ms) <= GOAL_P50_MS
            and p99 <= GOAL_P99_MS
            and (rate >= GOAL_TURNS_PER_S)
        )


def _triage_next(person: Person) -> Callable[[], object]:
    """The person's next move in the soreness check: start it, or press the first answer."""
    turn = person.last_turn
    if turn is None or turn.dialog is None:
        return lambda: person.say("/sore")
    payload = next(
        b.payload
        for r in turn.replies
        for b in r.flat_buttons()
        if b.payload.startswith(DIALOG_PREFIX)
    )
    return lambda: person.press_payload(payload)


def _echo_next(person: Person) -> Callable[[], object]:
    turn = person.last_turn
    if turn is None or turn.dialog is None:
        return lambda: person.say("/echo")
    payload = next(b.payload for r in turn.replies for b in r.flat_buttons())
    return lambda: person.press_payload(payload)


async def _sequential(
    bot: ChatHarness, step: Callable[[Person], Callable[[], object]], people: int, turns: int
) -> tuple[float, list[float], float]:
    crowd = [bot.person(f"runner{i}") for i in range(people)]
    latencies: list[float] = []
    clock = time.perf_counter
    gc.collect()
    cpu = time.process_time()
    started = clock()
    for i in range(turns):
        person = crowd[i % people]
        action = step(person)
        t0 = clock()
        await action()  # type: ignore[misc]
        latencies.append(clock() - t0)
        _check(person)
    return clock() - started, latencies, time.process_time() - cpu


def _check(person: Person) -> None:
    """A turn answered with an apology is fast and wrong: such figures would mean nothing."""
    turn = person.last_turn
    if turn is not None and turn.failure is not None:
        raise SystemExit(f"a benchmark turn failed ({turn.failure}): see the log above")


async def _concurrent(
    bot: ChatHarness, step: Callable[[Person], Callable[[], object]], people: int, turns: int
) -> float:
    crowd = [bot.person(f"crowd{i}") for i in range(people)]

    async def walk(person: Person) -> None:
        for _ in range(turns // people):
            await step(person)()  # type: ignore[misc]
            _check(person)

    started = time.perf_counter()
    await asyncio.gather(*(walk(p) for p in crowd))
    return time.perf_counter() - started


async def _bench(
    db: AsyncEngine,
    backend: str,
    content: ContentBundle,
    label: str,
    router: Router,
    step: Callable[[Person], Callable[[], object]],
    turns: int,
    *,
    durable: bool = False,
) -> Figures:
    engine = (
        DurableEngine(make_sessionmaker(db), router, content)
        if durable
        else build_engine(db, content, router=router)
    )
    bot = ChatHarness(engine)
    await _sequential(bot, step, 50, max(200, turns // 10))  # warm-up: caches, pool, JIT-less
    seconds, latencies, cpu = await _sequential(bot, step, 200, turns)
    figures = Figures(f"{backend} {label} (sequential)", turns, seconds, latencies, cpu)
    print(figures.line(), flush=True)
    concurrent = await _concurrent(bot, step, 32, turns)
    print(
        f"{backend + ' ' + label + ' (32 concurrent)':<34} {turns:>6} turns  "
        f"{turns / concurrent:>7.0f} turns/s",
        flush=True,
    )
    return figures


class DurableEngine(Engine):
    """The engine as the Telegram intake drives it: store, turn with its receipt, done."""

    keys = itertools.count()
    done: inbound.DoneMarks | None = None

    async def handle(self, event: Inbound, receipt: Receipt | None = None) -> Turn:
        key = str(next(self.keys))
        async with self.writer():
            await inbound.store(self.sessions, "bench", [(key, UPDATE)], utcnow())
        turn = await super().handle(event, Receipt("bench", key))
        if self.done is None:
            self.done = inbound.DoneMarks(self.sessions, "bench", self.writer)
        await self.done.mark(key)
        return turn


# A Telegram update of a button press, about the size of a real one (≈ 900 bytes of JSON).
UPDATE: dict[str, Any] = {
    "update_id": 100001,
    "callback_query": {
        "id": "7000000001",
        "from": {"id": 5001, "is_bot": False, "first_name": "Runner", "language_code": "en"},
        "chat_instance": "-1234567890",
        "data": "~abcdefgh.3.yes",
        "message": {
            "message_id": 42,
            "date": 1765100000,
            "chat": {"id": 5001, "type": "private", "first_name": "Runner"},
            "from": {"id": 123456789, "is_bot": True, "first_name": "Core Coach"},
            "text": "Does it hurt when you cough, sneeze or laugh? " * 6,
            "reply_markup": {
                "inline_keyboard": [
                    [
                        {"text": "Yes", "callback_data": "~abcdefgh.3.yes"},
                        {"text": "No", "callback_data": "~abcdefgh.3.no"},
                    ]
                ]
            },
        },
    },
}


async def _floor(db: AsyncEngine, backend: str, rounds: int) -> None:
    """What one database round trip costs on this machine, for reading the figures above:
    a turn needs three or four (read, handler queries, write, commit)."""
    sessions = make_sessionmaker(db)
    timings: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
        timings.append(time.perf_counter() - t0)
    timings.sort()
    print(
        f"{backend + ' floor: one SELECT 1 round trip':<34} p50 "
        f"{statistics.median(timings) * 1000:6.3f} ms  p99 "
        f"{timings[int(len(timings) * 0.99)] * 1000:6.3f} ms",
        flush=True,
    )


async def run(quick: bool, profile: bool) -> int:
    content = load_or_raise(DEFAULT_CONTENT_DIR)
    turns = 600 if quick else 6000
    backends = ["sqlite"]
    if await pg_reachable():
        backends.append("postgresql")
    else:
        print("postgresql: not reachable, skipped (set COACH_TEST_PG_URL)")
    verdict = 0
    for backend in backends:
        async with database(backend) as (db, _url):
            if profile and backend == "sqlite":
                await _profiled(db, content, turns)
                continue
            await _floor(db, backend, 300 if quick else 3000)
            await _bench(db, backend, content, "echo step", echo_router(), _echo_next, turns)
            triage = await _bench(
                db, backend, content, "triage step", build_router(), _triage_next, turns
            )
            await _bench(
                db,
                backend,
                content,
                "triage step durable",
                build_router(),
                _triage_next,
                turns,
                durable=True,
            )
            if backend == "sqlite":
                met = triage.meets_goal()
                print(
                    f"goal (SQLite triage: p50 ≤ {GOAL_P50_MS:g} ms, p99 ≤ {GOAL_P99_MS:g} ms, "
                    f"≥ {GOAL_TURNS_PER_S:,.0f} turns/s): {'met' if met else 'MISSED'}"
                )
    return verdict


async def _profiled(db: AsyncEngine, content: ContentBundle, turns: int) -> None:
    """Where a triage turn's time goes (pyinstrument, installed ad hoc: not a dependency)."""
    from pyinstrument import Profiler

    bot = ChatHarness(build_engine(db, content))
    await _sequential(bot, _triage_next, 50, 500)
    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    await _sequential(bot, _triage_next, 200, turns)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main(argv: list[str]) -> int:
    return asyncio.run(run("--quick" in argv, "--profile" in argv))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
