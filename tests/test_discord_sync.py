"""Slash commands are generated from the router and synced only when asked: by
`corecoach discord sync [--guild ID]` or DISCORD_SYNC_ON_START, never on every start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord import sync_commands
from bot.app import App, build_router
from bot.cli import main
from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.storage.db import make_sessionmaker
from tests.discord_harness import clubhouse, running
from tests.factory import build_engine
from tests.fakes.discord_api import FakeDiscord

GLOBAL_PUT = "PUT /applications/{app_id}/commands"
GUILD_PUT = "PUT /applications/{app_id}/guilds/{guild_id}/commands"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeDiscord) -> Iterator[None]:
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setenv("DISCORD_BOT_TOKEN", fake.token)
    for name in ("COACH_CONTENT_DIR", "TELEGRAM_BOT_TOKEN", "DISCORD_GUILD_IDS"):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


async def corecoach(*argv: str) -> int:
    # main() runs its own event loop, so it gets a thread; FakeDiscord serves it from ours.
    return await asyncio.to_thread(main, list(argv))


async def test_cli_sync_puts_every_listed_command_globally(
    fake: FakeDiscord, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await corecoach("discord", "sync") == 0
    [put] = [r for r in fake.requests if r.route.startswith("PUT ")]
    assert put.route == GLOBAL_PUT and put.ok
    expected = build_router().listed_commands()
    assert sorted(c["name"] for c in put.json) == sorted(c.name for c in expected)
    by_name = {c["name"]: c for c in put.json}
    for command in expected:
        assert by_name[command.name]["description"] == command.help[:100]
    [option] = by_name["card"]["options"]
    assert (option["name"], option["type"], option["required"]) == ("name", 3, False)
    assert option["autocomplete"] is True
    assert by_name["help"].get("options", []) == []
    out = capsys.readouterr().out
    assert f"synced {len(expected)} commands globally" in out and "/card" in out


async def test_sync_to_one_guild(
    fake: FakeDiscord, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    engine = build_engine(sqlite_db, content)
    settings = Settings(discord_token=fake.token, discord_guild_ids=(club.guild.id,))
    app = App(settings, sqlite_db, make_sessionmaker(sqlite_db), content, engine)
    synced = await sync_commands(app)  # DISCORD_GUILD_IDS when no --guild is given
    [put] = [r for r in fake.requests if r.route.startswith("PUT ")]
    assert put.route == GUILD_PUT and put.params["guild_id"] == str(club.guild.id)
    assert set(synced) == {club.guild.id}
    assert {c["name"] for c in fake.commands[club.guild.id]} == set(synced[club.guild.id])
    assert {"card", "sore", "help"} <= set(synced[club.guild.id])
    assert None not in fake.commands  # nothing global


async def test_cli_sync_needs_a_token(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISCORD_BOT_TOKEN")
    assert await corecoach("discord", "sync") == 2
    assert "DISCORD_BOT_TOKEN" in capsys.readouterr().err


async def test_sync_only_when_asked(
    fake: FakeDiscord, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    engine = build_engine(sqlite_db, content)
    async with running(fake, engine):
        pass
    assert not [r for r in fake.requests if r.route.startswith("PUT ")]
    async with running(fake, engine, sync_on_start=True, guild_ids=[club.guild.id]):
        put = await fake.wait_for(lambda r: r.route == GUILD_PUT)
    assert put.ok and put.params["guild_id"] == str(club.guild.id)
