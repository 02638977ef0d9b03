"""One turn: load who/where/dialog, route to the owning handler, persist, return replies.

Each turn is one database transaction, so a turn either happens completely or not at all:
a crash or a failing handler leaves the previous dialog state untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import ValidationError
from sqlalchemy import Table, and_, bindparam, select, true, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bot.config import DEFAULT_DATA_DIR
from bot.content.bundle import ContentBundle
from bot.engine import dialog_store, payloads
from bot.engine.context import ActiveDialog, DialogInput, TurnContext
from bot.engine.dialog_store import StoredDialog
from bot.engine.events import Actor, Inbound, Place, Reply, ReplyIntent
from bot.engine.router import Router
from bot.logsafe import hashed
from bot.storage import inbound
from bot.storage.inbound import Receipt
from bot.storage.models import Chat, DialogState, User, utcnow
from bot.storage.prebuilt import Prebuilt

log = logging.getLogger("corecoach.engine")

TRY_AGAIN = "I couldn't reach my notebook just now. Please try again in a moment."
SOMETHING_WRONG = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again, "
    "or type /help."
)
UNKNOWN_BUTTON = "I don't recognise that button. Type /help to see what I can do."
FOREIGN_BUTTON = (
    "That button belongs to a conversation that has ended or to someone else's conversation, "
    "so I left everything as it was. Type /help to start something new."
)
OLD_BUTTON = "That button is from an earlier question. Please use the buttons on my latest message."
NOT_A_COACH = (
    "Sorry, /{name} is for this club's coaches, so I left everything as it was. "
    "A chat admin can help if you need it."
)

# The database is down, locked or unreachable: asyncpg raises a plain ConnectionError when the
# server refuses connections, and the pool a TimeoutError when every connection is stuck.
_UNAVAILABLE = (DBAPIError, PoolTimeout, ConnectionError, TimeoutError)
# users.last_seen_at is kept to this resolution: rewriting the users row on every turn would
# add a write (and on SQLite a thread hop per statement) to turns that change nothing else.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)
# Turns with an attached file fetched at once: each holds up to its command's file_bytes
# (20 MB for /upload) until it ends, so a burst of uploads cannot take all the memory.
FILES_AT_ONCE = 4


@dataclass(frozen=True)
class Turn:
    """The outcome of one event: what to send, and which dialog (kind) is open afterwards."""

    replies: list[Reply]
    dialog: str | None = None
    # Set when the turn was answered with an apology: "db_unavailable" or "error" (metrics).
    failure: str | None = None
    # A button of an earlier question of the open dialog was pressed: `replies` ask the open
    # question again, and the pressed message's answer was not accepted.
    asked_again: bool = False
    # The stored update had already been answered (by another worker): nothing to send.
    duplicate: bool = False


class _AlreadyAnswered(Exception):
    """The turn's receipt found its update answered already: roll the turn back."""


@dataclass
class _Before:
    """What was open when the turn began: still open if the turn fails and rolls back."""

    dialog: str | None = None


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0


class Engine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        content: ContentBundle,
        *,
        clock: Callable[[], datetime] = utcnow,
        data_dir: Path = DEFAULT_DATA_DIR,
        on_turn: Callable[[Inbound, Turn], None] | None = None,
    ) -> None:
        self.sessions = sessions
        # Called after every turn, e.g. to count it (bot/ops/metrics.py); must not raise.
        self.on_turn = on_turn
        self.router = router
        self.content = content
        self.clock = clock
        self.data_dir = data_dir
        # Serialises turns of one person in one chat inside this process; across processes
        # the transaction and the dialog row's primary key keep them apart.
        self._locks: dict[tuple[str, str, str, str], _KeyLock] = {}
        # SQLite takes one writer at a time. Turns overlapping inside one process (adapters
        # handle updates concurrently) would each wait for its file lock in SQLite's busy
        # handler, which sleeps in growing steps, and under load fail with "database is
        # locked"; one turn at a time costs nothing SQLite would not cost anyway.
        # PostgreSQL turns run side by side.
        bind = sessions.kw.get("bind")
        self._one_writer = (
            asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None
        )
        self._files = asyncio.Semaphore(FILES_AT_ONCE)

    async def handle(self, event: Inbound, receipt: Receipt | None = None) -> Turn:
        """One turn. With `receipt` (a stored inbound update, bot/storage/inbound.py), the
        replies are written to that row in the turn's transaction, so they outlive a crash
        between the commit and their delivery; an update answered already is not run again."""
        if event.upload is None:
            turn = await self._serialised_turn(event, receipt)
        else:
            async with self._files:
                await self._fetch_upload(event)
                turn = await self._serialised_turn(event, receipt)
        if self.on_turn is not None:
            self.on_turn(event, turn)
        return turn

    def writer(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Hold SQLite's one writer for a write beside the turns (an inbound update stored or
        marked done), so it queues behind them instead of sleeping in SQLite's busy handler;
        nothing to hold on PostgreSQL."""
        return self._one_writer if self._one_writer is not None else contextlib.nullcontext()

    async def _fetch_upload(self, event: Inbound) -> None:
        """Download an attached file for the command that reads it, before the turn: the
        download (seconds, for a big file) then holds no transaction, no row lock and, on
        SQLite, not the one writer. The outcome, bytes or error, waits in the Upload for the
        handler's read."""
        command = self.router.find_command(event.command) if event.command else None
        if event.upload is None or command is None or not command.file_bytes:
            return
        with contextlib.suppress(Exception):  # the handler's read raises it again
            await event.upload.read(command.file_bytes)

    async def _serialised_turn(self, event: Inbound, receipt: Receipt | None) -> Turn:
        key = (
            event.actor.platform,
            event.place.chat_id,
            event.actor.user_id,
            event.place.thread_id,
        )
        entry = self._locks.setdefault(key, _KeyLock())
        entry.holders += 1
        try:
            async with entry.lock:
                if self._one_writer is None:
                    return await self._guarded_turn(event, receipt)
                async with self._one_writer:
                    return await self._guarded_turn(event, receipt)
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[key]

    async def record_membership(self, platform: str, place: Place, *, bot_is_member: bool) -> None:
        """The platform says the bot was added to or removed from a chat."""
        async with self.sessions() as session, session.begin():
            chat = await _chat_row(session, platform, place)
            was_member = chat.bot_is_member
            chat.bot_is_member = bot_is_member
            # Features react in the same transaction (clubs pause their posts, or ask a coach
            # whether to resume them).
            for hook in self.router.membership_hooks:
                await hook(session, self.content, chat, was_member, self.clock())
        log.info("chat.membership", extra={"chat": hashed(place.chat_id), "member": bot_is_member})

    async def mark_unreachable(self, platform: str, user_id: str) -> None:
        """The platform refused a message to this person (blocked the bot, never started it):
        proactive messages skip them until they write again (see _user_for)."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(User)
                .where(User.platform == platform, User.platform_user_id == user_id)
                .values(unreachable=True)
            )
        log.info("user.unreachable", extra={"who": hashed(user_id)})

    async def _guarded_turn(self, event: Inbound, receipt: Receipt | None) -> Turn:
        before = _Before()
        try:
            return await self._turn(event, before, receipt)
        except _AlreadyAnswered:
            return Turn([], before.dialog, duplicate=True)
        except _UNAVAILABLE:
            log.warning("turn.db_unavailable", extra={"who": hashed(event.actor.user_id)})
            return Turn([Reply(TRY_AGAIN)], before.dialog, failure="db_unavailable")
        except Exception:
            log.exception("turn.failed", extra={"who": hashed(event.actor.user_id)})
            return Turn([Reply(SOMETHING_WRONG)], before.dialog, failure="error")

    async def _turn(self, event: Inbound, before: _Before, receipt: Receipt | None) -> Turn:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            user, chat, found = await self._load(session, event, now)
            dialog, unreadable = self._restore(found)
            before.dialog = dialog.kind if dialog else None
            ctx = TurnContext(
                event=event,
                session=session,
                content=self.content,
                router=self.router,
                user=user,
                chat=chat,
                dialog=dialog,
                now=now,
                data_dir=self.data_dir,
            )
            # Safety first: the screens see every typed text before anything else is said.
            screened = await self._screen(ctx)
            if unreadable is not None:
                who = hashed(event.actor.user_id)
                log.info("dialog.unreadable", extra={"who": who, "dialog": unreadable})
                ctx.say(self.content.texts.dialog_restarted)
            key = dialog_store.DialogKey(user.id, chat.id, event.place.thread_id)
            asked_again = False
            if not screened and (unreadable is None or not _answers_a_dialog(event)):
                asked_again = await self._route(ctx, key)
            await dialog_store.save(session, key, found, ctx.dialog, now, _question(found, ctx))
            if receipt is not None and not await inbound.mark_answered(
                session, receipt, [reply.to_dict() for reply in ctx.replies]
            ):
                raise _AlreadyAnswered
            log.info("turn.ok", extra={"who": hashed(event.actor.user_id), "kind": event.kind})
            kind = ctx.dialog.kind if ctx.dialog else None
            return Turn(ctx.replies, kind, asked_again=asked_again)

    def _restore(self, found: StoredDialog | None) -> tuple[ActiveDialog[Any] | None, str | None]:
        """The open dialog, its data as its kind's state model; or (None, kind) for a row this
        release cannot read (an older release's shape), which this turn ends. A row of a kind
        no feature registers any more is dropped silently."""
        registered = self.router.dialogs.get(found.kind) if found else None
        if found is None or registered is None:
            return None, None
        try:
            return found.active(registered.state), None
        except ValidationError:
            return None, found.kind

    async def _load(
        self, session: AsyncSession, event: Inbound, now: datetime
    ) -> tuple[User, Chat, StoredDialog | None]:
        """The person, the chat and their dialog row, in one statement."""
        query = _KNOWN_SQLITE if self._one_writer is not None else _KNOWN_LOCKING
        return await _who_and_where(session, query, event, now)

    async def _screen(self, ctx: TurnContext) -> bool:
        """Every typed text, in every state, passes the features' screens before routing (the
        red-flag screen: a warning sign is answered at once, before any consent or button)."""
        event = ctx.event
        if event.payload is not None:
            return False
        text = event.args if event.command is not None else event.text
        if not text:
            return False
        for screen in self.router.screens:
            if await screen.check(ctx, text):
                return True
        return False

    async def _route(self, ctx: TurnContext, key: dialog_store.DialogKey) -> bool:
        """Route the event; True when it was a stale press answered with the open question."""
        event = ctx.event
        if event.payload is not None:
            return await self._route_button(ctx, event.payload, key)
        if event.command is not None:
            await self._route_command(ctx, event.command)
        elif ctx.dialog is not None:
            await ctx.continue_dialog(DialogInput(text=event.text or ""))
        else:
            await ctx.route_words(event.text or "")
        return False

    async def _route_button(self, ctx: TurnContext, raw: str, key: dialog_store.DialogKey) -> bool:
        parsed = payloads.parse(raw)
        if isinstance(parsed, payloads.DialogPayload):
            if ctx.dialog is None or parsed.nonce != ctx.dialog.nonce:
                ctx.say(FOREIGN_BUTTON)
            elif parsed.step < ctx.dialog.step:
                # An earlier question of the dialog still open: ask the open one again, so a
                # person whose latest message was lost (or scrolled away) has buttons that work.
                again = await dialog_store.question(ctx.session, key)
                ctx.replies.extend(again)
                if again:
                    return True
                ctx.say(OLD_BUTTON)
            elif parsed.step != ctx.dialog.step:
                ctx.say(OLD_BUTTON)
            else:
                await ctx.continue_dialog(DialogInput(choice=parsed.choice))
            return False
        if isinstance(parsed, payloads.ActionPayload) and parsed.name in self.router.actions:
            ctx.action_arg = parsed.arg
            await self.router.actions[parsed.name](ctx)
            if parsed.name in self.router.private_actions:
                _private_in_group(ctx)
            return False
        ctx.say(UNKNOWN_BUTTON)
        return False

    async def _route_command(self, ctx: TurnContext, name: str) -> None:
        command = self.router.find_command(name)
        if command is not None and command.coach_only and not await self._may_coach(ctx):
            ctx.say(NOT_A_COACH.format(name=command.name))
            return
        if command is not None:
            await command.handler(ctx)
            if command.private:
                _private_in_group(ctx)
            return
        names = [c.name for c in self.router.listed_commands()]
        guess = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" Did you mean /{guess[0]}?" if guess else ""
        ctx.say(f"I don't know the command /{name[:32]}.{hint} Type /help to see what I can do.")

    async def _may_coach(self, ctx: TurnContext) -> bool:
        """In a group, the router's coach check, asked at the moment of the command (an
        unknown admin status is a no). In a private chat the handler decides (e.g. which
        linked clubs a coach may address)."""
        return not ctx.in_group or await self.router.coach_check(ctx)


def _question(found: StoredDialog | None, ctx: TurnContext) -> list[dict[str, Any]] | None:
    """What to keep as the open question: the replies asking a step this turn moved to; KEEP
    when the dialog stayed on its step (a refused press, a command beside it)."""
    dialog = ctx.dialog
    if dialog is None:
        return dialog_store.KEEP
    if found is not None and (found.nonce, found.step) == (dialog.nonce, dialog.step):
        return dialog_store.KEEP
    return dialog_store.asked(dialog, ctx.replies)


def _private_in_group(ctx: TurnContext) -> None:
    """A feature's `private` policy: in a group, the person's answers go to them privately."""
    if ctx.in_group:
        for reply in ctx.replies:
            if reply.intent is ReplyIntent.NEW:
                reply.intent = ReplyIntent.PRIVATE


def _answers_a_dialog(event: Inbound) -> bool:
    """Typed text or a dialog's button: meant for the open dialog, so pointless without it
    (commands and stateless buttons do not need one)."""
    if event.payload is not None:
        return isinstance(payloads.parse(event.payload), payloads.DialogPayload)
    return event.command is None


# Built once: constructing a statement costs more CPU than SQLite takes to run it. Columns, not
# ORM entities: the objects are made from the row (_attached), which costs a fraction of the
# ORM's loading, and the statement runs on SQLite in one trip to the driver (Prebuilt).
_USERS = cast(Table, User.__table__)
_CHATS = cast(Table, Chat.__table__)
_USER_KEYS = tuple(column.key for column in _USERS.c)
_CHAT_KEYS = tuple(column.key for column in _CHATS.c)
_THEIR_CHAT = and_(Chat.platform == User.platform, Chat.platform_chat_id == bindparam("chat"))
_THEM = (User.platform == bindparam("platform"), User.platform_user_id == bindparam("user"))
_THEIR_DIALOG = and_(
    DialogState.user_id == User.id,
    DialogState.chat_id == Chat.id,
    DialogState.thread_id == bindparam("thread"),
)
# SQLite has no row locks: BEGIN IMMEDIATE took the database's write lock before this read.
_KNOWN_SQLITE = Prebuilt(
    select(*_USERS.c, *_CHATS.c, *dialog_store.COLUMNS)
    .join(Chat, _THEIR_CHAT)
    .outerjoin(DialogState, _THEIR_DIALOG)
    .where(*_THEM)
)
# PostgreSQL: the dialog row is locked FOR UPDATE inside a LATERAL subquery, so another
# process's turn for this person waits there until ours commits and then reads the row as ours
# left it, and one button pressed twice is accepted once. (A lock on the join itself would
# re-read only the locked rows; and PostgreSQL refuses FOR UPDATE on an outer join's nullable
# side.)
_LOCKED_DIALOG = (
    select(*dialog_store.COLUMNS).where(_THEIR_DIALOG).with_for_update().lateral("dialog")
)
_KNOWN_LOCKING = Prebuilt(
    select(*_USERS.c, *_CHATS.c, *_LOCKED_DIALOG.c)
    .join(Chat, _THEIR_CHAT)
    .outerjoin(_LOCKED_DIALOG, true())
    .where(*_THEM)
)
_DIALOG_AT = len(_USER_KEYS) + len(_CHAT_KEYS)

_T = TypeVar("_T", User, Chat)


def _attached(session: AsyncSession, cls: type[_T], keys: Sequence[str], values: Any) -> _T:
    """The row's object in the session, as if the ORM had loaded it: the values are set
    without change history (cheaper than the constructor's), and what the turn changes is
    flushed."""
    instance = cls()
    for key, value in zip(keys, values, strict=True):
        set_committed_value(instance, key, value)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


async def _who_and_where(
    session: AsyncSession, query: Prebuilt, event: Inbound, now: datetime
) -> tuple[User, Chat, StoredDialog | None]:
    """The person, the chat and their dialog row in one statement when both are known, as on
    nearly every turn; the first message from a new person or in a new chat creates what is
    missing, and there is no dialog yet."""
    actor, place = event.actor, event.place
    params = {
        "platform": actor.platform,
        "user": actor.user_id,
        "chat": place.chat_id,
        "thread": place.thread_id,
    }
    known = await query.first(session, params)
    if known is None:
        user = await _user_for(session, event, now)
        return user, await _chat_for(session, event, user), None
    user = _attached(session, User, _USER_KEYS, known[: len(_USER_KEYS)])
    chat = _attached(session, Chat, _CHAT_KEYS, known[len(_USER_KEYS) : _DIALOG_AT])
    _seen(user, actor, now)
    _retitle(chat, place)
    _own(chat, place, user)
    return user, chat, dialog_store.stored(known[_DIALOG_AT:])


async def _user_for(session: AsyncSession, event: Inbound, now: datetime) -> User:
    actor = event.actor
    user = await session.scalar(
        select(User).where(User.platform == actor.platform, User.platform_user_id == actor.user_id)
    )
    if user is None:
        user = User(
            platform=actor.platform,
            platform_user_id=actor.user_id,
            display_name=actor.display_name[:128],
            locale=actor.locale,
            created_at=now,
            last_seen_at=now,
        )
        session.add(user)
        await session.flush()
    else:
        _seen(user, actor, now)
    return user


def _seen(user: User, actor: Actor, now: datetime) -> None:
    if now - user.last_seen_at >= LAST_SEEN_RESOLUTION:
        user.last_seen_at = now
    if actor.display_name and actor.display_name[:128] != user.display_name:
        user.display_name = actor.display_name[:128]
    if user.unreachable:
        user.unreachable = False  # a person who writes to us can be reached again


async def _chat_for(session: AsyncSession, event: Inbound, user: User) -> Chat:
    chat = await _chat_row(session, event.actor.platform, event.place)
    _own(chat, event.place, user)
    return chat


def _own(chat: Chat, place: Place, user: User) -> None:
    if place.is_private and chat.private_user_id is None:
        chat.private_user_id = user.id  # whose private chat this is: /forget removes it


def _retitle(chat: Chat, place: Place) -> None:
    if place.title and place.title[:256] != chat.title:
        chat.title = place.title[:256]


async def _chat_row(session: AsyncSession, platform: str, place: Place) -> Chat:
    chat = await session.scalar(
        select(Chat).where(Chat.platform == platform, Chat.platform_chat_id == place.chat_id)
    )
    if chat is None:
        chat = Chat(
            platform=platform,
            platform_chat_id=place.chat_id,
            is_private=place.is_private,
            title=place.title[:256],
        )
        session.add(chat)
        await session.flush()
    else:
        _retitle(chat, place)
    return chat
