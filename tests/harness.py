"""An errbot-style test helper: push what a person types or presses, pop what the bot says.

Drives the real engine on a real database; no network, no platform.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.engine.commands import parse_command
from bot.engine.engine import Engine, Turn
from bot.engine.events import Actor, Button, Inbound, Place, Reply

PLATFORM = "test"


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Person:
    """One person in one chat, with the replies they have not popped yet."""

    harness: ChatHarness
    user: str
    group: str | None = None
    admin: bool | None = None
    thread: str = ""
    inbox: deque[Reply] = field(default_factory=deque)
    last_turn: Turn | None = None

    @property
    def actor(self) -> Actor:
        return Actor(PLATFORM, self.user, display_name=self.user.title(), is_chat_admin=self.admin)

    @property
    def place(self) -> Place:
        if self.group:
            return Place(f"group:{self.group}", is_private=False, thread_id=self.thread)
        return Place(f"dm:{self.user}", is_private=True, thread_id=self.thread)

    async def say(self, text: str) -> list[Reply]:
        command = parse_command(text)
        if command:
            event = Inbound(self.actor, self.place, text=text, command=command[0], args=command[1])
        else:
            event = Inbound(self.actor, self.place, text=text)
        return await self._push(event)

    async def press_payload(self, payload: str) -> list[Reply]:
        return await self._push(Inbound(self.actor, self.place, payload=payload))

    async def press(self, label: str) -> list[Reply]:
        """Press the button with this label on the newest reply that offers it."""
        return await self.press_payload(self.button(label).payload)

    def button(self, label: str) -> Button:
        turn = self.last_turn
        assert turn is not None, "nothing was said yet"
        for reply in reversed(turn.replies):
            for button in reply.flat_buttons():
                if button.label.casefold() == label.casefold():
                    return button
        offered = [b.label for r in turn.replies for b in r.flat_buttons()]
        raise AssertionError(f"no button {label!r}; offered: {offered}")

    def labels(self) -> list[str]:
        assert self.last_turn is not None
        return [b.label for r in self.last_turn.replies for b in r.flat_buttons()]

    @property
    def dialog(self) -> str | None:
        return self.last_turn.dialog if self.last_turn else None

    def pop(self) -> Reply:
        return self.inbox.popleft()

    def text(self) -> str:
        """Everything said in the last turn, joined, for substring assertions."""
        assert self.last_turn is not None
        return "\n".join((r.title or "") + "\n" + r.text for r in self.last_turn.replies)

    async def _push(self, event: Inbound) -> list[Reply]:
        turn = await self.harness.engine.handle(event)
        self.last_turn = turn
        self.inbox.extend(turn.replies)
        return turn.replies


class ChatHarness:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def person(
        self, user: str = "ann", *, group: str | None = None, admin: bool | None = None
    ) -> Person:
        return Person(self, user, group, admin)
