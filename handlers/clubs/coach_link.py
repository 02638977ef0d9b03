"""Coach accounts: one person's identities on several platforms and the clubs they run.

The model:
- a **coach account** (coach_accounts) groups platform identities (coach_identities, one
  account per users row) and linked clubs (coach_clubs);
- `/coach link` makes a **one-time code** (8 characters, valid 15 minutes) for the account
  of the identity that asked (the account is created on first use). Asked in a club by a
  coach, that club is linked at once and the code is sent privately;
- `/coach link CODE` typed in a club by a coach of that club uses the code up: the club is
  linked to the code's account and the typing identity joins the account (it proved both
  that it holds the code and that it coaches this club; an identity already in another
  account merges that account into this one). So a coach on Telegram and Discord links
  clubs on both platforms to one account, and one broadcast reaches them all;
- a code works once, so a code seen in a group chat after use is worthless; `/coach unlink`
  in a club removes it from every account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from bot.engine.context import TurnContext
from bot.storage.models import (
    Broadcast,
    Chat,
    CoachAccount,
    CoachClub,
    CoachIdentity,
    CoachLinkCode,
    User,
)
from handlers.clubs.roles import upsert

CODE_LIFETIME = timedelta(minutes=15)
# No 0/O or 1/I/L: codes are read off one screen and typed on another.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


async def identity_of(ctx: TurnContext, user: User | None = None) -> CoachIdentity | None:
    user = user or ctx.user
    return await ctx.session.get(CoachIdentity, user.id)


async def ensure_identity(ctx: TurnContext) -> CoachIdentity:
    identity = await identity_of(ctx)
    if identity is None:
        account = CoachAccount(created_at=ctx.now)
        ctx.session.add(account)
        await ctx.session.flush()
        identity = CoachIdentity(user_id=ctx.user.id, account_id=account.id, joined_at=ctx.now)
        ctx.session.add(identity)
    await note_private_chat(ctx, identity)
    return identity


async def note_private_chat(ctx: TurnContext, identity: CoachIdentity | None = None) -> None:
    """A coach writing privately tells us where their private reports can reach them."""
    if ctx.in_group:
        return
    identity = identity or await identity_of(ctx)
    if identity is not None and identity.dm_chat_id != ctx.event.place.chat_id:
        identity.dm_chat_id = ctx.event.place.chat_id


def private_chat_id(user: User, identity: CoachIdentity | None) -> str | None:
    """Where a private message to this person goes on their platform, if we know."""
    if identity is not None and identity.dm_chat_id:
        return identity.dm_chat_id
    if user.platform == "telegram":
        return user.platform_user_id  # a Telegram private chat's id is the user's id
    if user.platform in ("terminal", "test"):
        return f"dm:{user.platform_user_id}"  # the terminal chat's (and test harness's) naming
    return None  # e.g. Discord: a DM channel id is learnt when they write to us privately


async def new_code(ctx: TurnContext, identity: CoachIdentity) -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    ctx.session.add(
        CoachLinkCode(
            code=code,
            account_id=identity.account_id,
            created_by=ctx.user.id,
            created_at=ctx.now,
            expires_at=ctx.now + CODE_LIFETIME,
        )
    )
    return code


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


@dataclass(frozen=True)
class Redeemed:
    ok: bool
    problem: str = ""


async def redeem(ctx: TurnContext, typed: str) -> Redeemed:
    """Use a code in this club (the caller has checked that the person coaches it)."""
    code = normalise_code(typed)
    row = await ctx.session.get(CoachLinkCode, code, with_for_update=True) if code else None
    if row is None or row.used_at is not None or row.expires_at <= ctx.now:
        return Redeemed(
            False,
            "That code isn't valid: it may be mistyped, used already or older than "
            f"{int(CODE_LIFETIME.total_seconds() // 60)} minutes. Nothing was changed. "
            "Get a new one with /coach link in a private chat with me.",
        )
    row.used_at = ctx.now
    identity = await identity_of(ctx)
    if identity is None:
        ctx.session.add(
            CoachIdentity(user_id=ctx.user.id, account_id=row.account_id, joined_at=ctx.now)
        )
    elif identity.account_id != row.account_id:
        await _merge(ctx, source=identity.account_id, target=row.account_id)
    await link_club(ctx, row.account_id, ctx.chat)
    return Redeemed(True)


async def _merge(ctx: TurnContext, *, source: int, target: int) -> None:
    """Fold one account into another: identities, clubs and pending codes move over."""
    session = ctx.session
    await session.execute(
        update(CoachIdentity).where(CoachIdentity.account_id == source).values(account_id=target)
    )
    await session.execute(
        update(CoachLinkCode).where(CoachLinkCode.account_id == source).values(account_id=target)
    )
    for chat_id in list(
        await session.scalars(select(CoachClub.chat_id).where(CoachClub.account_id == source))
    ):
        await _insert_link(ctx, target, chat_id)
    await session.execute(delete(CoachClub).where(CoachClub.account_id == source))
    await session.execute(
        update(Broadcast).where(Broadcast.account_id == source).values(account_id=target)
    )
    await session.execute(delete(CoachAccount).where(CoachAccount.id == source))


async def link_club(ctx: TurnContext, account_id: int, chat: Chat) -> None:
    await _insert_link(ctx, account_id, chat.id)


async def _insert_link(ctx: TurnContext, account_id: int, chat_id: int) -> None:
    table = CoachClub.__table__
    await ctx.session.execute(
        upsert(ctx.session)(table)
        .values(account_id=account_id, chat_id=chat_id, linked_by=ctx.user.id, linked_at=ctx.now)
        .on_conflict_do_nothing(index_elements=[table.c.account_id, table.c.chat_id])
    )


async def unlink_club(ctx: TurnContext, chat: Chat) -> int:
    result = await ctx.session.execute(delete(CoachClub).where(CoachClub.chat_id == chat.id))
    return int(getattr(result, "rowcount", 0) or 0)


async def linked_clubs(ctx: TurnContext, account_id: int) -> list[Chat]:
    found = await ctx.session.scalars(
        select(Chat)
        .join(CoachClub, CoachClub.chat_id == Chat.id)
        .where(CoachClub.account_id == account_id)
        .order_by(Chat.platform, Chat.title, Chat.id)
    )
    return list(found)


def club_label(chat: Chat) -> str:
    title = " ".join(chat.title.replace("*", "").split())[:60] or "a group"
    return f"{title} ({chat.platform})"
