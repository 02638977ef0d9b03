"""Serving Telegram: long polling (default) or a webhook, the command menus, and a clean stop.

Updates are stored before Telegram learns they arrived (intake.py): polling confirms a batch's
offset with the next getUpdates, sent only once the batch is stored; the webhook answers 200
only once the update is stored. At start, what a dead process left is handled first.

Stopping (the stop event, set on SIGTERM): no new updates are fetched (the offset of those
already stored is confirmed to Telegram), the updates in hand are handled and their replies
sent, countdowns end, then the connection closes.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.adapters import StartFailed
from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.application import Requests, TelegramApplication, build_application
from bot.adapters.telegram.intake import Intake, stop_task
from bot.adapters.telegram.outgoing import Outgoing, RetryPolicy
from bot.adapters.telegram.receive import confirm_stored, poll, start_webhook
from bot.adapters.telegram.transport import TelegramTransport
from bot.app import App
from bot.engine.router import Router

log = logging.getLogger("corecoach.telegram")

MAX_COMMANDS = 100


class TelegramBot:
    """The pieces of one Telegram bot: made before the run, so the outbox sender can be
    given `transport` up front (it delivers once the run has logged in). Pass `requests`
    with an `application` built on them, so the run closes them however it ends."""

    def __init__(
        self,
        app: App,
        *,
        application: TelegramApplication | None = None,
        requests: Requests | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.app = app
        if application is None:
            requests = requests or Requests()
            application = build_application(app.settings, requests=requests)
        self.application = application
        self.requests = requests
        self.outgoing = Outgoing(self.application.bot, retry)
        self.transport = TelegramTransport(self.outgoing, ready=False)
        self.adapter: TelegramAdapter | None = None  # set once the bot knows who it is
        self.intake: Intake | None = None  # set once updates are being received


def make_bot(app: App) -> TelegramBot:
    return TelegramBot(app)


async def register_commands(bot: Bot, router: Router) -> None:
    """The command menus of private chats and groups (what typing "/" shows)."""
    commands = [BotCommand(c.name, c.help[:256]) for c in router.listed_commands()][:MAX_COMMANDS]
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        try:
            await bot.set_my_commands(commands, scope=scope)
        except TelegramError as exc:  # a missing menu is no reason not to serve
            log.warning("telegram.set_commands_failed", extra={"error": type(exc).__name__})


async def run_telegram(
    app: App,
    stop: asyncio.Event,
    bot: TelegramBot | None = None,
    *,
    poll_timeout: float = 30.0,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve Telegram until `stop` is set. Pass `bot` (from make_bot) when its transport was
    handed to the outbox sender; `ready` is set once updates are being received."""
    # PTB logs whole updates (message text, health answers) at DEBUG: never let it.
    ptb_log = logging.getLogger("telegram")
    ptb_log.setLevel(max(ptb_log.getEffectiveLevel(), logging.INFO))
    bot = bot or make_bot(app)
    serving = ready or asyncio.Event()
    try:
        await _serve(app, stop, bot, poll_timeout, serving)
    except InvalidToken:
        raise StartFailed("corecoach: Telegram refused TELEGRAM_BOT_TOKEN") from None
    except NetworkError as exc:
        if serving.is_set():
            raise
        raise StartFailed(
            f"corecoach: couldn't reach Telegram to start ({type(exc).__name__}); "
            "check the network or TELEGRAM_API_BASE_URL"
        ) from None
    finally:
        # PTB closes the HTTP sessions only if start-up got as far as getMe's answer.
        if bot.requests is not None:
            await bot.requests.shutdown()


async def _serve(
    app: App, stop: asyncio.Event, bot: TelegramBot, poll_timeout: float, serving: asyncio.Event
) -> None:
    application = bot.application
    settings = app.settings
    async with application:  # getMe: who we are; closes the connections on the way out
        me = application.bot
        adapter = TelegramAdapter(app.engine, bot.outgoing, bot_id=me.id, bot_username=me.username)
        adapter.durable = True
        bot.adapter = adapter
        adapter.attach(application)
        await register_commands(me, app.engine.router)
        await application.start()
        intake = Intake(app.sessions, application, adapter)
        bot.intake = intake
        webhook = settings.telegram_mode == "webhook"
        receiving: asyncio.Task[None] | None = None
        recovering: asyncio.Task[None] | None = None
        try:
            bot.transport.ready = True
            # First what a dead process left, so a person's older updates go first. The process
            # that polls is the only one serving this bot: it takes over every unfinished row
            # at once. Webhook workers may share the database with live ones: they take only
            # rows whose lease ran out (unless on SQLite, served by one process).
            await intake.recover(take_over=not webhook or _single_writer(app))
            if webhook:
                receiving = await start_webhook(settings, me, intake)
            else:
                await me.delete_webhook()  # getUpdates is refused while a webhook is set
                receiving = asyncio.create_task(poll(me, intake, stop, poll_timeout))
            recovering = asyncio.create_task(intake.keep_recovering())
            log.info("telegram.started", extra={"mode": settings.telegram_mode})
            serving.set()
            await _until_stopped(stop, receiving)
        finally:
            bot.transport.ready = False
            for task in (recovering, receiving):
                if task is not None:
                    await stop_task(task)
            await intake.drain()  # the updates in hand are handled and answered
            if not webhook:
                await confirm_stored(me, intake)
            await application.stop()
            await adapter.close()
            log.info("telegram.stopped")


def _single_writer(app: App) -> bool:
    """SQLite: one process serves the file, so what is stored unfinished is a dead one's."""
    return app.db.dialect.name == "sqlite"


async def _until_stopped(stop: asyncio.Event, receiving: asyncio.Task[None]) -> None:
    """Until `stop`, or until receiving ends (raising what ended it)."""
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({stopped, receiving}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if receiving.done():
        receiving.result()
