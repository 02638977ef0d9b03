"""The one way tests build an engine: the shipped features (plus any test-only ones) on a
real database, with the test's clock and data folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import FEATURES, build_router
from bot.content.bundle import ContentBundle
from bot.engine.engine import Engine, Turn
from bot.engine.events import Inbound
from bot.engine.feature import Feature
from bot.engine.router import Router
from bot.storage.db import make_sessionmaker
from bot.storage.models import utcnow


def router_with(*extra: Feature) -> Router:
    """The shipped router plus test-only features (an echo dialog, a test command)."""
    return build_router((*FEATURES, *extra))


def build_engine(
    db: AsyncEngine | async_sessionmaker[AsyncSession],
    content: ContentBundle,
    *,
    router: Router | None = None,
    extra: Sequence[Feature] = (),
    clock: Callable[[], datetime] = utcnow,
    data_dir: Path = Path("data"),
    on_turn: Callable[[Inbound, Turn], None] | None = None,
) -> Engine:
    sessions = make_sessionmaker(db) if isinstance(db, AsyncEngine) else db
    return Engine(
        sessions,
        router or router_with(*extra),
        content,
        clock=clock,
        data_dir=data_dir,
        on_turn=on_turn,
    )
