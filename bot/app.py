"""Assembling the running bot: content, database, router and engine, in that order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.bundle import ContentBundle, load_or_raise
from bot.engine.engine import Engine
from bot.storage.db import make_engine, make_sessionmaker, migrate
from handlers import build_router


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
    db = make_engine(settings.database_url)
    await migrate(db)
    sessions = make_sessionmaker(db)
    engine = Engine(sessions, build_router(), content)
    return App(settings, db, sessions, content, engine)
