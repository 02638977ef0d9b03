"""The Telegram side of a turn: an update comes in, the engine decides, the replies go out.

Where each reply goes (Reply.intent):
- NEW: the chat (and forum topic) the update came from;
- EDIT: replaces the message whose button was pressed (a new message when that cannot be
  edited, e.g. a photo, or the reply needs several messages);
- PRIVATE: the person's private chat. Telegram bots cannot write first to someone who never
  pressed Start, so when that fails the group gets a short note with a button that opens the
  private chat — never the reply itself.

Private replies to a group's conversation carry that conversation's buttons; presses on them
arrive from the private chat, so the adapter remembers (in memory, bounded) which group each
such message belongs to and hands the press to the group's dialog.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    filters,
)

from bot.adapters.telegram import render, translate
from bot.adapters.telegram.admins import AdminCache
from bot.adapters.telegram.countdown import Countdowns, footer
from bot.adapters.telegram.outgoing import Outgoing, Sent, is_gone
from bot.engine import payloads
from bot.engine.engine import FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON, Engine, Turn
from bot.engine.events import Inbound, Place, Reply, ReplyIntent
from bot.logsafe import hashed
from bot.storage.inbound import Receipt

log = logging.getLogger("corecoach.telegram")

PLATFORM = translate.PLATFORM
# Said in a group when a private answer cannot be delivered; the reply itself stays private.
PRIVATE_NOTE = (
    "I can only answer that in a private chat, and Telegram doesn't let me start one. "
    "Tap the button below, press Start, and I'll continue there."
)
PRIVATE_NOTE_ANONYMOUS = (
    "You're posting as the group, so I can't answer you privately. Tap the button below to "
    "open a private chat with me."
)
OPEN_PRIVATE_LABEL = "Open a private chat"
# The engine's answers to a refused button: shown to the presser alone, not to the chat.
_REFUSALS = frozenset({FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON})
_MAX_ORIGINS = 10_000
_MEMBER_STATUSES = frozenset(
    {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
)


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0


class TelegramAdapter:
    def __init__(
        self,
        engine: Engine,
        outgoing: Outgoing,
        *,
        bot_id: int,
        bot_username: str,
        admins: AdminCache | None = None,
        countdowns: Countdowns | None = None,
    ) -> None:
        self.engine = engine
        self.outgoing = outgoing
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.admins = admins or AdminCache(outgoing.bot)
        self.countdowns = countdowns or Countdowns(outgoing)
        # (private chat id, message id) → the group place whose dialog its buttons answer.
        self._origins: OrderedDict[tuple[int, int], Place] = OrderedDict()
        # One person's updates in one chat are handled in order, replies included, although
        # the application runs updates concurrently.
        self._locks: dict[tuple[int, int], _KeyLock] = {}
        # Set when updates come stored (intake.py): each turn then writes its replies to its
        # update's row in the turn's transaction.
        self.durable = False

    def attach(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(
            ChatMemberHandler(self.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self.on_message)
        )
        application.add_error_handler(self.on_error)

    async def close(self) -> None:
        await self.countdowns.close()

    # -- updates ------------------------------------------------------------------------

    async def on_message(self, update: Update, _context: object) -> None:
        message = update.message
        if message is None:
            return
        sender = message.from_user.id if message.from_user else 0
        async with self._serialised(message.chat.id, sender):
            admin: bool | None = None
            if (
                translate.needs_admin_check(message, self.bot_username)
                and message.from_user is not None
                and not translate.is_anonymous_admin(message)
            ):
                admin = await self.admins.is_admin(message.chat.id, message.from_user.id)
            inbound = translate.inbound_from_message(
                message, bot_id=self.bot_id, bot_username=self.bot_username, is_chat_admin=admin
            )
            if inbound is None:
                return
            turn = await self.engine.handle(inbound, self._receipt(update))
            await self.deliver(inbound, turn)

    async def on_callback(self, update: Update, _context: object) -> None:
        query = update.callback_query
        if query is None:
            return
        answered = False
        try:
            message = query.message
            if not isinstance(message, Message) or query.data is None:
                return
            origin = self._origins.get((message.chat.id, message.message_id))
            async with self._serialised(message.chat.id, query.from_user.id):
                place = origin or translate.place_of(message)
                admin: bool | None = None
                if not place.is_private:
                    admin = await self.admins.is_admin(int(place.chat_id), query.from_user.id)
                inbound = translate.inbound_from_callback(query, place=origin, is_chat_admin=admin)
                if inbound is None:
                    return
                turn = await self.engine.handle(inbound, self._receipt(update))
                if turn.duplicate:
                    return
                refusal = _refusal(turn)
                answered = await _answer(query, refusal)
                if refusal is None:
                    edited = await self.deliver(inbound, turn, pressed=message)
                else:
                    edited = False
                if not edited and message.chat.type == message.chat.PRIVATE:
                    accepted = refusal is None and not turn.asked_again
                    await self._retire_keyboard(message, query.data, accepted=accepted)
        finally:
            if not answered:
                await _answer(query, None)

    async def on_my_chat_member(self, update: Update, _context: object) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None:
            return
        member = change.new_chat_member
        present = member.status in _MEMBER_STATUSES or (
            member.status == ChatMemberStatus.RESTRICTED
            and bool(getattr(member, "is_member", False))
        )
        chat = change.chat
        if chat.type == chat.PRIVATE:
            if not present:  # the person blocked the bot
                await self.engine.mark_unreachable(PLATFORM, str(chat.id))
            return
        place = Place(str(chat.id), is_private=False, title=chat.title or "")
        await self.engine.record_membership(PLATFORM, place, bot_is_member=present)

    async def on_error(self, _update: object, context: Any) -> None:
        # PTB would log the whole update, message text included; we log the kind only.
        error = getattr(context, "error", None)
        log.error("telegram.update_failed", extra={"error": type(error).__name__})

    def _receipt(self, update: Update) -> Receipt | None:
        return Receipt(PLATFORM, str(update.update_id)) if self.durable else None

    async def redeliver(self, update: Update, replies: list[Reply]) -> None:
        """Send the stored replies of a turn that committed in a process which died before
        sending them all (some may arrive twice: Telegram has no idempotency key). A refusal
        was a pop-up on the press, long gone: not sent as a message."""
        turn = Turn(replies)
        query = update.callback_query
        if query is not None and isinstance(query.message, Message):
            pressed = query.message
            if _refusal(turn) is not None:
                return
            origin = self._origins.get((pressed.chat.id, pressed.message_id))
            async with self._serialised(pressed.chat.id, query.from_user.id):
                event = translate.inbound_from_callback(query, place=origin, is_chat_admin=None)
                if event is not None:
                    await self.deliver(event, turn, pressed=pressed)
            return
        message = update.message
        if message is not None:
            sender = message.from_user.id if message.from_user else 0
            async with self._serialised(message.chat.id, sender):
                event = translate.inbound_from_message(
                    message, bot_id=self.bot_id, bot_username=self.bot_username
                )
                if event is not None:
                    await self.deliver(event, turn)

    # -- replies ------------------------------------------------------------------------

    async def deliver(
        self, inbound: Inbound, turn: Turn, *, pressed: Message | None = None
    ) -> bool:
        """Send a turn's replies in order; True when one of them replaced `pressed`."""
        place = inbound.place
        edited = False
        noted = False
        for reply in turn.replies:
            if reply.intent is ReplyIntent.PRIVATE and not place.is_private:
                if not await self._send_private(inbound, reply) and not noted:
                    await self._post_private_note(inbound)
                    noted = True
                continue
            if reply.intent is ReplyIntent.EDIT and pressed is not None and not edited:
                edited = await self._edit(pressed, reply)
                if edited:
                    continue
            await self._send(place.chat_id, place.thread_id, reply, in_group=not place.is_private)
        return edited

    async def _send(
        self, chat_id: str, thread_id: str, reply: Reply, *, in_group: bool
    ) -> Sent | None:
        """Send a reply; None when it could not be delivered (logged, person or chat marked)."""
        parts = render.parts_of(reply, bot_username=self.bot_username, in_group=in_group)
        last = parts[-1]
        countdown = _countdown_seconds(reply) if last.kind == "text" else None
        if countdown:
            shown = render.with_footer(last.html, footer(countdown))
            parts[-1] = render.Part("text", shown, markup=last.markup)
        sent: Sent | None = None
        for part in parts:
            try:
                sent = await self.outgoing.send(int(chat_id), thread_id, part)
            except TelegramError as exc:
                await self._undeliverable(chat_id, exc, private=not in_group)
                return None
        if sent is not None and countdown:
            self.countdowns.start(sent.chat_id, sent.message_id, last.html, last.markup, countdown)
        return sent

    async def _send_private(self, inbound: Inbound, reply: Reply) -> bool:
        target = translate.private_chat_id(inbound.actor)
        if target is None:
            return False
        parts = render.parts_of(reply, bot_username=self.bot_username, in_group=False)
        for part in parts:
            try:
                sent = await self.outgoing.send(target, "", part)
            except TelegramError as exc:
                await self._undeliverable(str(target), exc, private=True)
                return False
            if part.markup is not None:
                self._remember_origin(target, sent.message_id, inbound.place)
        return True

    async def _post_private_note(self, inbound: Inbound) -> None:
        anonymous = translate.private_chat_id(inbound.actor) is None
        payload = inbound.payload
        resume = (
            payload
            if payload and isinstance(payloads.parse(payload), payloads.ActionPayload)
            else None
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        OPEN_PRIVATE_LABEL, url=translate.deep_link(self.bot_username, resume)
                    )
                ]
            ]
        )
        text = PRIVATE_NOTE_ANONYMOUS if anonymous else PRIVATE_NOTE
        part = render.Part("text", render.to_html(text), markup=markup)
        try:
            await self.outgoing.send(int(inbound.place.chat_id), inbound.place.thread_id, part)
        except TelegramError as exc:
            await self._undeliverable(inbound.place.chat_id, exc, private=False)

    async def _edit(self, pressed: Message, reply: Reply) -> bool:
        """Replace the pressed message with a one-message text reply; False to send instead."""
        if pressed.text is None or reply.image or reply.animation or reply.attachment:
            return False  # photos and documents have no text to replace
        in_group = pressed.chat.type != pressed.chat.PRIVATE
        parts = render.parts_of(reply, bot_username=self.bot_username, in_group=in_group)
        if len(parts) != 1:
            return False
        self.countdowns.cancel_message(pressed.chat.id, pressed.message_id)
        part = parts[0]
        countdown = _countdown_seconds(reply)
        shown = render.with_footer(part.html, footer(countdown)) if countdown else part.html
        try:
            await self.outgoing.edit(pressed.chat.id, pressed.message_id, shown, part.markup)
        except TelegramError as exc:
            log.info("telegram.edit_failed", extra={"error": type(exc).__name__})
            return False
        if countdown:
            self.countdowns.start(
                pressed.chat.id, pressed.message_id, part.html, part.markup, countdown
            )
        return True

    async def _retire_keyboard(self, message: Message, data: str, *, accepted: bool) -> None:
        """After a dialog answer in a private chat, the question's buttons are stale: show the
        chosen answer instead of them, so old keyboards do not pile up."""
        if (
            not isinstance(payloads.parse(data), payloads.DialogPayload)
            or message.reply_markup is None
        ):
            return
        self.countdowns.cancel_message(message.chat.id, message.message_id)
        label = next(
            (
                b.text
                for row in message.reply_markup.inline_keyboard
                for b in row
                if b.callback_data == data
            ),
            None,
        )
        try:
            if accepted and label and message.text is not None:
                shown = render.with_footer(message.text_html, f"✓ {label}")
                await self.outgoing.edit(
                    message.chat.id, message.message_id, shown, None, attempts=1
                )
            else:
                await self.outgoing.bot.edit_message_reply_markup(
                    message.chat.id, message.message_id, reply_markup=None
                )
        except TelegramError as exc:
            log.info("telegram.retire_failed", extra={"error": type(exc).__name__})

    async def _undeliverable(self, chat_id: str, exc: TelegramError, *, private: bool) -> None:
        gone = isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and is_gone(exc))
        log.warning(
            "telegram.reply_undelivered",
            extra={"chat": hashed(chat_id), "error": type(exc).__name__},
        )
        if not gone:
            return
        if private:
            await self.engine.mark_unreachable(PLATFORM, chat_id)
        else:
            await self.engine.record_membership(
                PLATFORM, Place(chat_id, is_private=False), bot_is_member=False
            )

    def _remember_origin(self, chat_id: int, message_id: int, place: Place) -> None:
        self._origins[(chat_id, message_id)] = place
        while len(self._origins) > _MAX_ORIGINS:
            self._origins.popitem(last=False)

    @asynccontextmanager
    async def _serialised(self, chat_id: int, user_id: int) -> AsyncIterator[None]:
        key = (chat_id, user_id)
        entry = self._locks.setdefault(key, _KeyLock())
        entry.holders += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[key]


def _refusal(turn: Turn) -> str | None:
    if len(turn.replies) == 1:
        reply = turn.replies[0]
        if reply.text in _REFUSALS and not reply.buttons:
            return reply.text
    return None


async def _answer(query: CallbackQuery, text: str | None) -> bool:
    """Every press is answered (the button stops spinning); refusals as a pop-up."""
    try:
        await query.answer(text=text, show_alert=text is not None)
    except TelegramError as exc:  # too late (over 15 s) or already answered: harmless
        log.info("telegram.answer_failed", extra={"error": type(exc).__name__})
    return True


def _countdown_seconds(reply: Reply) -> float | None:
    value = reply.countdown_seconds
    return float(value) if value is not None and value > 0 else None
