"""What other features may ask of the training log: the load figures (e.g. triage asking
whether a sore spell follows a jump in running)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import User
from handlers.training.load import Load
from handlers.training.store import load_for


async def load_change(session: AsyncSession, user_id: int, now: datetime) -> Load | None:
    """This week against last week and the acute:chronic ratio; None for an unknown person."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    load, _ = await load_for(session, user, now)
    return load


__all__ = ["Load", "load_change"]
