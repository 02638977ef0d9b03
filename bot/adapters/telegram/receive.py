"""Receiving Telegram updates, each stored before Telegram is told it arrived (intake.py).

Polling: getUpdates with the offset after the last stored batch, which is what confirms that
batch to Telegram; a batch that could not be stored is fetched again. Webhook: the bot's own
aiohttp listener (TELEGRAM_WEBHOOK_LISTEN:PORT, the URL's path) checks the secret Telegram
sends back, stores the update and only then answers 200; any other answer makes Telegram
deliver it again. PTB's Updater does neither (it confirms and answers on its own), so it is
not used; only the public Bot.get_updates / set_webhook and Update.de_json.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict, NetworkError, TelegramError

from bot.adapters.telegram.intake import Intake
from bot.config import Settings

log = logging.getLogger("corecoach.telegram")

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Waits after a failed getUpdates or store, doubling up to the last.
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


async def poll(bot: Bot, intake: Intake, stop: asyncio.Event, wait_seconds: float) -> None:
    """Long-poll until cancelled; each batch is stored before its offset is sent back."""
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=int(wait_seconds), allowed_updates=ALLOWED_UPDATES
            )
            if updates:
                await intake.accept([(u, u.to_dict()) for u in updates])
                offset = updates[-1].update_id + 1
                intake.confirmed_below = offset
            failures = 0
        except (NetworkError, Conflict) as exc:  # Telegram away, or another poller for a while
            failures += 1
            log.warning("telegram.poll_failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])
        except TelegramError:  # the token revoked: nothing to wait for
            raise
        except Exception as exc:  # not stored (the database is away): fetched again later
            failures += 1
            log.warning("telegram.store_failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])


async def confirm_stored(bot: Bot, intake: Intake) -> None:
    """On a clean stop, tell Telegram about the stored batch (so a restart is not sent it
    again: harmless, since it is stored, but pointless)."""
    if intake.confirmed_below is None:
        return
    try:
        await bot.get_updates(offset=intake.confirmed_below, timeout=0, limit=1)
    except TelegramError as exc:
        log.info("telegram.confirm_failed", extra={"error": type(exc).__name__})


async def start_webhook(settings: Settings, bot: Bot, intake: Intake) -> asyncio.Task[None]:
    """Listen, then register the webhook with Telegram; the task serves until cancelled.
    Raises OSError when the address cannot be listened on."""
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
    assert url and secret
    app = web.Application()
    app.router.add_post(urlsplit(url).path or "/", _receiver(bot, intake, secret))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.telegram_webhook_listen, settings.telegram_webhook_port)
        await site.start()
        await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    except BaseException:
        await runner.cleanup()
        raise
    log.info("telegram.webhook_listening", extra={"port": settings.telegram_webhook_port})
    return asyncio.create_task(_serve_until_cancelled(runner))


async def _serve_until_cancelled(runner: web.AppRunner) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _receiver(bot: Bot, intake: Intake, secret: str) -> Any:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, bot)
        except Exception:  # not an update: Telegram never sends this, so nothing to retry
            return web.Response(status=400)
        try:
            await intake.accept([(update, data)])
        except Exception as exc:  # not stored: Telegram will deliver it again
            log.warning("telegram.store_failed", extra={"error": type(exc).__name__})
            return web.Response(status=503)
        return web.Response(status=200)

    return receive
