"""Building the python-telegram-bot Application: token and server from the settings, the
flood-limit guard (pacing only, no retries), HTTP on aiohttp (http.py) with generous
timeouts, updates handled concurrently."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseRateLimiter

from bot.adapters.telegram.http import AiohttpRequest
from bot.config import Settings

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]
JSONDict = dict[str, Any]

# Telegram's flood limits are about messages; PTB's AIORateLimiter would also count reads
# such as getChatMember against a group's 20 messages a minute.
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
# Turns run side by side (the adapter keeps each person's own updates in order).
CONCURRENT_UPDATES = 64


Answer = bool | JSONDict | list[JSONDict]


class MessageRateLimiter(AIORateLimiter):
    """AIORateLimiter's pacing (≈30 messages/s overall, 20/min per group) for sending and
    editing messages; other calls pass straight through. It retries nothing: a flood wait
    (RetryAfter) goes straight back to the caller, who knows what it means — a reply waits
    once (outgoing.RetryPolicy), the outbox holds that chat and moves on (scheduler/). Retries
    here would stack under theirs: three 40 s waits outlast the outbox's send lease.

    RetryAfter is passed around AIORateLimiter rather than through it, as with max_retries=0
    it would log every one as an error with a traceback, though each is handled."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        if endpoint not in MESSAGE_METHODS:
            data = {}  # no chat_id: AIORateLimiter applies no limit
        refused: list[RetryAfter] = []

        async def once(*call_args: Any, **call_kwargs: Any) -> Answer:
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                refused.append(exc)
                return False  # never seen: raised below

        # No rate_limit_args: it only sets AIORateLimiter's retries, and there are none.
        answer = await super().process_request(once, args, kwargs, endpoint, data, None)
        if refused:
            raise refused[0]
        return answer


@dataclass(frozen=True)
class Requests:
    """The bot's two HTTP clients, kept here: PTB closes them only when its start-up got as far
    as getMe's answer (run.py closes them otherwise), and offers no public way back to them."""

    api: AiohttpRequest = field(
        default_factory=lambda: AiohttpRequest(
            connect_timeout=10,
            read_timeout=15,
            write_timeout=30,
            media_write_timeout=30,  # photo uploads
            pool_timeout=10,
        )
    )
    # Long polling: getUpdates adds its own wait to the read timeout.
    updates: AiohttpRequest = field(
        default_factory=lambda: AiohttpRequest(pool_size=1, connect_timeout=10, read_timeout=10)
    )

    async def shutdown(self) -> None:
        for request in (self.api, self.updates):
            await request.shutdown()


def api_root(base_url: str | None) -> str | None:
    """TELEGRAM_API_BASE_URL is the Bot API server's root (https://api.telegram.org, or a
    self-hosted server); a value ending in /bot, as PTB spells it, is accepted too."""
    if not base_url:
        return None
    return base_url.rstrip("/").removesuffix("/bot")


def build_application(
    settings: Settings,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    per_second: float | None = None,
    requests: Requests | None = None,
) -> TelegramApplication:
    """The Application for this bot. `rate_limiter` replaces the default guard (benchmarks);
    `per_second` lowers the overall message rate (defaults to COACH_TELEGRAM_RATE); pass
    `requests` to keep hold of the HTTP clients."""
    if not settings.telegram_token:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    limiter = rate_limiter or MessageRateLimiter(
        overall_max_rate=per_second or settings.telegram_rate, overall_time_period=1
    )
    http = requests or Requests()
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .rate_limiter(limiter)
        .concurrent_updates(CONCURRENT_UPDATES)
        .job_queue(None)  # the scheduler/ package does timed work
        .request(http.api)
        .get_updates_request(http.updates)
    )
    root = api_root(settings.telegram_api_base_url)
    if root:
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    return builder.build()
