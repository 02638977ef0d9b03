"""GPX and FIT files sent to the Telegram bot as documents, end to end: real PTB over real
HTTP against FakeTelegramAPI (getFile, then the file download path), the real engine and
training feature on SQLite, and real files written by gpxpy and fit-tool."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.storage.models import Run
from tests.fakes.telegram_api import FakeTelegramAPI, SentRecord, parse_html
from tests.telegram_harness import Bot, make_app, running
from tests.training_files import fit_bytes, gpx_bytes

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

MB = 1024 * 1024


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def bot(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> AsyncIterator[Bot]:
    async with running(fake, make_app(fake, sqlite_db, content)) as running_bot:
        yield running_bot


def texts(records: list[SentRecord]) -> list[str]:
    return [r.plain_text or parse_html(r.caption or "")[0] for r in records]


async def runs(db: AsyncEngine) -> list[tuple[str, int]]:
    async with db.connect() as conn:
        rows = await conn.execute(select(Run.source, Run.distance_m).order_by(Run.id))
        return [(source, distance) for source, distance in rows]


async def run_count(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Run)) or 0)


def file_calls(fake: FakeTelegramAPI) -> list[str]:
    return [c.method for c in fake.calls if c.method == "getFile"]


async def test_a_gpx_document_logs_one_run_and_the_same_file_again_changes_nothing(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    ann = bot.fake.add_user("Ann")
    runner = bot.runner(ann)
    gpx = gpx_bytes(1801)  # 30 min at 3 m/s: 5.4 km
    [saved] = await runner.send_file(gpx, "morning.gpx")
    assert "5.4 km" in texts([saved])[0]
    assert "Undo" in str(saved.reply_markup)
    assert await runs(sqlite_db) == [("gpx", pytest.approx(5400, abs=10))]
    assert len(bot.fake.downloads) == 1  # fetched through getFile and the file path

    [again] = await runner.send_file(gpx, "renamed.gpx", caption="same run, other name")
    assert "already logged" in texts([again])[0]
    assert await run_count(sqlite_db) == 1


async def test_a_fit_document_logs_a_run(bot: Bot, sqlite_db: AsyncEngine) -> None:
    runner = bot.runner(bot.fake.add_user("Ben"))
    [saved] = await runner.send_file(fit_bytes(1800), "Garmin.fit", caption="/upload")
    assert "5.4 km" in texts([saved])[0]
    assert await runs(sqlite_db) == [("fit", pytest.approx(5397, abs=2))]


async def test_a_21_mb_document_is_refused_without_downloading(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    runner = bot.runner(bot.fake.add_user("Cat"))
    big = gpx_bytes(10) + b" " * (21 * MB)
    [refused] = await runner.send_file(big, "huge.gpx")
    assert "over 20 MB" in texts([refused])[0]
    assert file_calls(bot.fake) == []  # not even getFile
    assert bot.fake.downloads == []
    assert await run_count(sqlite_db) == 0


async def test_a_corrupt_or_empty_file_changes_nothing(bot: Bot, sqlite_db: AsyncEngine) -> None:
    runner = bot.runner(bot.fake.add_user("Dee"))
    damaged = bytearray(fit_bytes(600))
    damaged[len(damaged) // 2] ^= 0x55
    [corrupt] = await runner.send_file(bytes(damaged), "broken.fit")
    [truncated] = await runner.send_file(gpx_bytes(600)[:-300], "cut.gpx")
    [empty] = await runner.send_file(b"", "empty.gpx")
    [ride] = await runner.send_file(gpx_bytes(600, kind="cycling"), "ride.gpx")
    said = texts([corrupt, truncated, empty, ride])
    assert "damaged" in said[0] and "damaged" in said[1]
    assert "empty" in said[2]
    assert "isn't a run (cycling)" in said[3]
    assert await run_count(sqlite_db) == 0


async def test_telegram_failing_to_hand_the_file_over_is_said(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    runner = bot.runner(bot.fake.add_user("Eve"))
    bot.fake.fail_next("getFile", status=500)
    [failed] = await runner.send_file(gpx_bytes(600), "run.gpx")
    assert "couldn't fetch that file" in texts([failed])[0]
    assert await run_count(sqlite_db) == 0
    [saved] = await runner.send_file(gpx_bytes(600), "run.gpx")  # sent again: it works
    assert "1.8 km" in texts([saved])[0]


async def test_in_a_group_a_captioned_document_is_answered_privately(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    fay, gus = bot.fake.add_user("Fay"), bot.fake.add_user("Gus")
    club = bot.fake.add_group("Harriers", members={fay: "member", gus: "member"})
    # A file shared in the club without addressing the bot is none of its business.
    assert await bot.runner(gus, club).send_file(gpx_bytes(600), "gus.gpx") == []
    assert bot.fake.downloads == []

    in_club = bot.runner(fay, club)
    [saved] = await in_club.send_file(gpx_bytes(1801), "fay.gpx", caption="/upload")
    assert saved.chat_id == fay.id  # a person's run is theirs: said in the private chat
    assert "5.4 km" in texts([saved])[0]
    mention = f"my long run @{bot.fake.bot.username}"
    [again] = await in_club.send_file(gpx_bytes(1801), "fay.gpx", caption=mention)
    assert again.chat_id == fay.id and "already logged" in texts([again])[0]
    assert await run_count(sqlite_db) == 1


async def test_upload_without_a_file_says_how(bot: Bot) -> None:
    runner = bot.runner(bot.fake.add_user("Hal"))
    [answer] = await runner.say("/upload /etc/passwd")
    assert "attach it to a message" in texts([answer])[0]
    assert file_calls(bot.fake) == []
