"""What the composition root hands the bot's web server for Strava (bot/adapters/strava_web.py
serves it): the OAuth callback's outcome and words, and the webhook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.bundle import ContentBundle
from bot.storage.models import utcnow
from handlers.strava import web
from handlers.strava.gateway import Gateway, StravaError
from handlers.strava.setup import CALLBACK_PATH, WEBHOOK_PATH, StravaSetup, configure, setup_from


@dataclass
class StravaEndpoints:
    sessions: async_sessionmaker[AsyncSession]
    content: ContentBundle
    clock: Callable[[], datetime] = field(default=utcnow)
    callback_path: str = CALLBACK_PATH
    webhook_path: str = WEBHOOK_PATH

    async def callback(self, params: Mapping[str, str]) -> str:
        """The page to show after Strava's authorisation page (a key of strava.pages)."""
        return str(await web.finish_connect(self.sessions, self.content, params, self.clock()))

    def page(self, key: str) -> tuple[str, str]:
        """A page's title and paragraph."""
        page = getattr(self.content.strava.pages, key, self.content.strava.pages.not_found)
        return page.title, page.body

    def challenge(self, params: Mapping[str, str]) -> str | None:
        return web.challenge(params)

    async def event(self, body: Mapping[str, Any]) -> bool:
        return await web.record_event(self.sessions, body, self.clock())


def subscribe(setup: StravaSetup) -> int:
    """Create the webhook subscription (`corecoach strava subscribe`); its id."""
    return Gateway(setup).create_subscription()


__all__ = [
    "StravaEndpoints",
    "StravaError",
    "StravaSetup",
    "configure",
    "setup_from",
    "subscribe",
]
