"""GPX and FIT files given to the Discord bot, end to end: the real discord.py client against
FakeDiscord (attachments in a DM's MESSAGE_CREATE, and the `/upload file:` slash command's
resolved attachment, both fetched from the fake's CDN), the real engine and training feature
on SQLite, and real files written by gpxpy and fit-tool."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord.client import DiscordBot
from bot.content.bundle import ContentBundle
from bot.engine.engine import Engine
from bot.storage.models import Run
from tests.discord_harness import act, clubhouse, is_ephemeral, messages, running, text_of
from tests.factory import build_engine
from tests.fakes.discord_api import (
    FakeAttachment,
    FakeChannel,
    FakeDiscord,
    FakeUser,
    Json,
    RecordedRequest,
)
from tests.training_files import fit_bytes, gpx_bytes

MB = 1024 * 1024
SEND = "POST /channels/{channel_id}/messages"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def engine(sqlite_db: AsyncEngine, content: ContentBundle) -> Engine:
    return build_engine(sqlite_db, content)


async def run_count(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Run)) or 0)


async def send_dm(
    fake: FakeDiscord,
    bot: DiscordBot,
    user: FakeUser,
    channel: FakeChannel,
    text: str = "",
    files: dict[str, bytes] | None = None,
) -> Json:
    """The person sends a DM (with files attached); the bot's answer once it is idle."""

    def answer(request: RecordedRequest) -> bool:
        return request.route == SEND and request.params["channel_id"] == str(channel.id)

    done = len([r for r in fake.requests if answer(r)])
    await fake.dispatch("MESSAGE_CREATE", fake.message(user, channel, text, attachments=files))
    await fake.wait_for(answer, count=done + 1, timeout=5)
    assert await bot.drain(5)
    return messages(fake, channel)[-1]


async def test_a_gpx_attached_to_a_dm_logs_one_run_once(
    fake: FakeDiscord, engine: Engine, sqlite_db: AsyncEngine
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    gpx = gpx_bytes(1801)
    async with running(fake, engine) as bot:
        saved = await send_dm(fake, bot, club.alice, dm, files={"morning.gpx": gpx})
        assert "5.4 km" in text_of(saved)
        assert len(fake.cdn_downloads) == 1
        again = await send_dm(fake, bot, club.alice, dm, "same one", {"copy.gpx": gpx})
        assert "already logged" in text_of(again)
    assert await run_count(sqlite_db) == 1


async def test_a_big_or_corrupt_attachment_changes_nothing(
    fake: FakeDiscord, engine: Engine, sqlite_db: AsyncEngine
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.bob)
    damaged = bytearray(fit_bytes(600))
    damaged[len(damaged) // 2] ^= 0x55
    async with running(fake, engine) as bot:
        big = await send_dm(fake, bot, club.bob, dm, files={"huge.gpx": b" " * (21 * MB)})
        assert "over 20 MB" in text_of(big)
        assert fake.cdn_downloads == []  # refused on the size Discord announced
        corrupt = await send_dm(fake, bot, club.bob, dm, files={"broken.fit": bytes(damaged)})
        assert "damaged" in text_of(corrupt)
    assert await run_count(sqlite_db) == 0


async def test_the_upload_slash_command_takes_a_file(
    fake: FakeDiscord, engine: Engine, sqlite_db: AsyncEngine
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    fit = FakeAttachment("Garmin.fit", fit_bytes(1800))
    async with running(fake, engine) as bot:
        [_ack, answer] = await act(fake, bot, fake.slash(club.alice, dm, "upload", {"file": fit}))
        assert "5.4 km" in str(answer.json["content"])
        # In the club's channel: the answer is for the runner alone.
        gpx = FakeAttachment("evening.gpx", gpx_bytes(1201))
        payload = fake.slash(club.alice, club.general, "upload", {"file": gpx})
        [ack, answer] = await act(fake, bot, payload)
        assert ack.json["data"]["flags"] & 64  # deferred as ephemeral
        assert "3.6 km" in str(answer.json["content"])
        assert not [m for m in messages(fake, club.general) if not is_ephemeral(m)]
    assert await run_count(sqlite_db) == 2
    assert len(fake.cdn_downloads) == 2


async def test_upload_is_offered_with_a_file_option(fake: FakeDiscord, engine: Engine) -> None:
    async with running(fake, engine) as bot:
        upload = next(c for c in bot.tree.get_commands() if c.name == "upload")
        payload = upload.to_dict(bot.tree)
    [option] = payload["options"]
    assert (option["name"], option["type"], option["required"]) == ("file", 11, True)
