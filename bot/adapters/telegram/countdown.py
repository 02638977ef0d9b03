"""Telegram live countdowns: how to edit one message; timing lives in bot.adapters.countdown.

Telegram tolerates roughly one edit per message every few seconds, which `min_gap` respects.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.adapters.countdown import Clock, CountdownTasks
from bot.adapters.countdown import footer as footer
from bot.adapters.telegram.outgoing import Outgoing
from bot.adapters.telegram.render import with_footer

log = logging.getLogger("corecoach.telegram")

MessageKey = tuple[int | str, int]


class Countdowns(CountdownTasks[MessageKey]):
    def __init__(
        self,
        outgoing: Outgoing,
        *,
        interval: float = 5.0,
        min_gap: float = 3.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(interval=interval, min_gap=min_gap, clock=clock)
        self.outgoing = outgoing

    def start(
        self,
        chat_id: int | str,
        message_id: int,
        html_text: str,
        markup: InlineKeyboardMarkup | None,
        seconds: float,
    ) -> None:
        """Count down on a message that was just sent showing `footer(seconds)`."""

        async def tick(remaining: float) -> bool:
            try:
                await self.outgoing.edit(
                    chat_id,
                    message_id,
                    with_footer(html_text, footer(remaining)),
                    markup,
                    attempts=1,
                )
            except (BadRequest, Forbidden):
                return False  # the message is gone or the chat closed: nothing left to update
            except TelegramError as exc:
                log.info("telegram.countdown_edit_skipped", extra={"error": type(exc).__name__})
            return True

        self.begin((chat_id, message_id), tick, seconds)

    def cancel_message(self, chat_id: int | str, message_id: int) -> None:
        self.cancel((chat_id, message_id))
