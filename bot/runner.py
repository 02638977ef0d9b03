"""Running the platform adapters, the scheduler's sweep and the outbox senders side by side."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine, Sequence
from typing import Any

from aiohttp import web

from bot.adapters.strava_web import routes as strava_routes
from bot.app import App
from bot.delivery import Transport
from bot.ops.health import start_ops
from handlers.strava.api import StravaEndpoints
from scheduler import service


def start_background(app: App, transports: Sequence[Transport]) -> service.Background:
    """Start the reminder/check-in sweep and one outbox sender per platform transport on the
    running event loop; `await handle.stop()` on shutdown (before closing the transports)."""
    return service.start_background(app, transports)


def web_routes(app: App) -> list[web.RouteDef]:
    """The adapters' endpoints on the ops web server: Strava's OAuth callback and webhook."""
    return strava_routes(StravaEndpoints(app.sessions, app.content))


async def run_platforms(app: App) -> None:
    """Every platform whose token is set, plus the background senders, until SIGINT/SIGTERM."""
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, signalled.set)
    stop = asyncio.Event()  # for the platforms: set once the senders have stopped
    transports: list[Transport] = []
    runs: list[Coroutine[Any, Any, None]] = []
    if app.settings.discord_token:
        from bot.adapters.discord import make_bot, run_discord

        discord_bot = make_bot(app)
        transports.append(discord_bot.transport)
        runs.append(run_discord(app, stop, discord_bot))
    if app.settings.telegram_token:
        from bot.adapters.telegram import make_bot as make_telegram_bot
        from bot.adapters.telegram import run_telegram

        telegram_bot = make_telegram_bot(app)
        transports.append(telegram_bot.transport)
        runs.append(run_telegram(app, stop, telegram_bot))
    health = await start_ops(app, routes=web_routes(app))  # /healthz, /metrics, Strava
    background = start_background(app, transports)
    serving: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*runs))
    waiting: asyncio.Future[Any] = asyncio.ensure_future(signalled.wait())
    try:
        await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Senders first: they deliver through the platforms' connections, which close next.
        await background.stop()
        stop.set()
        waiting.cancel()
        try:
            await serving  # raises what ended a platform's run, e.g. StartFailed
        finally:
            if health is not None:
                await health.stop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
