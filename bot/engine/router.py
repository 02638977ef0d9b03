"""The routing table: which handler owns which command, button action, dialog and plain words.

Handlers register themselves in handlers/__init__.py; the engine only looks things up here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.content.bundle import ContentBundle
    from bot.engine.context import DialogInput, TurnContext
    from bot.storage.models import Chat

Handler = Callable[["TurnContext"], Awaitable[None]]
DialogHandler = Callable[["TurnContext", "DialogInput"], Awaitable[None]]
IntentMatcher = Callable[[str, "ContentBundle"], bool]
# Whether the person behind this group-chat event may run `coach_only` commands.
CoachCheck = Callable[["TurnContext"], Awaitable[bool]]
# (session, content, chat, was_member, now): the bot joined or left `chat` (chat.bot_is_member
# is the new state), inside the transaction that records it.
MembershipHook = Callable[
    ["AsyncSession", "ContentBundle", "Chat", bool, "datetime"], Awaitable[None]
]
# (sessions, content, now) -> outbox rows written: a feature's due work (club posts), run by
# the scheduler's sweep on every pass in its own transactions; the app hands these over.
SweepHook = Callable[
    ["async_sessionmaker[AsyncSession]", "ContentBundle", "datetime"], Awaitable[int]
]

_WORD_RE = re.compile(r"[^\w\s]+")


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, single spaces: what plain-word matching compares."""
    return " ".join(_WORD_RE.sub(" ", text.casefold()).split())


YES, NO = "yes", "no"  # the choice values of a two-button yes/no question


def typed_yes_no(text: str, *, yes_label: str, no_label: str) -> str | None:
    """YES or NO for a typed answer to a yes/no question (the button's label, the word itself
    or its first letter); None for anything else."""
    typed = normalise(text)
    if typed in {normalise(yes_label), YES, "y"}:
        return YES
    if typed in {normalise(no_label), NO, "n"}:
        return NO
    return None


async def _platform_admin(ctx: TurnContext) -> bool:
    return ctx.event.actor.is_chat_admin is True


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help: str
    args_hint: str = ""
    # Shown in platform command menus and /help; hidden ones still work.
    listed: bool = True
    coach_only: bool = False


@dataclass(frozen=True)
class Intent:
    name: str
    matches: IntentMatcher
    handler: Handler
    priority: int  # lower runs first; safety-relevant intents (soreness) come before others


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    dialogs: dict[str, DialogHandler] = field(default_factory=dict)
    intents: list[Intent] = field(default_factory=list)
    fallback: Handler | None = None
    membership_hooks: list[MembershipHook] = field(default_factory=list)
    sweep_hooks: list[SweepHook] = field(default_factory=list)
    # The platform's word until a feature knows more (clubs add coaches granted by /coach add).
    coach_check: CoachCheck = _platform_admin

    def command(
        self,
        name: str,
        help: str,
        *,
        args_hint: str = "",
        aliases: tuple[str, ...] = (),
        listed: bool = True,
        coach_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            # Commands and aliases share one namespace: an alias must never shadow a command.
            for key in (name, *aliases):
                self._claim({**self.commands, **self.aliases}, key, "command or alias")
            if len(set(aliases) | {name}) != len(aliases) + 1:
                raise ValueError(f"command {name!r} lists an alias twice or itself")
            self.commands[name] = Command(name, fn, help, args_hint, listed, coach_only)
            self.aliases.update(dict.fromkeys(aliases, name))
            return fn

        return register

    def action(self, name: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._claim(self.actions, name, "button action")
            self.actions[name] = fn
            return fn

        return register

    def dialog(self, kind: str) -> Callable[[DialogHandler], DialogHandler]:
        def register(fn: DialogHandler) -> DialogHandler:
            self._claim(self.dialogs, kind, "dialog")
            self.dialogs[kind] = fn
            return fn

        return register

    def intent(
        self, name: str, matches: IntentMatcher, *, priority: int = 50
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._claim({i.name: i for i in self.intents}, name, "intent")
            self.intents.append(Intent(name, matches, fn, priority))
            self.intents.sort(key=lambda i: i.priority)
            return fn

        return register

    def set_fallback(self, fn: Handler) -> Handler:
        self.fallback = fn
        return fn

    def find_command(self, name: str) -> Command | None:
        return self.commands.get(self.aliases.get(name, name))

    def listed_commands(self) -> list[Command]:
        return [c for c in self.commands.values() if c.listed]

    @staticmethod
    def _claim(table: Mapping[str, object], key: str, what: str) -> None:
        if key in table:
            raise ValueError(f"{what} {key!r} registered twice")
