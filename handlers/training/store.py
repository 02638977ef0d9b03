"""The one place that reads and writes runs and training settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Run, TrainingPrefs, User
from handlers.training.load import DayRun, Load, compute, window_start
from scheduler.occurrences import zone_or_utc

RECENT_LIMIT = 8

_RUNS = cast(Table, Run.__table__)
# Built once: /week sits on a hot path and reads a handful of columns, not ORM objects.
_WINDOW = (
    select(_RUNS.c.started_at, _RUNS.c.distance_m, _RUNS.c.duration_s, _RUNS.c.effort, _RUNS.c.id)
    .where(_RUNS.c.user_id == bindparam("user_id"), _RUNS.c.started_at >= bindparam("since"))
    .order_by(_RUNS.c.started_at)
)


def zone_of(user: User) -> ZoneInfo:
    """The person's time zone (set with /timezone), else UTC."""
    return zone_or_utc(user.timezone)


async def add_run(
    session: AsyncSession,
    user_id: int,
    *,
    started_at: datetime,
    distance_m: int,
    duration_s: int | None,
    effort: str | None,
    source: str,
    elevation_gain_m: int | None = None,
    file_hash: str | None = None,
) -> Run:
    run = Run(
        user_id=user_id,
        started_at=started_at,
        distance_m=distance_m,
        duration_s=duration_s,
        effort=effort,
        elevation_gain_m=elevation_gain_m,
        source=source,
        file_hash=file_hash,
    )
    session.add(run)
    await session.flush()
    return run


async def own_run(session: AsyncSession, user_id: int, run_id: int) -> Run | None:
    """The run if it exists and is this person's (a button may be pressed by anyone)."""
    run = await session.get(Run, run_id)
    return run if run is not None and run.user_id == user_id else None


async def delete_run(session: AsyncSession, user_id: int, run_id: int) -> bool:
    result = await session.execute(delete(Run).where(Run.id == run_id, Run.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))


async def recent_runs(session: AsyncSession, user_id: int, limit: int = RECENT_LIMIT) -> list[Run]:
    rows = await session.scalars(
        select(Run)
        .where(Run.user_id == user_id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
    )
    return list(rows)


async def has_file(session: AsyncSession, user_id: int, file_hash: str) -> bool:
    found = await session.scalar(
        select(Run.id).where(Run.user_id == user_id, Run.file_hash == file_hash)
    )
    return found is not None


async def prefs(session: AsyncSession, user_id: int) -> TrainingPrefs:
    row = await session.get(TrainingPrefs, user_id)
    if row is None:
        row = TrainingPrefs(user_id=user_id, units="km")
        session.add(row)
    return row


async def units(session: AsyncSession, user_id: int) -> str:
    row = await session.get(TrainingPrefs, user_id)
    return row.units if row is not None else "km"


async def load_for(session: AsyncSession, user: User, now: datetime) -> tuple[Load, list[DayRun]]:
    """The load figures on the person's calendar, and the runs they were computed from."""
    zone = zone_of(user)
    today = now.astimezone(zone).date()
    since = datetime.combine(window_start(today), time(), zone) - timedelta(hours=1)
    rows = await session.execute(_WINDOW, {"user_id": user.id, "since": since})
    runs = [
        DayRun(started.astimezone(zone).date(), distance, duration, effort, run_id)
        for started, distance, duration, effort, run_id in rows
    ]
    return compute(runs, today), runs
