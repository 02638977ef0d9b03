"""One turn: load who/where/dialog, route to the owning handler, persist, return replies.

Each turn is one database transaction, so a turn either happens completely or not at all:
a crash or a failing handler leaves the previous dialog state untouched.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.bundle import ContentBundle
from bot.engine import payloads
from bot.engine.context import ActiveDialog, DialogInput, TurnContext
from bot.engine.events import Inbound, Reply
from bot.engine.router import Router
from bot.logsafe import hashed
from bot.storage.models import Chat, DialogState, User, utcnow

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


@dataclass(frozen=True)
class Turn:
    """The outcome of one event: what to send, and which dialog (kind) is open afterwards."""

    replies: list[Reply]
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
    ) -> None:
        self.sessions = sessions
        self.router = router
        self.content = content
        self.clock = clock
        # Serialises turns of one person in one chat inside this process; across processes
        # the transaction and the dialog row's primary key keep them apart.
        self._locks: dict[tuple[str, str, str, str], _KeyLock] = {}

    async def handle(self, event: Inbound) -> Turn:
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
                return await self._guarded_turn(event)
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[key]

    async def _guarded_turn(self, event: Inbound) -> Turn:
        try:
            return await self._turn(event)
        except (OperationalError, DBAPIError):
            log.warning("turn.db_unavailable", extra={"who": hashed(event.actor.user_id)})
            return Turn([Reply(TRY_AGAIN)])
        except Exception:
            log.exception("turn.failed", extra={"who": hashed(event.actor.user_id)})
            return Turn([Reply(SOMETHING_WRONG)])

    async def _turn(self, event: Inbound) -> Turn:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            user = await _user_for(session, event, now)
            chat = await _chat_for(session, event)
            row = await session.get(DialogState, (user.id, chat.id, event.place.thread_id))
            dialog = (
                ActiveDialog(row.kind, row.nonce, row.step, dict(row.data))
                if row is not None and row.kind in self.router.dialogs
                else None
            )
            ctx = TurnContext(
                event=event,
                session=session,
                content=self.content,
                router=self.router,
                user=user,
                chat=chat,
                dialog=dialog,
                now=now,
            )
            await self._route(ctx)
            await _save_dialog(session, ctx, row, now)
            log.info("turn.ok", extra={"who": hashed(event.actor.user_id), "kind": event.kind})
            return Turn(ctx.replies, ctx.dialog.kind if ctx.dialog else None)

    async def _route(self, ctx: TurnContext) -> None:
        event = ctx.event
        if event.payload is not None:
            await self._route_button(ctx, event.payload)
        elif event.command is not None:
            await self._route_command(ctx, event.command)
        elif ctx.dialog is not None:
            await self._continue_dialog(ctx, DialogInput(text=event.text or ""))
        else:
            await self._route_text(ctx, event.text or "")

    async def _route_button(self, ctx: TurnContext, raw: str) -> None:
        parsed = payloads.parse(raw)
        if isinstance(parsed, payloads.DialogPayload):
            if ctx.dialog is None or parsed.nonce != ctx.dialog.nonce:
                ctx.say(FOREIGN_BUTTON)
            elif parsed.step != ctx.dialog.step:
                ctx.say(OLD_BUTTON)
            else:
                await self._continue_dialog(ctx, DialogInput(choice=parsed.choice))
            return
        if isinstance(parsed, payloads.ActionPayload) and parsed.name in self.router.actions:
            ctx.action_arg = parsed.arg
            await self.router.actions[parsed.name](ctx)
            return
        ctx.say(UNKNOWN_BUTTON)

    async def _continue_dialog(self, ctx: TurnContext, answer: DialogInput) -> None:
        assert ctx.dialog is not None
        # Every accepted input moves the dialog on, so buttons of earlier questions go stale.
        ctx.dialog.step += 1
        await self.router.dialogs[ctx.dialog.kind](ctx, answer)

    async def _route_command(self, ctx: TurnContext, name: str) -> None:
        command = self.router.find_command(name)
        if command is not None:
            await command.handler(ctx)
            return
        names = [c.name for c in self.router.listed_commands()]
        guess = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" Did you mean /{guess[0]}?" if guess else ""
        ctx.say(f"I don't know the command /{name[:32]}.{hint} Type /help to see what I can do.")

    async def _route_text(self, ctx: TurnContext, text: str) -> None:
        for intent in self.router.intents:
            if intent.matches(text, self.content):
                await intent.handler(ctx)
                return
        if self.router.fallback is not None:
            await self.router.fallback(ctx)


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
        user.last_seen_at = now
        if actor.display_name and actor.display_name != user.display_name:
            user.display_name = actor.display_name[:128]
        # A person who writes to us can be reached again.
        user.unreachable = False
    return user


async def _chat_for(session: AsyncSession, event: Inbound) -> Chat:
    place = event.place
    chat = await session.scalar(
        select(Chat).where(
            Chat.platform == event.actor.platform, Chat.platform_chat_id == place.chat_id
        )
    )
    if chat is None:
        chat = Chat(
            platform=event.actor.platform,
            platform_chat_id=place.chat_id,
            is_private=place.is_private,
            title=place.title[:256],
        )
        session.add(chat)
        await session.flush()
    elif place.title and place.title != chat.title:
        chat.title = place.title[:256]
    return chat


async def _save_dialog(
    session: AsyncSession, ctx: TurnContext, row: DialogState | None, now: datetime
) -> None:
    dialog = ctx.dialog
    if dialog is None:
        if row is not None:
            await session.execute(
                delete(DialogState).where(
                    DialogState.user_id == row.user_id,
                    DialogState.chat_id == row.chat_id,
                    DialogState.thread_id == row.thread_id,
                )
            )
        return
    if row is None:
        row = DialogState(
            user_id=ctx.user.id, chat_id=ctx.chat.id, thread_id=ctx.event.place.thread_id
        )
        session.add(row)
    row.kind = dialog.kind
    row.nonce = dialog.nonce
    row.step = dialog.step
    row.data = dict(dialog.data)  # a new object, so SQLAlchemy sees the change
    row.updated_at = now
