"""FakeTelegramAPI in a process of its own, for the Telegram benchmarks.

Telegram's servers do not share our CPU, so the fake must not either: in one process its
work would be charged to whichever bot is being measured. The benchmark starts this module
as a subprocess; it prints one JSON line with the Bot API and control URLs and serves until
its stdin closes. The control API (JSON over HTTP) acts as users and reports what arrived.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api import FakeTelegramAPI, RateLimitConfig


def _routes(fake: FakeTelegramAPI) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.post("/users")
    async def users(request: web.Request) -> web.Response:
        count = int((await request.json())["count"])
        ids = [fake.add_user(f"Runner{n}").id for n in range(count)]
        return web.json_response({"ids": ids})

    @routes.post("/burst")
    async def burst(request: web.Request) -> web.Response:
        """Every [user id, text] pair becomes a private message to the bot, all at once."""
        for user_id, text in (await request.json())["messages"]:
            fake.user_sends(user_id, None, text)
        return web.json_response({"queued": len(fake.pending_updates)})

    @routes.post("/limits")
    async def limits(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        fake.rate_limits = RateLimitConfig(
            enabled=bool(body["enabled"]), jitter_tolerance=float(body.get("jitter", 0.25))
        )
        fake.reset_records()
        return web.json_response({"ok": True})

    @routes.post("/reset")
    async def reset(_request: web.Request) -> web.Response:
        fake.reset_records()
        return web.json_response({"ok": True})

    @routes.post("/drained")
    async def drained(_request: web.Request) -> web.Response:
        """Answers once the bot has confirmed every queued update (getUpdates offset)."""
        await fake.wait_for_updates_consumed(timeout=600)
        return web.json_response({"sent": len(fake.sent)})

    @routes.get("/pending")
    async def pending(_request: web.Request) -> web.Response:
        return web.json_response({"pending": len(fake.pending_updates), "sent": len(fake.sent)})

    @routes.get("/stats")
    async def stats(_request: web.Request) -> web.Response:
        sends = [r for r in fake.sent if r.method in ("sendMessage", "sendPhoto", "sendDocument")]
        per_chat = collections.Counter(r.chat_id for r in sends)
        statuses = collections.Counter(c.status for c in fake.calls if c.method != "getUpdates")
        return web.json_response(
            {
                "sent": len(sends),
                "chats": len(per_chat),
                "most_to_one_chat": max(per_chat.values(), default=0),
                "first": sends[0].timestamp if sends else None,
                "last": sends[-1].timestamp if sends else None,
                "rate_violations": fake.rate_violations,
                "statuses": {str(k): v for k, v in statuses.items()},
            }
        )

    return routes


async def serve() -> None:
    # Unknown private chats are created on first contact, for 10,000-recipient fan-outs.
    async with FakeTelegramAPI(auto_create_chats=True) as fake:
        control = web.Application()
        control.add_routes(_routes(fake))
        runner = web.AppRunner(control, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(
            json.dumps(
                {"api": fake.url, "token": fake.token, "control": f"http://127.0.0.1:{port}"}
            ),
            flush=True,
        )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the benchmark goes away
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
