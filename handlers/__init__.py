"""Platform-agnostic features. Each module registers its commands, buttons, dialogs and
plain-word intents on the router; none imports a platform library."""

from __future__ import annotations

from bot.engine.router import Router
from handlers import basics, cards


def build_router() -> Router:
    router = Router()
    # Order matters only for /help's listing.
    basics.register(router)
    cards.register(router)
    return router
