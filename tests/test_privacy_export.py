"""/export: a JSON file of everything stored about the person, readable only by the bot's
user, sent privately, holding nobody else's data; exactly the rows /forget would delete."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import privacy
from bot.content.bundle import ContentBundle
from bot.content.plural import fill
from bot.engine.events import ReplyIntent
from bot.storage.db import make_sessionmaker
from bot.storage.models import CheckIn, TriageReport
from handlers.privacy.commands import EXPORT_GROUP
from handlers.triage.api import health_consent
from scheduler.occurrences import DAY_NAMES
from tests.harness import ChatHarness, FakeClock
from tests.privacy_world import BOB, GROUP, ZOE, populate, privacy_bot, user_row


@pytest.fixture
def bot(db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path) -> ChatHarness:
    return privacy_bot(db, content, clock, tmp_path)


async def test_export_holds_everything_about_the_person_and_nobody_else(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(bot, db, clock)
    zoe = bot.person(ZOE)
    [reply] = await zoe.say("/export")
    assert reply.intent is ReplyIntent.NEW
    path = reply.attachment
    assert path is not None and path.parent == tmp_path / privacy.EXPORTS_SUBDIR
    assert ZOE not in path.name  # the file name carries no personal id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds health answers
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert exported["format"] == privacy.EXPORT_FORMAT
    tables = exported["tables"]
    [report] = tables["triage_reports"]
    assert report["answers"]  # the coded answers, as stored
    assert [c["topic"] for c in tables["consents"]] == ["health"]
    assert {m["dedupe_key"] for m in tables["outbox"]} == {f"t:remind:{ZOE}", f"t:dm:{ZOE}"}
    assert len(tables["reminder_rules"]) == 1 and len(tables["checkins"]) == 1
    assert [u["platform_user_id"] for u in tables["users"]] == [ZOE]
    text = path.read_text(encoding="utf-8")
    assert BOB not in text and BOB.title() not in text
    assert "Club challenge!" not in text  # the group's post is nobody's personal data


async def test_export_matches_what_forget_would_delete(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    zoe = bot.person(ZOE)
    [reply] = await zoe.say("/export")
    assert reply.attachment is not None
    exported = json.loads(reply.attachment.read_text(encoding="utf-8"))["tables"]
    sessions = make_sessionmaker(db)
    user = await user_row(sessions, ZOE)
    async with sessions() as session, session.begin():
        removed = await privacy.erase(session, user)
    assert {table: len(rows) for table, rows in exported.items()} == removed


async def test_export_in_a_group_is_sent_privately(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    in_group = bot.person(ZOE, group=GROUP)
    public, private = await in_group.say("/export")
    assert public.text == EXPORT_GROUP and public.attachment is None
    assert public.intent is ReplyIntent.NEW
    assert private.intent is ReplyIntent.PRIVATE and private.attachment is not None
    exported = json.loads(private.attachment.read_text(encoding="utf-8"))
    assert [u["platform_user_id"] for u in exported["tables"]["users"]] == [ZOE]


async def test_export_of_a_newcomer_is_just_their_profile(bot: ChatHarness) -> None:
    [reply] = await bot.person("newcomer-z1").say("/export")
    assert reply.attachment is not None
    tables = json.loads(reply.attachment.read_text(encoding="utf-8"))["tables"]
    assert set(tables) == {"users", "chats"}


async def test_the_export_reads_in_plain_words_with_a_summary(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    await populate(bot, db, clock)
    [reply] = await bot.person(ZOE).say("/export")
    assert reply.attachment is not None
    exported = json.loads(reply.attachment.read_text(encoding="utf-8"))
    assert "• 1 soreness check result" in exported["summary"]
    readable = exported["readable"]
    [rule] = readable["reminder_rules"]
    raw = exported["tables"]["reminder_rules"][0]
    assert rule["time"] == f"{raw['minute_of_day'] // 60:02d}:{raw['minute_of_day'] % 60:02d}"
    assert rule["days"] and set(rule["days"]) <= set(DAY_NAMES)
    [report] = readable["triage_reports"]
    assert (
        report["result"]
        == content.triage.outcomes[exported["tables"]["triage_reports"][0]["outcome"]].title
    )
    assert [c["agreed"] for c in readable["consents"]] == ["yes"]


async def test_the_privacy_centre_lists_what_is_kept_and_changes_the_choice(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    await populate(bot, db, clock)
    centre = content.texts.privacy_centre
    zoe = bot.person(ZOE)
    await zoe.say("/privacy")
    shown = zoe.text()
    for kind in ("1 soreness check result", "1 reminder", "1 follow-up question"):
        assert kind in shown
    assert fill(centre.soreness_kept, days=content.triage.detail_retention_days) in shown
    # Stop keeping: the kept results and their pending follow-ups go too.
    await zoe.press(centre.stop_button)
    assert fill(centre.stopped, count=1) in zoe.text()
    assert "the 1 result I had" in zoe.text()
    sessions = make_sessionmaker(db)
    zoe_id = (await user_row(sessions, ZOE)).id
    async with sessions() as session:
        reports = await session.scalars(select(TriageReport).where(TriageReport.user_id == zoe_id))
        assert list(reports) == []
        checkins = list(await session.scalars(select(CheckIn).where(CheckIn.user_id == zoe_id)))
        assert checkins and all(c.status != "scheduled" for c in checkins)
    await zoe.say("/privacy")
    assert centre.soreness_not_kept in zoe.text()
    await zoe.press(centre.keep_button)
    assert "from now on I keep" in zoe.text()
    assert await health_consent_of(sessions, zoe_id) is True
    # Bob's soreness results were not touched.
    bob_id = (await user_row(sessions, BOB)).id
    async with sessions() as session:
        assert list(
            await session.scalars(select(TriageReport).where(TriageReport.user_id == bob_id))
        )


async def test_the_privacy_centre_in_a_group_answers_privately(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    replies = await bot.person(ZOE, group=GROUP).say("/privacy")
    assert replies and all(r.intent is ReplyIntent.PRIVATE for r in replies)


async def health_consent_of(
    sessions: async_sessionmaker[AsyncSession], user_id: int
) -> bool | None:
    async with sessions() as session:
        return await health_consent(session, user_id)
