"""Platform-agnostic features. Each module registers its commands, buttons, dialogs and
plain-word intents on the router; none imports a platform library."""

from __future__ import annotations

from pathlib import Path

from bot.config import data_dir_from_env
from bot.engine.router import Router
from handlers import (
    basics,
    cards,
    checkins,
    clubs,
    history,
    privacy,
    progress,
    reminders,
    sessions,
    timezone,
    triage,
)


def build_router(*, data_dir: Path | None = None) -> Router:
    """`data_dir`: where files the bot makes go (progress charts); COACH_DATA_DIR by default."""
    router = Router()
    # Order matters only for /help's listing.
    basics.register(router)
    triage.register(router)
    history.register(router)
    cards.register(router)
    timezone.register(router)
    checkins.register(router)
    sessions.register(router)
    progress.register(router, data_dir or data_dir_from_env())
    reminders.register(router)
    clubs.register(router)
    privacy.register(router, data_dir or data_dir_from_env())
    return router
