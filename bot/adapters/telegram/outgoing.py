"""Putting messages on the wire: sends and edits with bounded retries, and the one mapping from
Telegram errors to delivery outcomes.

What PTB does and does not do for us (pinned down in tests/test_fake_telegram_api.py):
- a 429 becomes RetryAfter. Nothing under us retries it (application.MessageRateLimiter
  hands it straight back), so each caller decides: a reply waits once, if the wait is
  short (RetryPolicy); the outbox sender holds the chat and moves on (transport.py);
- a 5xx or a dropped connection is a plain NetworkError and is never retried by PTB;
- BadRequest and TimedOut subclass NetworkError, so the except clauses below go from the
  most specific class to the least;
- TimedOut does not mean "not sent": the request may have reached Telegram. Retrying it (as
  we do for replies, and the outbox sender does for proactive messages) can show the person a
  message twice; losing a dialog question would be worse. Timeouts are generous
  (application.py) so this stays rare.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.telegram.render import Part
from bot.delivery import Delivery, DeliveryStatus, RetryScope

log = logging.getLogger("corecoach.telegram")
T = TypeVar("T")

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# 400s that mean the chat is gone for good (deleted account, group deleted), not a bad message.
_GONE = ("chat not found", "user is deactivated", "group chat was deactivated")


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int becomes a timedelta in 23 (or now, with PTB_TIMEDELTA=1).
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(0.0, seconds)


def delivery_for(exc: BaseException) -> Delivery:
    """What a failed send means for the outbox: retry later, give up, or stop writing."""
    error = type(exc).__name__
    if isinstance(exc, RetryAfter):
        # Held for this chat; the pacer widens the hold if other chats are refused too.
        seconds = retry_after_seconds(exc)
        return Delivery(
            DeliveryStatus.RETRY, retry_after=seconds, error=error, retry_scope=RetryScope.CHAT
        )
    if isinstance(exc, Forbidden):
        return Delivery(DeliveryStatus.UNREACHABLE, error=_short(exc))
    if isinstance(exc, BadRequest):
        if is_gone(exc):
            return Delivery(DeliveryStatus.UNREACHABLE, error=_short(exc))
        return Delivery(DeliveryStatus.FAILED, error=_short(exc))
    if isinstance(exc, NetworkError):  # 5xx, connection trouble, TimedOut (maybe sent)
        return Delivery(DeliveryStatus.RETRY, error=error)
    if isinstance(exc, TelegramError):  # e.g. a revoked token: not this message's fault
        return Delivery(DeliveryStatus.RETRY, error=error)
    raise exc


def is_gone(exc: BadRequest) -> bool:
    # PTB rewrites Telegram's descriptions ("Bad Request: chat not found" → "Chat not found").
    text = exc.message.casefold()
    return any(marker in text for marker in _GONE)


def _short(exc: TelegramError) -> str:
    # Telegram's descriptions name the problem, never the message content.
    return f"{type(exc).__name__}: {exc.message}"[:200]


@dataclass(frozen=True)
class Sent:
    """What the adapter keeps of a message it sent."""

    chat_id: int
    message_id: int

    @classmethod
    def of(cls, message: Message) -> Sent:
        return cls(message.chat.id, message.message_id)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of replies (a person is waiting); the outbox sender passes attempts=1 and
    retries on its own schedule."""

    attempts: int = 4  # tries per message after network trouble and 5xx
    backoff: float = 0.5  # seconds before the second try; doubles each time
    flood_waits: int = 1  # how many times a 429's retry_after is sat out per message
    max_wait: float = 30.0  # a longer flood wait is not sat out while a person waits


Sleep = Callable[[float], Awaitable[None]]


class Outgoing:
    def __init__(
        self, bot: Bot, policy: RetryPolicy | None = None, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.bot = bot
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        # Uploaded once, then sent by file_id: card pictures go to many people.
        self._file_ids: dict[Path, str] = {}

    async def send(
        self, chat_id: int | str, thread_id: str, part: Part, *, attempts: int | None = None
    ) -> Sent:
        """Send one part, retrying transient failures; follows a group's move to a
        supergroup once. Raises the last error when it gives up."""
        tries = attempts or self.policy.attempts
        try:
            return await self.retrying(lambda: self._send_once(chat_id, thread_id, part), tries)
        except ChatMigrated as moved:
            log.info("telegram.chat_migrated")
            new_id = moved.new_chat_id
            return await self.retrying(lambda: self._send_once(new_id, thread_id, part), tries)

    async def edit(
        self,
        chat_id: int | str,
        message_id: int,
        html_text: str,
        markup: InlineKeyboardMarkup | None,
        *,
        attempts: int | None = None,
    ) -> None:
        """Replace a message's text and keyboard. "Not modified" counts as done: the message
        already shows exactly this."""

        async def once() -> None:
            try:
                await self.bot.edit_message_text(
                    html_text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=_NO_PREVIEW,
                )
            except BadRequest as exc:
                if "not modified" not in exc.message.casefold():
                    raise

        await self.retrying(once, attempts or self.policy.attempts)

    async def retrying(self, call: Callable[[], Awaitable[T]], attempts: int) -> T:
        """The one retry layer under a reply: PTB and its rate limiter retry nothing."""
        delay = self.policy.backoff
        flood_waits = self.policy.flood_waits
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if attempt == attempts or flood_waits == 0 or wait > self.policy.max_wait:
                    raise
                flood_waits -= 1
                log.warning("telegram.retry_after", extra={"seconds": wait})
                await self.sleep(wait + 0.1)
            except (BadRequest, Forbidden, ChatMigrated):
                raise  # permanent for this request (BadRequest is a NetworkError: first)
            except NetworkError as exc:  # 5xx, connection trouble, TimedOut
                if attempt == attempts:
                    raise
                log.warning("telegram.retry", extra={"error": type(exc).__name__})
                await self.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, chat_id: int | str, thread_id: str, part: Part) -> Sent:
        thread = int(thread_id) if thread_id else None
        if part.kind == "text":
            sent = await self.bot.send_message(
                chat_id,
                part.html,
                parse_mode=ParseMode.HTML,
                reply_markup=part.markup,
                message_thread_id=thread,
                link_preview_options=_NO_PREVIEW,
            )
            return Sent.of(sent)
        assert part.file is not None
        cached = self._file_ids.get(part.file)
        try:
            message = await self._send_file(chat_id, thread, part, cached or part.file)
        except BadRequest:
            if cached is None:
                raise
            self._file_ids.pop(part.file, None)  # the stored id went stale: upload again
            message = await self._send_file(chat_id, thread, part, part.file)
        file_id = (
            message.photo[-1].file_id
            if message.photo
            else message.animation.file_id
            if message.animation
            else message.document.file_id
            if message.document
            else None
        )
        if file_id:
            self._file_ids[part.file] = file_id
        return Sent.of(message)

    async def _send_file(
        self, chat_id: int | str, thread: int | None, part: Part, source: Path | str
    ) -> Message:
        caption = part.html or None
        if part.kind == "photo":
            return await self.bot.send_photo(
                chat_id,
                source,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=part.markup,
                message_thread_id=thread,
            )
        if part.kind == "animation":
            return await self.bot.send_animation(
                chat_id,
                source,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=part.markup,
                message_thread_id=thread,
            )
        return await self.bot.send_document(
            chat_id,
            source,
            caption=caption,
            parse_mode=ParseMode.HTML,
            reply_markup=part.markup,
            message_thread_id=thread,
        )
