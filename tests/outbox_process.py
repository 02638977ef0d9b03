"""A real outbox worker in a process of its own: the sender as `corecoach run` builds it
(scheduler.service.sender_for: shared pace, heartbeats), delivering through the real
TelegramTransport (python-telegram-bot over HTTP) to the fake Bot API of the test.

    python -m tests.outbox_process DB_URL SCHEMA API_BASE_URL

Prints `worker <id>` once its sender runs; SIGTERM stops it cleanly, and it prints when it
began each send (Unix time and chat, JSON): the pace as the workers kept it, before network jitter.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any

from bot.adapters.telegram.application import build_application
from bot.adapters.telegram.outgoing import Outgoing
from bot.adapters.telegram.transport import TelegramTransport
from bot.config import Settings
from bot.delivery import Delivery, OutboundMessage
from bot.storage.db import make_engine, make_sessionmaker
from scheduler.service import sender_for
from tests.fakes.telegram_api import DEFAULT_TOKEN

MAX_IN_FLIGHT = 8  # the sender's default: the bound on sends in flight at a kill


class Stamped:
    """The real transport, noting when each send begins."""

    def __init__(self, transport: TelegramTransport) -> None:
        self.transport = transport
        self.platform = transport.platform
        self.began: list[tuple[float, str]] = []

    async def deliver(self, message: OutboundMessage) -> Delivery:
        self.began.append((time.time(), message.chat_id))
        return await self.transport.deliver(message)


async def work(url: str, schema: str, api: str) -> None:
    kwargs: dict[str, Any] = {}
    if schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = make_engine(url, **kwargs)
    settings = Settings(telegram_token=DEFAULT_TOKEN, telegram_api_base_url=api)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    application = build_application(settings)
    async with application:
        transport = Stamped(TelegramTransport(Outgoing(application.bot), ready=True))
        sender = sender_for(make_sessionmaker(engine), transport, settings)
        assert sender.config.max_in_flight == MAX_IN_FLIGHT
        sender.start()
        print(f"worker {sender.worker_id}", flush=True)
        await stop.wait()
        await sender.stop()
        print(json.dumps(transport.began), flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(work(*sys.argv[1:4]))
