"""Live countdowns (timed moves like a 45 s plank): the message that started one is edited
every few seconds with the time left, in a task of its own so other updates go on meanwhile.

Telegram tolerates roughly one edit per message every few seconds; `min_gap` keeps us above
that whatever `interval` says. A later edit of the same message (a button press) cancels the
countdown first, so the two never overwrite each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.adapters.telegram.outgoing import Outgoing
from bot.adapters.telegram.render import with_footer

log = logging.getLogger("corecoach.telegram")

MessageKey = tuple[int | str, int]


def footer(remaining: float) -> str:
    seconds = math.ceil(max(0.0, remaining))
    if seconds == 0:
        return "⏱ Time!"
    return f"⏱ {seconds // 60}:{seconds % 60:02d} left"


class Countdowns:
    def __init__(self, outgoing: Outgoing, *, interval: float = 5.0, min_gap: float = 3.0) -> None:
        self.outgoing = outgoing
        self.interval = max(interval, min_gap)
        self.min_gap = min_gap
        self._tasks: dict[MessageKey, asyncio.Task[None]] = {}

    def start(
        self,
        chat_id: int | str,
        message_id: int,
        html_text: str,
        markup: InlineKeyboardMarkup | None,
        seconds: float,
    ) -> None:
        """Count down on a message that was just sent showing `footer(seconds)`."""
        key = (chat_id, message_id)
        self.cancel(chat_id, message_id)
        task = asyncio.create_task(self._run(key, html_text, markup, seconds))
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def cancel(self, chat_id: int | str, message_id: int) -> None:
        task = self._tasks.pop((chat_id, message_id), None)
        if task is not None:
            task.cancel()

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _forget(self, key: MessageKey, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]

    async def _run(
        self,
        key: MessageKey,
        html_text: str,
        markup: InlineKeyboardMarkup | None,
        seconds: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        # Ticks fall on whole multiples of the interval before the end: 45 s → 40, 35, … 0.
        remaining = seconds
        last_edit = loop.time()  # the message itself was just sent
        while remaining > 0:
            target = math.ceil(remaining / self.interval) - 1
            next_tick = max(end - target * self.interval, last_edit + self.min_gap)
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            last_edit = loop.time()
            remaining = max(0.0, end - loop.time())
            try:
                await self.outgoing.edit(
                    key[0], key[1], with_footer(html_text, footer(remaining)), markup, attempts=1
                )
            except (BadRequest, Forbidden):
                return  # the message is gone or the chat closed: nothing left to update
            except TelegramError as exc:
                log.info("telegram.countdown_edit_skipped", extra={"error": type(exc).__name__})
