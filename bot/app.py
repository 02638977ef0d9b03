"""The composition root: content, database, the features and the engine, in that order.

Adding a feature is one package under handlers/ and one line in FEATURES.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.bundle import ContentBundle, load_or_raise
from bot.engine.engine import Engine
from bot.engine.feature import Feature
from bot.engine.router import Router
from bot.storage.db import make_engine, make_sessionmaker, migrate
from handlers.basics.feature import feature as basics
from handlers.cards.feature import feature as cards
from handlers.clubs.feature import feature as clubs
from handlers.privacy.feature import feature as privacy
from handlers.progress.feature import feature as progress
from handlers.reminders.feature import feature as reminders
from handlers.sessions.feature import feature as sessions
from handlers.strava.api import configure as configure_strava
from handlers.strava.api import setup_from as strava_setup
from handlers.strava.feature import feature as strava
from handlers.summary.feature import feature as summary
from handlers.today.feature import feature as today
from handlers.training.feature import feature as training
from handlers.triage.feature import feature as triage

# The order is /help's order.
FEATURES: tuple[Feature, ...] = (
    basics,
    triage,
    cards,
    sessions,
    progress,
    reminders,
    training,
    today,
    summary,
    strava,
    clubs,
    privacy,
)


def build_router(features: tuple[Feature, ...] = FEATURES) -> Router:
    return Router.of(features)


def private_folder(folder: Path) -> None:
    """The data folder holds exports, charts and (by default) the SQLite file: the bot's user
    alone may read it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


@dataclass
class App:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    content: ContentBundle
    engine: Engine

    async def close(self) -> None:
        await self.db.dispose()


async def build_app(settings: Settings) -> App:
    # Content first: invalid content must stop the bot before it touches the database.
    content = load_or_raise(settings.content_dir)
    private_folder(settings.data_dir)
    db = make_engine(settings.database_url)
    await migrate(db)
    sessions = make_sessionmaker(db)
    configure_strava(strava_setup(settings))
    engine = Engine(sessions, build_router(), content, data_dir=settings.data_dir)
    return App(settings, db, sessions, content, engine)
