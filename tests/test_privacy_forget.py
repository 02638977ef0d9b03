"""/forget: confirmed with a button, then every row about the person is gone from every
table (scanned generically over the whole schema), and nobody else's data is touched."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import private_folder
from bot.content.bundle import ContentBundle
from bot.engine.engine import SOMETHING_WRONG
from bot.storage.db import make_sessionmaker
from bot.storage.models import Base, Outbox, User
from handlers.privacy.commands import FORGET_GROUP, FORGET_KEPT, FORGET_NO, FORGET_REASK, FORGET_YES
from handlers.progress import chart
from handlers.progress.commands import chart_path
from handlers.sessions.api import Week
from tests.harness import ChatHarness, FakeClock
from tests.privacy_world import BOB, ZOE, populate, privacy_bot, scan, tables_about, user_row

ZOE_NEEDLES = (ZOE, ZOE.title())
ONE_WEEK = [Week(date(2026, 11, 23), sessions=2, work_seconds=900)]
BOB_NEEDLES = (BOB, BOB.title())


@pytest.fixture
def bot(db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path) -> ChatHarness:
    return privacy_bot(db, content, clock, tmp_path)


async def test_forget_erases_every_row_about_the_person(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    sessions = make_sessionmaker(db)
    zoe_id = (await user_row(sessions, ZOE)).id
    bob_id = (await user_row(sessions, BOB)).id
    before_zoe = await tables_about(db, zoe_id, ZOE_NEEDLES)
    # The world really holds Zoe's data in many tables, or the scan below would prove nothing.
    assert {"users", "chats", "consents", "triage_reports", "outbox", "reminder_rules"} <= (
        before_zoe
    )
    assert {"checkins", "club_members"} <= before_zoe
    bob_before = sorted(await scan(db, bob_id, BOB_NEEDLES))

    zoe = bot.person(ZOE)
    await zoe.say("/forget")
    assert zoe.dialog == "forget"
    assert "soreness check result" in zoe.text()  # says what will go before asking
    await zoe.press(FORGET_YES)

    assert zoe.dialog is None
    assert SOMETHING_WRONG not in zoe.text()
    for kind in ("soreness check result", "reminder", "follow-up question", "club membership"):
        assert kind in zoe.text()
    assert await scan(db, zoe_id, ZOE_NEEDLES) == []
    assert sorted(await scan(db, bob_id, BOB_NEEDLES)) == bob_before
    async with sessions() as session:
        club_posts = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.dedupe_key == "t:club")
        )
    assert club_posts == 1  # a group message about nobody stays


async def test_deleting_the_users_row_cascades_to_every_table(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    """The schema's own guarantee, apart from /forget's explicit deletes: on both backends
    (SQLite enforces it only with PRAGMA foreign_keys=ON) nothing keeps a deleted id."""
    await populate(bot, db, clock)
    sessions = make_sessionmaker(db)
    zoe_id = (await user_row(sessions, ZOE)).id
    async with sessions() as session, session.begin():
        await session.execute(delete(User).where(User.id == zoe_id))
    leftovers = [p for p in await scan(db, zoe_id, ()) if "=" in p]
    assert leftovers == []


def test_every_reference_to_a_person_lets_them_be_deleted() -> None:
    """A foreign key to users that neither cascades nor clears itself would make /forget fail
    (or leave rows behind): every one must say CASCADE (owned) or SET NULL (mentioned)."""
    users = Base.metadata.tables["users"]
    wrong = [
        f"{fk.parent.table.name}.{fk.parent.name}: ondelete={fk.ondelete}"
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table is users and (fk.ondelete or "").upper() not in ("CASCADE", "SET NULL")
    ]
    assert wrong == []


async def test_keep_and_typing_change_nothing(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    zoe_id = (await user_row(make_sessionmaker(db), ZOE)).id
    before = sorted(await scan(db, zoe_id, ZOE_NEEDLES))
    zoe = bot.person(ZOE)
    await zoe.say("/forget")
    await zoe.say("yes")  # typing is never enough to delete
    assert zoe.text().strip() == FORGET_REASK
    assert zoe.dialog == "forget"
    await zoe.press(FORGET_NO)
    assert zoe.text().strip() == FORGET_KEPT
    assert zoe.dialog is None
    assert sorted(await scan(db, zoe_id, ZOE_NEEDLES)) == before


async def test_forget_in_a_group_moves_to_a_private_chat(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    zoe_id = (await user_row(make_sessionmaker(db), ZOE)).id
    before = sorted(await scan(db, zoe_id, ZOE_NEEDLES))
    in_group = bot.person(ZOE, group="harriers-p4")
    await in_group.say("/forget")
    assert in_group.text().strip() == FORGET_GROUP
    assert in_group.dialog is None  # nothing is asked (or deleted) in front of the club
    [button] = [b for r in in_group.last_turn.replies for b in r.flat_buttons()]  # type: ignore[union-attr]
    assert button.opens_private
    assert sorted(await scan(db, zoe_id, ZOE_NEEDLES)) == before
    # The button arrives from the private chat (Telegram deep link) and asks there.
    private = bot.person(ZOE)
    await private.press_payload(button.payload)
    assert private.dialog == "forget"
    await private.press(FORGET_YES)
    assert await scan(db, zoe_id, ZOE_NEEDLES) == []


async def test_a_forgotten_person_starts_afresh(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await populate(bot, db, clock)
    zoe = bot.person(ZOE)
    await zoe.say("/forget")
    await zoe.press(FORGET_YES)
    await zoe.say("/history")
    assert SOMETHING_WRONG not in zoe.text()
    fresh = await user_row(make_sessionmaker(db), ZOE)  # a new, empty person
    assert fresh.created_at == clock.now
    await zoe.say("/sore")
    assert zoe.dialog == "triage"  # and is asked for consent again, like anyone new


async def test_forget_deletes_the_persons_files_and_no_one_elses(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    """Exports and charts are files, not rows: /forget finds them through the features that
    made them, deletes them and says so; the scan covers the data folder as well."""
    bot = privacy_bot(sqlite_db, content, clock, tmp_path)
    zoe, bob = bot.person(ZOE), bot.person(BOB)
    for person in (zoe, bob):
        await person.say("/export")
    sessions = make_sessionmaker(sqlite_db)
    ids = {name: (await user_row(sessions, name)).id for name in (ZOE, BOB)}
    for user_id in ids.values():  # charts as /progress leaves them
        chart.render(ONE_WEEK, chart_path(tmp_path, user_id), "Core sessions")

    def files_naming(user_id: int, needles: tuple[str, ...]) -> list[Path]:
        found = []
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.suffix in (".json", ".png"):
                text = path.read_bytes().decode("utf-8", "ignore")
                if (
                    f"-u{user_id}-" in path.name
                    or f"-{user_id}." in path.name
                    or any(needle in text for needle in needles)
                ):
                    found.append(path)
        return found

    assert len(files_naming(ids[ZOE], ZOE_NEEDLES)) == 2  # her export and her chart
    bobs = sorted(files_naming(ids[BOB], BOB_NEEDLES))
    assert len(bobs) == 2
    await zoe.say("/forget")
    assert "2 files" in zoe.text()  # counted before asking
    await zoe.press(FORGET_YES)
    assert "2 files (exports and charts)" in zoe.text()
    assert files_naming(ids[ZOE], ZOE_NEEDLES) == []
    assert sorted(files_naming(ids[BOB], BOB_NEEDLES)) == bobs


def test_the_data_folder_and_charts_are_the_bots_users_alone(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    private_folder(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o755)  # an existing folder is tightened too
    private_folder(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    drawn = chart.render(ONE_WEEK, chart_path(folder, 7), "Core sessions")
    assert stat.S_IMODE(drawn.stat().st_mode) == 0o600
    assert stat.S_IMODE(drawn.parent.stat().st_mode) == 0o700
