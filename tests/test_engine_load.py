"""What a turn loads of a known person and chat (one statement, objects attached to the
session without the ORM's loading) is what is stored, and what the turn changes of them is
saved; what it does not change is not written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.context import TurnContext
from bot.engine.engine import LAST_SEEN_RESOLUTION
from bot.engine.events import Actor, Inbound, Place
from bot.engine.feature import Feature
from bot.storage.db import make_sessionmaker
from bot.storage.models import Chat, User
from tests.factory import build_engine
from tests.harness import FakeClock


def _said(name: str, title: str, text: str = "/help", command: str | None = "help") -> Inbound:
    return Inbound(
        Actor("test", "ann", display_name=name),
        Place("group:club", is_private=False, title=title),
        text=text,
        command=command,
    )


async def _stored(db: AsyncEngine) -> tuple[User, Chat]:
    async with make_sessionmaker(db)() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == "ann"))
        chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "group:club"))
    assert user is not None and chat is not None
    return user, chat


async def test_a_turn_sees_the_stored_rows_and_saves_what_it_changes(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    seen: list[tuple[object, ...]] = []
    extra = Feature("whoami")

    @extra.command("whoami", "Test-only: what the turn loaded; sets a timezone")
    async def whoami(ctx: TurnContext) -> None:
        user, chat = ctx.user, ctx.chat
        seen.append((user.id, user.display_name, user.timezone, user.created_at))
        seen.append((chat.id, chat.title, chat.is_private, chat.bot_is_member))
        user.timezone = "Europe/Berlin"

    engine = build_engine(db, content, extra=[extra], clock=clock)
    await engine.handle(_said("Ann", "Club"))  # creates person and chat
    first_seen = clock.now
    await engine.mark_unreachable("test", "ann")
    stored_user, stored_chat = await _stored(db)
    assert stored_user.unreachable

    clock.advance(minutes=1)
    await engine.handle(_said("Ann", "Club", "/whoami", "whoami"))
    assert seen == [
        (stored_user.id, "Ann", None, first_seen),
        (stored_chat.id, "Club", False, True),
    ]
    user, _ = await _stored(db)
    assert user.timezone == "Europe/Berlin"  # a handler's change is saved
    assert user.unreachable is False  # writing to us makes a person reachable again
    assert user.last_seen_at == first_seen  # within the resolution: not rewritten

    clock.advance(seconds=LAST_SEEN_RESOLUTION.total_seconds())
    await engine.handle(_said("Annie", "Runners' club"))
    user, chat = await _stored(db)
    assert (user.display_name, chat.title) == ("Annie", "Runners' club")
    assert user.last_seen_at == first_seen + LAST_SEEN_RESOLUTION + timedelta(minutes=1)
    assert user.timezone == "Europe/Berlin"
