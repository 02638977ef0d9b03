"""The pages a person sees after Strava's authorisation page, once end to end in a real
headless browser: Debian's chromium, driven by playwright (never its own browser download),
clicking through the fake's authorisation page to the bot's callback.

Skipped, with the reason, where /usr/bin/chromium is missing (`.ci/run` installs it)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.storage.db import make_sessionmaker
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock
from tests.strava_world import StravaWorld, start_world, stop_world

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason=f"{CHROMIUM} not installed (apt-get install -y chromium; .ci/run does)",
)


@pytest.fixture
async def world(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> AsyncIterator[StravaWorld]:
    sessions = make_sessionmaker(sqlite_db)
    bot = ChatHarness(build_engine(sessions, content, clock=clock))
    built = await start_world(sessions, content, clock, bot)
    yield built
    await stop_world(built)


async def test_the_pages_in_a_real_browser(world: StravaWorld) -> None:
    from playwright.async_api import async_playwright

    ann = world.bot.person("ann")
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page()

            # Cancel on Strava's page: the "not connected" page.
            await page.goto(await world.link(ann))
            await page.get_by_role("button", name="Cancel").click()
            await page.wait_for_load_state()
            assert await page.get_by_role("heading", level=1).inner_text() == (
                "Strava was not connected"
            )

            # Authorize: connected, and the page is small and accessible.
            await page.goto(await world.link(ann))
            await page.get_by_role("button", name="Authorize").click()
            await page.wait_for_load_state()
            heading = page.get_by_role("heading", level=1)
            assert await heading.inner_text() == "Strava is connected"
            assert await page.title() == "Strava is connected · Core Coach"
            assert await page.get_attribute("html", "lang") == "en"
            assert await page.locator("main p").count() == 1
            assert "go back to your chat" in await page.locator("main p").inner_text()
            callback = page.url

            # The same link again: its state is used up.
            await page.goto(callback)
            assert await heading.inner_text() == "This link has expired"

            # Another person signs in with the same Strava account.
            bob = world.bot.person("bob")
            await page.goto(await world.link(bob))
            await page.get_by_role("button", name="Authorize").click()
            await page.wait_for_load_state()
            assert await heading.inner_text() == "Strava is already connected"
        finally:
            await browser.close()
    assert await world.connection() is not None
