"""A world for the Strava tests: the fake Strava (tests/fakes/strava_api.py) on one port, the
bot's real web server (the ops server with the Strava routes) on another, the engine on a
real database, and the sweep's Strava worker run on demand."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.strava_web import routes
from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.engine.feature import DueWork
from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics
from bot.storage.models import Base, Outbox, Run, StravaConnection
from handlers.strava.api import StravaEndpoints, StravaSetup, configure
from handlers.strava.jobs import sweep_strava
from handlers.strava.setup import CALLBACK_PATH, WEBHOOK_PATH
from tests.fakes.strava_api import FakeStrava
from tests.harness import ChatHarness, FakeClock, Person

VERIFY_TOKEN = "verify-token-for-tests-0123"


@dataclass
class StravaWorld:
    fake: FakeStrava
    server: HealthServer
    port: int
    sessions: async_sessionmaker[AsyncSession]
    content: ContentBundle
    clock: FakeClock
    bot: ChatHarness
    settings: Settings
    key: str

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return self.root + WEBHOOK_PATH

    async def sweep(self) -> int:
        return await sweep_strava(DueWork(self.sessions, self.content, self.settings, self.clock()))

    async def connect(
        self, person: Person, *, athlete_id: int = 1001, private: bool = False
    ) -> str:
        """/strava, the scope button, Strava's Authorize: the callback page's text."""
        self.fake.signed_in_athlete = athlete_id
        self.fake.athlete(athlete_id)
        url = await self.link(person, private=private)
        status, page = await self.get(self.fake.authorize(url))
        assert status == 200, page
        return page

    async def link(self, person: Person, *, private: bool = False) -> str:
        await person.say("/strava")
        await person.press("Include private runs" if private else "Runs others can see")
        return link_in(person.text())

    async def get(self, url: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status, await response.text()

    async def count(self, model: type[Base]) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def runs(self) -> list[Run]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Run).order_by(Run.started_at)))

    async def outbox(self) -> list[Outbox]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Outbox).order_by(Outbox.id)))

    async def connection(self) -> StravaConnection | None:
        async with self.sessions() as session:
            return (await session.scalars(select(StravaConnection))).first()


def link_in(text: str) -> str:
    for word in text.split():
        if word.startswith("http"):
            return word
    raise AssertionError(f"no link in {text!r}")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def start_world(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    clock: FakeClock,
    bot: ChatHarness,
) -> StravaWorld:
    fake = FakeStrava(clock=clock)
    await fake.start()
    server = HealthServer(sessions, content, Metrics(), clock=clock)
    port = await server.start(
        "127.0.0.1", 0, routes(StravaEndpoints(sessions, content, clock=clock))
    )
    key = Fernet.generate_key().decode()
    configure(
        StravaSetup(
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            token_key=key,
            public_url=f"http://127.0.0.1:{port}",
            verify_token=VERIFY_TOKEN,
            api_base_url=fake.api_base_url,
            oauth_base_url=fake.oauth_base_url,
        )
    )
    settings = Settings(quiet_hours=Settings().quiet_hours)
    return StravaWorld(fake, server, port, sessions, content, clock, bot, settings, key)


async def stop_world(world: StravaWorld) -> None:
    configure(None)
    await world.server.stop()
    await world.fake.stop()


__all__ = ["CALLBACK_PATH", "VERIFY_TOKEN", "StravaWorld", "link_in", "query_of", "start_world"]
