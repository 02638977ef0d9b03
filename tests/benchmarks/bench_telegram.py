"""Telegram: the whole bot end to end against a bare python-telegram-bot echo bot, and the
outbox fan-out at Telegram's flood limit.

(a) End to end (issue 9, goal: ratio ≥ 0.8). 500 private messages from 50 people (commands,
    a card with its picture, the first steps of a soreness check) are queued at once at the
    fake Bot API; the time until every update is fetched, handled and answered gives messages
    per second. The full bot (adapter + engine + handlers on SQLite) and a bare PTB echo bot
    run in the same process against the same fake, with the same PTB settings (64 updates at
    a time, no flood limiter: throughput, not Telegram's cap, is measured), one after the
    other, five rounds each (medians). The goal compares with the bare bot as PTB comes, on
    its default HTTP client (httpx). Two more bots show where the time goes: the same echo
    bot on the full bot's HTTP layer (aiohttp, bot/adapters/telegram/http.py), and the
    adapter with a stand-in engine that answers without a database. The fake runs in a
    process of its own, like Telegram's servers.

(b) Fan-out (issue 6, goals: ≥ 95 % of 30 msg/s, 0 lost, 0 duplicates, 0 × 429). 10,000
    outbox rows to 10,000 private chats, delivered by the real outbox sender
    (scheduler/sender.py, Telegram pacing) through the adapter's Transport and PTB's
    rate limiter, against the fake enforcing 30 msg/s overall with no tolerance for jitter.

    .venv/bin/python -m tests.benchmarks.bench_telegram [--quick]
    .venv/bin/python -m tests.benchmarks telegram [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.adapters.telegram.application import (
    CONCURRENT_UPDATES,
    MessageRateLimiter,
    Requests,
    TelegramApplication,
    build_application,
)
from bot.adapters.telegram.http import AiohttpRequest
from bot.adapters.telegram.run import TelegramBot, run_telegram
from bot.app import App, build_app
from bot.config import Settings
from bot.engine.engine import Turn
from bot.engine.events import Inbound, Reply
from bot.engine.router import Router
from bot.storage.inbound import Receipt
from bot.storage.models import Outbox
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender

ROOT = Path(__file__).resolve().parents[2]
GOAL_RATIO = 0.8
GOAL_FRACTION = 0.95
CAP = 30.0  # Telegram's overall limit, messages per second
# What each person says, in order: commands, a card (a photo and a text), a soreness check
# answered by typing, and a dialog-free command at the end.
SCRIPT = ("/start", "/help", "/cards", "plank", "/sore", "yes", "abs", "none", "no", "/privacy")

warnings.filterwarnings("ignore", message=".*retry_after.*", category=DeprecationWarning)


# --------------------------------------------------------------------------- the fake server


@dataclass
class Server:
    api: str
    token: str
    control: str
    http: aiohttp.ClientSession

    async def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if body is None:
            async with self.http.get(self.control + path) as response:
                result: dict[str, Any] = await response.json()
        else:
            async with self.http.post(self.control + path, json=body) as response:
                result = await response.json()
        return result

    def settings(self, database: Path) -> Settings:
        return Settings(
            database_url=f"sqlite+aiosqlite:///{database}",
            telegram_token=self.token,
            telegram_api_base_url=self.api,
        )


@contextlib.asynccontextmanager
async def fake_server() -> AsyncIterator[Server]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.benchmarks._telegram_server",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        info = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        async with aiohttp.ClientSession() as http:
            yield Server(info["api"], info["token"], info["control"], http)
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def no_flood_limit(limiter: type[AIORateLimiter]) -> AIORateLimiter:
    return limiter(overall_max_rate=0, group_max_rate=0)


# --------------------------------------------------------------------------- (a) end to end


@dataclass
class Running:
    application: TelegramApplication
    stop: asyncio.Event
    task: asyncio.Task[None]
    telegram: TelegramBot | None = None  # the full bot: its updates go through its intake

    async def settled(self) -> None:
        """Every fetched update handled and answered."""
        if self.telegram is not None and self.telegram.intake is not None:
            await self.telegram.intake.drain()
        else:
            await self.application.update_queue.join()

    async def close(self) -> None:
        self.stop.set()
        await self.task


async def start_full_bot(_server: Server, app: App) -> Running:
    requests = Requests()
    application = build_application(
        app.settings, rate_limiter=no_flood_limit(MessageRateLimiter), requests=requests
    )
    telegram = TelegramBot(app, application=application, requests=requests)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_telegram(app, stop, telegram, ready=ready))
    await asyncio.wait_for(ready.wait(), 30)
    return Running(application, stop, task, telegram)


class FixedEngine:
    """Stands in for the engine: answers every event with one short text, no database. The
    full bot with this engine measures what the adapter adds to bare PTB."""

    def __init__(self) -> None:
        self.router = Router()

    async def handle(self, event: Inbound, receipt: Receipt | None = None) -> Turn:
        return Turn([Reply(f"Got it: {event.text or event.payload or ''}")])


async def start_adapter_only(server: Server, app: App) -> Running:
    return await start_full_bot(server, replace(app, engine=FixedEngine()))  # type: ignore[arg-type]


async def start_echo_bot(server: Server, _app: App, *, on_aiohttp: bool = False) -> Running:
    """The smallest PTB bot that answers every message, with the full bot's PTB settings;
    on PTB's default HTTP client unless `on_aiohttp`."""
    builder = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(f"{server.api}/bot")
        .rate_limiter(no_flood_limit(AIORateLimiter))
        .concurrent_updates(CONCURRENT_UPDATES)
        .job_queue(None)
    )
    if on_aiohttp:
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(pool_size=1))
    application = builder.build()

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await message.reply_text(message.text)

    application.add_handler(MessageHandler(filters.TEXT, echo))
    stop = asyncio.Event()

    async def serve() -> None:
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=30)
            await stop.wait()
            await application.updater.stop()
            await application.stop()

    task = asyncio.create_task(serve())
    while application.updater is None or not application.updater.running:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return Running(application, stop, task)


async def start_echo_bot_on_aiohttp(server: Server, app: App) -> Running:
    return await start_echo_bot(server, app, on_aiohttp=True)


@dataclass(frozen=True)
class Round:
    messages: int
    wall: float  # seconds from the burst to the last answer
    cpu: float  # CPU seconds this process spent meanwhile (every thread)

    @property
    def rate(self) -> float:
        return self.messages / self.wall

    @property
    def per_cpu_second(self) -> float:
        return self.messages / self.cpu


async def one_round(server: Server, bot: Running, people: int, per_person: int) -> Round:
    """One burst of messages from fresh people, until every one is handled and answered."""
    ids = (await server.call("/users", {"count": people}))["ids"]
    messages = [[uid, SCRIPT[n % len(SCRIPT)]] for n in range(per_person) for uid in ids]
    before = (await server.call("/pending"))["sent"]
    cpu = time.process_time()
    started = time.perf_counter()
    await server.call("/burst", {"messages": messages})
    await server.call("/drained", {})
    await bot.settled()  # every fetched update handled and answered
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    answered = (await server.call("/pending"))["sent"] - before
    assert answered >= len(messages), f"only {answered} answers to {len(messages)} messages"
    return Round(len(messages), elapsed, cpu)


async def end_to_end(server: Server, folder: Path, quick: bool) -> bool:
    people, per_person = (10, 10) if quick else (50, 10)
    rounds = 2 if quick else 5
    app = await build_app(server.settings(folder / "e2e.db"))
    full: list[Round] = []
    adapter_only: list[Round] = []
    echo: list[Round] = []
    echo_aiohttp: list[Round] = []
    try:
        # One bot at a time polls the fake (Telegram allows one getUpdates consumer).
        for _ in range(rounds):
            for results, start in (
                (echo, start_echo_bot),
                (echo_aiohttp, start_echo_bot_on_aiohttp),
                (adapter_only, start_adapter_only),
                (full, start_full_bot),
            ):
                bot = await start(server, app)
                try:
                    await one_round(server, bot, 5, len(SCRIPT))  # warm-up: connections, caches
                    results.append(await one_round(server, bot, people, per_person))
                finally:
                    await bot.close()
    finally:
        await app.close()

    def rate(results: list[Round]) -> float:
        return statistics.median(r.rate for r in results)

    def per_cpu(results: list[Round]) -> float:
        return statistics.median(r.per_cpu_second for r in results)

    wall_ratio = rate(full) / rate(echo)
    print(f"(a) end to end: {people * per_person} messages from {people} people, {rounds} rounds")
    print("                           msg/s   msg per CPU-second   (median; every round's msg/s)")
    for name, results in (
        ("bare PTB echo bot", echo),
        ("echo bot on aiohttp", echo_aiohttp),
        ("adapter, no engine", adapter_only),
        ("full bot (SQLite)", full),
    ):
        print(
            f"    {name:<22} {rate(results):5.0f}   {per_cpu(results):12.0f}         "
            f"({', '.join(f'{r.rate:.0f}' for r in results)})   "
            f"CPU {1000 / per_cpu(results):.2f} ms/msg"
        )
    verdict = "met" if wall_ratio >= GOAL_RATIO else "MISSED"
    print(f"    ratio full / echo      {wall_ratio:5.2f}   goal ≥ {GOAL_RATIO} ({verdict})")
    print(
        f"    per CPU-second: full / echo {per_cpu(full) / per_cpu(echo):.2f} (steadier on a "
        f"busy machine); full / echo on aiohttp {per_cpu(full) / per_cpu(echo_aiohttp):.2f} "
        "(the same HTTP layer: what the engine and content cost)"
    )
    return wall_ratio >= GOAL_RATIO


# --------------------------------------------------------------------------- (b) fan-out


async def fan_out(server: Server, folder: Path, count: int) -> bool:
    await server.call("/limits", {"enabled": True, "jitter": 0})  # strict: 30/s, 1/s per chat
    app = await build_app(server.settings(folder / "fanout.db"))
    first_chat = 5_000_000
    async with app.sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.NewMessage(
                    dedupe_key=f"bench:{n}",
                    platform="telegram",
                    chat_id=str(first_chat + n),
                    reply=Reply(f"Tuesday 7:00 — time for your core session ({n})"),
                )
                for n in range(count)
            ],
            now=app.engine.clock(),
        )
    telegram = TelegramBot(app)  # production settings: the 30 msg/s limiter (it never retries)
    stop, ready = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(run_telegram(app, stop, telegram, ready=ready))
    await asyncio.wait_for(ready.wait(), 30)
    sender = Sender(app.sessions, telegram.transport, pacing=PacingPolicy.telegram(CAP))
    started = time.perf_counter()
    sender.start()
    deadline = started + count / CAP * 1.5 + 30
    try:
        while (await server.call("/pending"))["sent"] < count:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        await sender.stop()
        stop.set()
        await serving
    async with app.sessions() as session:
        recorded = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.status == "sent")
        )
    await app.close()
    stats = await server.call("/stats")
    await server.call("/limits", {"enabled": False})

    delivered_chats = stats["chats"]
    lost = count - delivered_chats
    duplicates = stats["sent"] - delivered_chats
    too_many = stats["rate_violations"] + stats["statuses"].get("429", 0)
    rate = count / wall
    server_rate = (count - 1) / (stats["last"] - stats["first"]) if count > 1 else 0.0
    fraction = rate / CAP
    print(f"(b) fan-out: {count} outbox messages to {count} chats, fake enforcing {CAP:.0f} msg/s")
    print(f"    wall time              {wall:8.1f} s")
    print(f"    achieved rate          {rate:8.2f} msg/s = {fraction:.1%} of the cap (goal ≥ 95 %)")
    print(f"    rate at the server     {server_rate:8.2f} msg/s (first to last arrival)")
    print(f"    lost {lost}, duplicates {duplicates}, 429 answers {too_many}")
    print(f"    outbox rows marked sent: {recorded}")
    ok = fraction >= GOAL_FRACTION and lost == 0 and duplicates == 0 and too_many == 0
    print(f"    goals {'met' if ok else 'MISSED'}")
    return ok


async def run(quick: bool, only: str | None) -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        async with fake_server() as server:
            if only in (None, "e2e"):
                ok &= await end_to_end(server, Path(tmp), quick)
            if only in (None, "fanout"):
                ok &= await fan_out(server, Path(tmp), 600 if quick else 10_000)
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    only = "e2e" if "--e2e" in argv else "fanout" if "--fanout" in argv else None
    return asyncio.run(run("--quick" in argv, only))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
