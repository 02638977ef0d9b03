"""Kill the real sender mid fan-out, restart it, and count what each recipient got.

The sender runs in a subprocess and delivers over HTTP to a tiny platform stand-in served by
this test, which records every request it receives. Like Discord with `nonce` +
`enforce_nonce`, the stand-in shows one message per idempotency key, so two numbers are
observable: raw requests (what Telegram, which has no such key, would show) and visible
messages.

What the tests check, exactly (the guarantee in scheduler/sender.py):
- SIGKILL at the worst moment (while the platform holds a request, before we learn of it):
  nothing is lost; raw duplicates happen only for the messages that were in the
  at-least-once window at the kill (received by the platform, `sent` not yet committed:
  at most `max_in_flight`), each exactly once more; every recipient sees exactly one message.
- SIGTERM (the normal way a process ends): no raw duplicate at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.events import Reply
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import Outbox, utcnow
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender, SenderConfig

RECIPIENTS = 60
KILL_AT = 25  # the request during which the worker dies
MAX_IN_FLIGHT = 4
ROOT = Path(__file__).resolve().parents[1]


# -- the worker process -------------------------------------------------------------------


class HttpTransport:
    platform = "test"

    def __init__(self, http: aiohttp.ClientSession, endpoint: str) -> None:
        self.http, self.endpoint = http, endpoint

    async def deliver(self, message: OutboundMessage) -> Delivery:
        body = {
            "outbox_id": message.outbox_id,
            "chat_id": message.chat_id,
            "key": f"outbox-{message.outbox_id}",  # the idempotency key
        }
        async with self.http.post(self.endpoint, json=body) as response:
            if response.status == 200:
                return Delivery(DeliveryStatus.SENT)
            return Delivery(DeliveryStatus.RETRY, error=f"http {response.status}")


def worker_main() -> None:
    """Entry point of the subprocess: deliver until nothing is pending, or SIGTERM."""
    url, schema, endpoint = sys.argv[1:4]
    asyncio.run(_work(url, schema, endpoint))


async def _work(url: str, schema: str, endpoint: str) -> None:
    kwargs = {"connect_args": {"server_settings": {"search_path": schema}}} if schema else {}
    engine = make_engine(url, **kwargs)
    sessions = make_sessionmaker(engine)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with aiohttp.ClientSession() as http:
        sender = Sender(
            sessions,
            HttpTransport(http, endpoint),
            # Slow enough that a stop signal lands mid fan-out even on a busy machine.
            pacing=PacingPolicy(100, burst=1, private_interval=1, group_per_minute=20),
            config=SenderConfig(
                batch_size=10,
                claim_lease=timedelta(seconds=0.5),
                send_lease=timedelta(seconds=1),
                max_in_flight=MAX_IN_FLIGHT,
                poll_interval=0.05,
            ),
        )
        sender.start()
        while not stop.is_set():
            async with sessions() as session:
                pending = await session.scalar(
                    select(func.count()).where(Outbox.status == outbox.PENDING)
                )
            if pending == 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
        await sender.stop()
    await engine.dispose()


# -- the platform stand-in ------------------------------------------------------------------


@dataclass
class Platform:
    received: list[int] = field(default_factory=list)  # outbox ids, one per request
    visible: dict[str, str] = field(default_factory=dict)  # idempotency key → chat
    worker_pid: int | None = None
    stop_signal: signal.Signals | None = None  # sent to the worker during request KILL_AT
    stopped_at: list[int] | None = None  # what had arrived when the signal went

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(int(body["outbox_id"]))
        self.visible.setdefault(body["key"], body["chat_id"])
        if len(self.received) == KILL_AT and self.stop_signal is not None:
            assert self.worker_pid is not None
            self.stopped_at = list(self.received)
            if self.stop_signal == signal.SIGKILL:
                # Dies while we hold its request: we have the message, it never learns.
                os.kill(self.worker_pid, signal.SIGKILL)
            else:
                asyncio.get_running_loop().call_soon(os.kill, self.worker_pid, self.stop_signal)
        return web.json_response({"ok": True})


@pytest.fixture
async def platform() -> AsyncIterator[tuple[Platform, str]]:
    stand_in = Platform()
    app = web.Application()
    app.router.add_post("/send", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield stand_in, f"http://127.0.0.1:{port}/send"
    await runner.cleanup()


async def _run_worker(
    db: AsyncEngine, endpoint: str, stand_in: Platform, stop_signal: signal.Signals | None
) -> int:
    url = db.url.render_as_string(hide_password=False)
    schema = ""
    if db.dialect.name == "postgresql":
        async with db.connect() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    stand_in.stop_signal = stop_signal
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from tests.test_outbox_kill import worker_main; worker_main()",
        url,
        schema,
        endpoint,
        cwd=ROOT,
    )
    stand_in.worker_pid = process.pid
    return await asyncio.wait_for(process.wait(), 60)


async def _fill(db: AsyncEngine) -> None:
    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.NewMessage(f"fan:{i}", "test", f"runner{i}", Reply(f"Tuesday 07:00 #{i}"))
                for i in range(RECIPIENTS)
            ],
            now=utcnow(),
        )


async def _settle(stand_in: Platform) -> None:
    """Wait until no more requests arrive (for 0.2 s)."""
    for _ in range(50):
        seen = len(stand_in.received)
        await asyncio.sleep(0.2)
        if len(stand_in.received) == seen:
            return


async def _sent_ids(db: AsyncEngine) -> set[int]:
    async with make_sessionmaker(db)() as session:
        return set(await session.scalars(select(Outbox.id).where(Outbox.status == outbox.SENT)))


async def test_sigkill_mid_fan_out_loses_nothing_and_repeats_only_the_window(
    db: AsyncEngine, platform: tuple[Platform, str]
) -> None:
    stand_in, endpoint = platform
    await _fill(db)
    assert await _run_worker(db, endpoint, stand_in, signal.SIGKILL) == -signal.SIGKILL
    assert stand_in.stopped_at is not None
    # Requests the worker wrote to the socket before dying still arrive: let them land.
    await _settle(stand_in)
    # The at-least-once window at the kill: the platform has these, `sent` never committed.
    window = set(stand_in.received) - await _sent_ids(db)
    assert stand_in.stopped_at[-1] in window  # the request the worker died in
    assert 1 <= len(window) <= MAX_IN_FLIGHT

    assert await _run_worker(db, endpoint, stand_in, None) == 0
    raw = Counter(stand_in.received)
    all_ids = await _sent_ids(db)
    assert len(all_ids) == RECIPIENTS  # nothing lost, everything marked sent
    assert set(raw) == all_ids
    assert {i for i, n in raw.items() if n > 1} == window  # duplicates: only the window...
    assert all(raw[i] == 2 for i in window)  # ...and only once more
    per_recipient = Counter(stand_in.visible.values())
    assert len(per_recipient) == RECIPIENTS and set(per_recipient.values()) == {1}


async def test_sigterm_mid_fan_out_sends_nothing_twice(
    sqlite_db: AsyncEngine, platform: tuple[Platform, str]
) -> None:
    stand_in, endpoint = platform
    await _fill(sqlite_db)
    assert await _run_worker(sqlite_db, endpoint, stand_in, signal.SIGTERM) == 0
    assert stand_in.stopped_at is not None
    stopped_with = set(stand_in.received)
    # A graceful stop finished what was in flight: nothing is left in the window.
    assert stopped_with <= await _sent_ids(sqlite_db)
    assert len(stopped_with) < RECIPIENTS

    assert await _run_worker(sqlite_db, endpoint, stand_in, None) == 0
    raw = Counter(stand_in.received)
    assert len(raw) == RECIPIENTS and set(raw.values()) == {1}
    assert len(await _sent_ids(sqlite_db)) == RECIPIENTS
