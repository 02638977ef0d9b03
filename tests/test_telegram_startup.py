"""When the Telegram adapter cannot start: a refused token or an unreachable Bot API ends the
run with one clear line (`corecoach run` prints it and exits with 1, so a restart policy tries
again), and the HTTP sessions are closed although PTB's own shutdown skips them when getMe
never answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters import StartFailed
from bot.adapters.telegram.run import TelegramBot, run_telegram
from bot.app import App
from bot.content.bundle import ContentBundle
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.ports import free_port
from tests.telegram_harness import make_app


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


async def _run(app: App) -> tuple[str, TelegramBot]:
    telegram = TelegramBot(app)
    with pytest.raises(StartFailed) as stopped:
        await asyncio.wait_for(run_telegram(app, asyncio.Event(), telegram, poll_timeout=1), 20)
    return str(stopped.value), telegram


def _sessions_closed(telegram: TelegramBot) -> bool:
    assert telegram.requests is not None
    requests = (telegram.requests.api, telegram.requests.updates)
    return all(r._session is None or r._session.closed for r in requests)


async def test_a_refused_token_says_so_and_closes_its_connections(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    app = make_app(fake, sqlite_db, content)
    app = replace(app, settings=replace(app.settings, telegram_token="999:not-the-token"))
    stopped, telegram = await _run(app)
    assert stopped == "corecoach: Telegram refused TELEGRAM_BOT_TOKEN"
    assert _sessions_closed(telegram)


async def test_an_unreachable_bot_api_says_so_and_closes_its_connections(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    app = make_app(fake, sqlite_db, content)
    nowhere = f"http://127.0.0.1:{free_port()}"
    app = replace(app, settings=replace(app.settings, telegram_api_base_url=nowhere))
    stopped, telegram = await _run(app)
    assert stopped.startswith("corecoach: couldn't reach Telegram to start (NetworkError)")
    assert _sessions_closed(telegram)
