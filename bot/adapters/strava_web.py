"""Strava's HTTP side, served by the bot's own web server (bot/ops/health.py, beside /healthz):
the OAuth callback's pages and the webhook (GET: the subscription check, POST: events).

Translation only: what each request means is the Strava feature's (handlers/strava/api.py,
handed in by the runner as `StravaWeb`)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

# Status per page: the person sees the words either way; tools and tests see the outcome.
STATUS = {"connected": 200, "denied": 403, "expired": 410, "already": 409, "failed": 502}
MAX_EVENT_BYTES = 16 * 1024  # Strava's events are a few hundred bytes

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Core Coach</title>
<style>
body {{ font: 1.125rem/1.5 system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; }}
main {{ max-width: 32rem; margin: 3rem auto; padding: 0 1.25rem; }}
h1 {{ font-size: 1.5rem; line-height: 1.25; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{body}</p>
</main>
</body>
</html>
"""


class StravaWeb(Protocol):
    callback_path: str
    webhook_path: str

    async def callback(self, params: Mapping[str, str]) -> str: ...
    def page(self, key: str) -> tuple[str, str]: ...
    def challenge(self, params: Mapping[str, str]) -> str | None: ...
    async def event(self, body: Mapping[str, Any]) -> bool: ...


def render(title: str, body: str) -> str:
    return PAGE.format(title=html.escape(title), body=html.escape(body))


def routes(strava: StravaWeb) -> list[web.RouteDef]:
    async def callback(request: web.Request) -> web.Response:
        key = await strava.callback(dict(request.query))
        title, body = strava.page(key)
        return web.Response(
            text=render(title, body),
            status=STATUS.get(key, 200),
            content_type="text/html",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    async def verify(request: web.Request) -> web.Response:
        echoed = strava.challenge(dict(request.query))
        if echoed is None:
            return web.json_response({"error": "forbidden"}, status=403)
        return web.json_response({"hub.challenge": echoed})

    async def event(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_EVENT_BYTES:
            return web.json_response({"error": "too large"}, status=413)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "not json"}, status=400)
        if not isinstance(body, dict) or not await strava.event(body):
            return web.json_response({"error": "not an event"}, status=400)
        return web.json_response({"ok": True})

    return [
        web.get(strava.callback_path, callback),
        web.get(strava.webhook_path, verify),
        web.post(strava.webhook_path, event),
    ]
