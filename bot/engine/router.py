"""The routing table: which handler owns which command, button action, dialog and plain words.

Handlers register themselves in handlers/__init__.py; the engine only looks things up here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.content.bundle import ContentBundle
    from bot.engine.context import DialogInput, TurnContext

Handler = Callable[["TurnContext"], Awaitable[None]]
DialogHandler = Callable[["TurnContext", "DialogInput"], Awaitable[None]]
IntentMatcher = Callable[[str, "ContentBundle"], bool]

_WORD_RE = re.compile(r"[^\w\s]+")


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, single spaces: what plain-word matching compares."""
    return " ".join(_WORD_RE.sub(" ", text.casefold()).split())


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
            self._claim(self.commands, name, "command")
            self.commands[name] = Command(name, fn, help, args_hint, listed, coach_only)
            for alias in aliases:
                self._claim(self.aliases, alias, "command alias")
                self.aliases[alias] = name
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
