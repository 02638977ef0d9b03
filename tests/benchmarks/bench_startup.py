"""Start-up and memory: cold start of `corecoach chat`, and the resident memory of
`corecoach run` with 100,000 people in the database.

1. Cold start: a fresh `corecoach chat --json` process is given "/start" on a pipe; the time
   from spawning it to its first reply line. Once on an empty database (the first start, with
   migrations) and then on the existing one (every later start).
2. Memory: 100,000 people (users, their private chats and a weekly reminder each, none due)
   are written to a SQLite file; `corecoach run` then starts for real with a Telegram token
   against the local fake Bot API (in this process; it only answers getMe/getUpdates), so the
   process runs everything a deployment runs: the Telegram adapter's long polling, the
   scheduler's sweep every 2 s over those 100,000 reminder rules, the outbox sender and the
   /healthz server. Ready = /healthz answers 200. RSS and its peak (VmHWM) are read from
   /proc while it idles, then SIGTERM and the time it takes to exit.

    .venv/bin/python -m tests.benchmarks startup [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select

from bot.storage.db import make_engine, migrate
from bot.storage.models import Chat, ReminderRule, User, utcnow
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.ports import free_port

PEOPLE = 100_000
ROOT = Path(__file__).resolve().parents[2]


def _command(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "corecoach"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "bot.cli", *args]


def _env(database: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(
        COACH_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        COACH_DATA_DIR=str(database.parent / "data"),
        COACH_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def _first_reply_seconds(database: Path) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        _command("chat", "--json", "--user", "bench"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(database),
        cwd=ROOT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("/start\n")
    process.stdin.flush()
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.wait(30)
    if not json.loads(line)["text"]:
        raise RuntimeError("no reply to /start")
    return elapsed


def cold_start(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        fresh = []
        for i in range(runs):
            fresh.append(_first_reply_seconds(Path(folder) / f"fresh{i}.db"))
        existing = [_first_reply_seconds(Path(folder) / "fresh0.db") for _ in range(runs)]
    for label, times in (("empty database (migrates)", fresh), ("existing database", existing)):
        print(
            f"cold start `corecoach chat`, /start → first reply, {label:<26} "
            f"median {statistics.median(times) * 1000:5.0f} ms  "
            f"min {min(times) * 1000:5.0f} ms  ({runs} runs)",
            flush=True,
        )


async def _seed(database: Path, people: int) -> float:
    started = time.perf_counter()
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    await migrate(engine)
    now = utcnow()
    batch = 5000
    async with engine.begin() as conn:
        for first in range(0, people, batch):
            ids = range(first, min(people, first + batch))
            await conn.execute(
                insert(User),
                [
                    {
                        "platform": "telegram",
                        "platform_user_id": str(10_000_000 + i),
                        "display_name": f"Runner {i}",
                        "created_at": now,
                        "last_seen_at": now,
                        "unreachable": False,
                    }
                    for i in ids
                ],
            )
        users = dict((await conn.execute(select(User.platform_user_id, User.id))).tuples().all())
        for first in range(0, people, batch):
            ids = range(first, min(people, first + batch))
            await conn.execute(
                insert(Chat),
                [
                    {
                        "platform": "telegram",
                        "platform_chat_id": str(10_000_000 + i),
                        "is_private": True,
                        "title": "",
                        "bot_is_member": True,
                        "created_at": now,
                        "private_user_id": users[str(10_000_000 + i)],
                    }
                    for i in ids
                ],
            )
        chats = dict((await conn.execute(select(Chat.private_user_id, Chat.id))).tuples().all())
        for first in range(0, people, batch):
            ids = range(first, min(people, first + batch))
            await conn.execute(
                insert(ReminderRule),
                [
                    {
                        "user_id": users[str(10_000_000 + i)],
                        "chat_id": chats[users[str(10_000_000 + i)]],
                        "days": 0b0010101,
                        "minute_of_day": 7 * 60 + i % 600,
                        "timezone": "Europe/Berlin",
                        "paused": False,
                        # Not due during the measurement: an idle deployment.
                        "next_due_at": now + timedelta(days=1, minutes=i % 1440),
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
    await engine.dispose()
    return time.perf_counter() - started


def _memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


async def run_memory(people: int, idle_seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        database = Path(folder) / "coach.db"
        seeded = await _seed(database, people)
        size = database.stat().st_size / 2**20
        print(
            f"seeded {people:,} people (users, private chats, reminders) in {seeded:.1f} s; "
            f"database {size:.0f} MiB",
            flush=True,
        )
        port = free_port()
        async with FakeTelegramAPI() as fake:
            env = _env(
                database,
                TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_API_BASE_URL=fake.url,
                COACH_HEALTH_PORT=str(port),
                COACH_SWEEP_SECONDS="2",
            )
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *_command("run"), env=env, cwd=ROOT, stdin=subprocess.DEVNULL
            )
            try:
                ready = await _wait_healthy(port, process, within=120)
                print(
                    f"`corecoach run` ready (/healthz 200) after {ready - started:.2f} s",
                    flush=True,
                )
                samples = []
                until = time.perf_counter() + idle_seconds
                while time.perf_counter() < until:
                    samples.append(_memory(process.pid))
                    await asyncio.sleep(0.25)
                rss, peak = samples[-1][0], max(s[1] for s in samples)
                print(
                    f"`corecoach run`, {people:,} people, idle {idle_seconds:.0f} s with sweeps "
                    f"every 2 s: RSS {rss / 1024:.0f} MiB, peak (VmHWM) {peak / 1024:.0f} MiB",
                    flush=True,
                )
                stop = time.perf_counter()
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(process.wait(), 30)
                print(f"SIGTERM → exit {code} in {time.perf_counter() - stop:.2f} s", flush=True)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


async def _wait_healthy(port: int, process: asyncio.subprocess.Process, within: float) -> float:
    deadline = time.perf_counter() + within
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"`corecoach run` exited with {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return time.perf_counter()
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError("`corecoach run` did not become healthy")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    cold_start(2 if quick else 7)
    asyncio.run(run_memory(10_000 if quick else PEOPLE, 4 if quick else 15))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
