"""The outbox sender's way onto Telegram (bot.delivery.Transport): one message, one outcome.

The sender paces and retries; this only sends, once per call, and says how it went:
403 → UNREACHABLE (blocked, kicked; a 400 "chat not found" too), 429 → RETRY after
Telegram's retry_after (the sender's pacer holds that chat meanwhile), 5xx / network errors /
timeouts → RETRY, any other 400 → FAILED. Nothing under it retries (no flood waits sat out in
the rate limiter), and a call ends within SEND_BUDGET, well inside the sender's send lease:
a call still running when the lease ends would let another worker send the message again.

At-least-once window: a timeout (or a crash) after Telegram accepted a message and before
the sender recorded it sends that message again on the retry — Telegram has no idempotency
key. A reply split into several messages resumes after the last part that went out, so a
failure half-way repeats nothing (remembered in memory, i.e. within this process).
"""

from __future__ import annotations

import asyncio

from bot.adapters.telegram.outgoing import Outgoing, delivery_for
from bot.adapters.telegram.render import parts_of
from bot.adapters.telegram.translate import PLATFORM
from bot.delivery import Delivery, DeliveryStatus, OutboundMessage

# Partly sent replies whose retry has not come (yet); bounded so failures cannot pile up.
_MAX_PROGRESS = 10_000
NOT_READY_WAIT = 5.0  # seconds
# Seconds one deliver() may take, all parts together (the send lease is 120 s). One request
# is bounded by the HTTP timeouts, but waiting for the rate limiter's turn is not.
SEND_BUDGET = 60.0


class TelegramTransport:
    platform = PLATFORM

    def __init__(
        self, outgoing: Outgoing, *, ready: bool = True, budget: float = SEND_BUDGET
    ) -> None:
        self.outgoing = outgoing
        self.budget = budget
        # False until the bot has logged in (run_telegram), and again once it has closed.
        self.ready = ready
        self._progress: dict[int, int] = {}  # outbox id → parts already sent

    async def deliver(self, message: OutboundMessage) -> Delivery:
        if not self.ready:
            return Delivery(DeliveryStatus.RETRY, retry_after=NOT_READY_WAIT, error="not started")
        chat_id = _chat_id(message.chat_id)
        in_group = not (isinstance(chat_id, int) and chat_id > 0)  # private chats: user ids
        # The bot's name (for deep links) is known once the run has logged in (getMe).
        username = self.outgoing.bot.username
        parts = parts_of(message.reply, bot_username=username, in_group=in_group)
        ref: str | None = None
        done = self._progress.get(message.outbox_id, 0)
        try:
            async with asyncio.timeout(self.budget):
                for index in range(done, len(parts)):
                    try:
                        sent = await self.outgoing.send(
                            chat_id, message.thread_id, parts[index], attempts=1
                        )
                    except Exception as exc:
                        self._remember(message.outbox_id, index)
                        return delivery_for(exc)
                    ref = str(sent.message_id)
                    done = index + 1
        except TimeoutError:
            # Like PTB's TimedOut: the part in flight may have reached Telegram.
            self._remember(message.outbox_id, done)
            return Delivery(DeliveryStatus.RETRY, error="TimedOut")
        self._progress.pop(message.outbox_id, None)
        return Delivery(DeliveryStatus.SENT, message_ref=ref)

    def _remember(self, outbox_id: int, sent_parts: int) -> None:
        if sent_parts == 0:
            self._progress.pop(outbox_id, None)
            return
        if len(self._progress) >= _MAX_PROGRESS:
            self._progress.pop(next(iter(self._progress)))
        self._progress[outbox_id] = sent_parts


def _chat_id(raw: str) -> int | str:
    return int(raw) if raw.lstrip("-").isdigit() else raw
