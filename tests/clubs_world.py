"""A small world for the club tests: people on named platforms in named groups, driving the
real engine, plus the real sweep and the real outbox sender delivering through recording
transports (one per platform)."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import select

from bot.config import Settings
from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.engine import Engine
from bot.engine.events import Actor, Place, Reply
from bot.storage.models import Challenge, Outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender
from scheduler.sweep import Sweeper
from tests.harness import ChatHarness, FakeClock, Person

PLATFORMS = ("test", "telegram", "discord")


@dataclass
class Member(Person):
    """A Person on a chosen platform; private chats are named the platform's way."""

    platform: str = "test"
    display: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(
            self.platform,
            self.user,
            display_name=self.display or self.user.title(),
            is_chat_admin=self.admin,
        )

    @property
    def place(self) -> Place:
        if self.group:
            return Place(
                group_chat(self.group), is_private=False, thread_id=self.thread, title=self.group
            )
        return Place(dm_chat(self.platform, self.user), is_private=True, thread_id=self.thread)

    def last(self) -> Reply:
        assert self.last_turn is not None and self.last_turn.replies, "no reply"
        return self.last_turn.replies[-1]


def group_chat(name: str) -> str:
    return f"group:{name}"


def dm_chat(platform: str, user: str) -> str:
    # A Telegram private chat has the user's id; other platforms name it themselves.
    return user if platform == "telegram" else f"dm:{user}"


class RecordingTransport:
    """Records every delivery; answers from a per-chat script, then SENT."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sent: list[OutboundMessage] = []
        self.script: dict[str, deque[Delivery]] = defaultdict(deque)

    async def deliver(self, message: OutboundMessage) -> Delivery:
        self.sent.append(message)
        await asyncio.sleep(0)
        scripted = self.script[message.chat_id]
        return scripted.popleft() if scripted else Delivery(DeliveryStatus.SENT)


class World:
    def __init__(self, engine: Engine, clock: FakeClock) -> None:
        self.engine = engine
        self.clock = clock
        self.harness = ChatHarness(engine)
        self.sessions = engine.sessions
        self.transports = {p: RecordingTransport(p) for p in PLATFORMS}
        self.senders = [
            Sender(
                self.sessions,
                transport,
                pacing=PacingPolicy.unlimited(),
                clock=clock,
                rng=random.Random(7),
            )
            for transport in self.transports.values()
        ]
        # The sweep hooks the app hands over (scheduler.service.start_background).
        self.sweeper = Sweeper(
            self.sessions, engine.content, Settings(), engine.router.sweep_hooks, clock=clock
        )

    def person(
        self,
        user: str,
        *,
        group: str | None = None,
        admin: bool | None = None,
        platform: str = "test",
        display: str = "",
    ) -> Member:
        return Member(self.harness, user, group, admin, platform=platform, display=display)

    async def tick(self) -> list[OutboundMessage]:
        """One sweep, then every sender drains what is due; returns what was delivered."""
        before = {p: len(t.sent) for p, t in self.transports.items()}
        await self.sweeper.run_once()
        for sender in self.senders:
            while await sender.drain_once():
                pass
        return [m for p, t in self.transports.items() for m in t.sent[before[p] :]]

    def received(self, platform: str, chat_id: str) -> list[Reply]:
        return [m.reply for m in self.transports[platform].sent if m.chat_id == chat_id]

    async def challenges(self) -> list[Challenge]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Challenge).order_by(Challenge.id)))

    async def outbox_rows(self) -> list[Outbox]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Outbox).order_by(Outbox.id)))

    async def bot_membership(self, platform: str, group: str, *, member: bool) -> None:
        place = Place(group_chat(group), is_private=False, title=group)
        await self.engine.record_membership(platform, place, bot_is_member=member)
