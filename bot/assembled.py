"""What the layers below the composition root need of the assembled bot (bot.app.App), named
here so that none of them imports it: /healthz and /metrics (bot/ops), the background jobs
(scheduler/service.py)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.engine.engine import Engine


class Assembled(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def content(self) -> ContentBundle: ...
    @property
    def engine(self) -> Engine: ...
