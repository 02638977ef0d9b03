"""Who is a coach of a club, who has been seen there, and finding people by name.

A club is a group chat. A coach of a club is either a chat admin by the platform's word
(`Actor.is_chat_admin`, filled by the adapter at the moment of the event: Telegram creator,
administrator or anonymous admin; Discord Manage Server or a coach role; `--admin` in the
terminal) or someone a coach granted the role with `/coach add NAME` (a club_members row).
Unknown (None) counts as "not an admin".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.context import TurnContext
from bot.storage.models import Chat, ClubMember, User

COACH = "coach"
MEMBER = "member"
# "<@123>" / "<@!123>": a Discord mention carries the platform user id itself.
_MENTION_ID = re.compile(r"^<@!?(\d{1,20})>$")
_SPACES = re.compile(r"[\s_.-]+")


def upsert(session: AsyncSession) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def note_seen(ctx: TurnContext) -> None:
    """Remember that this person is in this club (so /coach add can find them by name)."""
    if not ctx.in_group:
        return
    table = ClubMember.__table__
    statement = (
        upsert(ctx.session)(table)
        .values(chat_id=ctx.chat.id, user_id=ctx.user.id, role=MEMBER, last_seen_at=ctx.now)
        .on_conflict_do_update(
            index_elements=[table.c.chat_id, table.c.user_id], set_={"last_seen_at": ctx.now}
        )
    )
    await ctx.session.execute(statement)


async def granted_role(session: AsyncSession, chat: Chat, user: User) -> str | None:
    return await session.scalar(
        select(ClubMember.role).where(ClubMember.chat_id == chat.id, ClubMember.user_id == user.id)
    )


async def is_coach(ctx: TurnContext) -> bool:
    """Checked at the moment of each command or button, never remembered from an earlier one."""
    if not ctx.in_group:
        return False
    if ctx.event.actor.is_chat_admin is True:
        return True
    return await granted_role(ctx.session, ctx.chat, ctx.user) == COACH


async def require_club(ctx: TurnContext) -> bool:
    if ctx.in_group:
        await note_seen(ctx)
        return True
    ctx.say(ctx.content.clubs.not_in_group)
    return False


async def require_coach(ctx: TurnContext) -> bool:
    """In a club, and a coach of it; otherwise a clear refusal and nothing changes."""
    if not await require_club(ctx):
        return False
    if await is_coach(ctx):
        return True
    ctx.say(ctx.content.clubs.coach_only)
    return False


async def set_role(
    session: AsyncSession, chat: Chat, user: User, role: str, granted_by: User, now: datetime
) -> None:
    table = ClubMember.__table__
    statement = (
        upsert(session)(table)
        .values(
            chat_id=chat.id, user_id=user.id, role=role, granted_by=granted_by.id, last_seen_at=now
        )
        .on_conflict_do_update(
            index_elements=[table.c.chat_id, table.c.user_id],
            set_={"role": role, "granted_by": granted_by.id},
        )
    )
    await session.execute(statement)


async def granted_coaches(session: AsyncSession, chat: Chat) -> list[User]:
    found = await session.scalars(
        select(User)
        .join(ClubMember, ClubMember.user_id == User.id)
        .where(ClubMember.chat_id == chat.id, ClubMember.role == COACH)
        .order_by(User.display_name)
    )
    return list(found)


async def members_seen(session: AsyncSession, chat: Chat) -> int:
    found = await session.scalar(
        select(func.count()).select_from(ClubMember).where(ClubMember.chat_id == chat.id)
    )
    return int(found or 0)


@dataclass(frozen=True)
class Lookup:
    """The person a name points at, or every person it could mean."""

    user: User | None = None
    candidates: list[User] = field(default_factory=list)


def _fold(name: str) -> str:
    return _SPACES.sub("", name.casefold())


async def find_member(session: AsyncSession, chat: Chat, query: str) -> Lookup:
    """Someone seen in this club, by @username, display name or a platform mention."""
    raw = query.strip()
    people = list(
        await session.scalars(
            select(User)
            .join(ClubMember, ClubMember.user_id == User.id)
            .where(ClubMember.chat_id == chat.id)
        )
    )
    mention = _MENTION_ID.match(raw)
    if mention:
        exact = [p for p in people if p.platform_user_id == mention.group(1)]
        return Lookup(exact[0] if exact else None)
    name = raw.removeprefix("@").strip()
    if not name:
        return Lookup()
    for matches in (
        [p for p in people if p.display_name.casefold() == name.casefold()],
        [p for p in people if _fold(p.display_name) == _fold(name)],
        [p for p in people if p.platform_user_id.casefold() == name.casefold()],
    ):
        if len(matches) == 1:
            return Lookup(matches[0])
        if matches:
            return Lookup(candidates=matches)
    return Lookup()


def safe_name(display_name: str) -> str:
    """A display name fit for a group message: no markup, never empty, not too long."""
    name = " ".join(display_name.replace("*", "").split())[:40]
    return name or "Runner"
