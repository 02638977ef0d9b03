"""A small world of stored data for the privacy tests: two people with soreness checks,
consents, reminders, check-ins, outbox messages and a club, and a scan of every table of the
schema for whatever still refers to one of them.

The scan walks Base.metadata, so a table added later is scanned without a change here.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.engine.payloads import DIALOG_PREFIX
from bot.storage.db import make_sessionmaker
from bot.storage.models import Base, Chat, CheckIn, ClubMember, ReminderRule, User
from scheduler.outbox import NewMessage, enqueue
from tests.factory import build_engine
from tests.harness import PLATFORM, ChatHarness, FakeClock, Person

# Distinctive ids, so a substring scan finds them and nothing else.
ZOE = "zoe-q7x3"
BOB = "bob-k9w2"
GROUP = "harriers-p4"


def privacy_bot(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock, data_dir: Path
) -> ChatHarness:
    """The shipped router, with exports written under `data_dir` (a test's tmp_path)."""
    return ChatHarness(build_engine(db, content, data_dir=data_dir, clock=clock))


async def full_triage(person: Person) -> None:
    """/sore, agree to storing, then the first answer to every question until the result."""
    await person.say("/sore")
    for _ in range(40):
        if person.dialog is None:
            return
        choices = [
            b.payload
            for r in (person.last_turn.replies if person.last_turn else [])
            for b in r.flat_buttons()
            if b.payload.startswith(DIALOG_PREFIX)
        ]
        await person.press_payload(choices[0])
    raise AssertionError("the soreness check did not finish within 40 answers")


async def user_row(sessions: async_sessionmaker[AsyncSession], platform_id: str) -> User:
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == platform_id))
    assert user is not None, f"no users row for {platform_id}"
    return user


async def populate(bot: ChatHarness, db: AsyncEngine, clock: FakeClock) -> None:
    """Zoe first, then Bob (so Zoe's id is never the highest and cannot be reused), each with
    everything a person accumulates."""
    sessions = make_sessionmaker(db)
    for name in (ZOE, BOB):
        person = bot.person(name)
        await full_triage(person)
        await bot.person(name, group=GROUP).say("/help")  # seen in a club
        user = await user_row(sessions, name)
        async with sessions() as session, session.begin():
            dm = await session.scalar(
                select(Chat).where(Chat.platform == PLATFORM, Chat.platform_chat_id == f"dm:{name}")
            )
            club = await session.scalar(
                select(Chat).where(
                    Chat.platform == PLATFORM, Chat.platform_chat_id == f"group:{GROUP}"
                )
            )
            assert dm is not None and club is not None
            session.add(ClubMember(chat_id=club.id, user_id=user.id, last_seen_at=clock.now))
            session.add(
                ReminderRule(
                    user_id=user.id,
                    chat_id=dm.id,
                    days=0b0010101,
                    minute_of_day=7 * 60,
                    timezone="Europe/Berlin",
                    next_due_at=clock.now + timedelta(days=1),
                    created_at=clock.now,
                )
            )
            session.add(
                CheckIn(
                    user_id=user.id,
                    chat_id=dm.id,
                    episode_ref=f"r{user.id}",
                    due_at=clock.now + timedelta(days=2),
                    created_at=clock.now,
                )
            )
            await enqueue(
                session,
                [
                    # A reminder for them, and a message addressed to their private chat
                    # that names nobody (e.g. written before the person row was known).
                    NewMessage(
                        f"t:remind:{name}", PLATFORM, f"dm:{name}", Reply("Core time!"), user.id
                    ),
                    NewMessage(f"t:dm:{name}", PLATFORM, f"dm:{name}", Reply("Hello again")),
                ],
                now=clock.now,
            )
    async with sessions() as session, session.begin():
        # A club post for everyone: about nobody, so it must survive anyone's /forget.
        await enqueue(
            session,
            [
                NewMessage(
                    "t:club",
                    PLATFORM,
                    f"group:{GROUP}",
                    Reply("Club challenge!"),
                    None,
                    is_private=False,
                )
            ],
            now=clock.now,
        )


async def scan(db: AsyncEngine, user_id: int, needles: tuple[str, ...]) -> list[str]:
    """Every place in every table still referring to this person: a foreign key to users
    holding their id, their users row itself, or any value containing a needle (their
    platform id or name, also inside JSON)."""
    found: list[str] = []
    users = Base.metadata.tables["users"]
    async with db.connect() as conn:
        for table in Base.metadata.sorted_tables:
            user_columns = {fk.parent.name for fk in table.foreign_keys if fk.column.table is users}
            if table is users:
                user_columns.add("id")
            for row in (await conn.execute(select(table))).mappings():
                for column, value in row.items():
                    if column in user_columns and value == user_id:
                        found.append(f"{table.name}.{column} = {user_id}")
                    elif any(n in _as_text(value) for n in needles):
                        found.append(f"{table.name}.{column} mentions them")
    return found


async def tables_about(db: AsyncEngine, user_id: int, needles: tuple[str, ...]) -> set[str]:
    return {place.split(".")[0] for place in await scan(db, user_id, needles)}


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
