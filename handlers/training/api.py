"""What other features may ask of the training log: the load figures (e.g. triage asking
whether a sore spell follows a jump in running), and runs logged from elsewhere (Strava)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import User
from handlers.training.load import Load
from handlers.training.store import add_run, delete_run, load_for, own_run


async def load_change(session: AsyncSession, user_id: int, now: datetime) -> Load | None:
    """This week against last week and the acute:chronic ratio; None for an unknown person."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    load, _ = await load_for(session, user, now)
    return load


@dataclass(frozen=True)
class ExternalRun:
    """A run recorded by another service: distances in metres, moving time in seconds."""

    started_at: datetime
    distance_m: int
    duration_s: int | None
    elevation_gain_m: int | None
    source: str  # at most 8 characters: "strava"


async def log_external_run(session: AsyncSession, user_id: int, run: ExternalRun) -> int:
    """Add the run to the person's log; its id. The caller keeps the link to its own id, so
    the same activity is logged once."""
    row = await add_run(
        session,
        user_id,
        started_at=run.started_at,
        distance_m=run.distance_m,
        duration_s=run.duration_s,
        effort=None,
        source=run.source,
        elevation_gain_m=run.elevation_gain_m,
    )
    return row.id


async def update_external_run(
    session: AsyncSession, user_id: int, run_id: int, run: ExternalRun
) -> bool:
    """Apply a change made at the source; False if the person deleted the run here."""
    row = await own_run(session, user_id, run_id)
    if row is None:
        return False
    row.started_at, row.distance_m = run.started_at, run.distance_m
    row.duration_s, row.elevation_gain_m = run.duration_s, run.elevation_gain_m
    return True


async def delete_external_run(session: AsyncSession, user_id: int, run_id: int) -> bool:
    return await delete_run(session, user_id, run_id)


__all__ = [
    "ExternalRun",
    "Load",
    "delete_external_run",
    "load_change",
    "log_external_run",
    "update_external_run",
]
