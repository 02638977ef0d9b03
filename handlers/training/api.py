"""What other features may ask of the training log: the load figures (e.g. triage asking
whether a sore spell follows a jump in running), the run a soreness check follows, and runs
by id in the person's unit (for /history), and runs logged from elsewhere (Strava)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Run, User
from handlers.training import views
from handlers.training.load import DayRun, Load, is_jump, monday_of
from handlers.training.parse import METRES_PER, asks_what_today
from handlers.training.store import add_run, delete_run, load_for, own_run, units, zone_of
from scheduler.occurrences import zone_or_utc


@dataclass(frozen=True)
class RunRef:
    """A logged run as another feature shows it: its local day and distance in the person's
    unit."""

    id: int
    day: date
    distance: str


@dataclass(frozen=True)
class SorenessContext:
    """What the training log knows when someone reports soreness."""

    load_jumped: bool  # Load.jumped: a week rose more than 10 % (with the floor), or ratio > 1.5
    run: RunRef | None  # the latest run of yesterday or today: the one the soreness follows


@dataclass(frozen=True)
class WeekDistance:
    """One week of running on the person's calendar (Monday to Sunday)."""

    start: date  # Monday
    runs: int
    distance_m: int


async def weekly_distances(
    session: AsyncSession, user: User, now: datetime, weeks: int
) -> list[WeekDistance]:
    """The last `weeks` weeks, oldest first, ending with this week (empty weeks included)."""
    zone = zone_of(user)
    this_week = monday_of(now.astimezone(zone).date())
    starts = [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    since = datetime.combine(starts[0], time(), zone)
    rows = await session.execute(
        select(Run.started_at, Run.distance_m).where(
            Run.user_id == user.id, Run.started_at >= since, Run.started_at <= now
        )
    )
    runs = dict.fromkeys(starts, 0)
    metres = dict.fromkeys(starts, 0)
    for started, distance in rows:
        week = monday_of(started.astimezone(zone).date())
        if week in metres:
            runs[week] += 1
            metres[week] += distance
    return [WeekDistance(start, runs[start], metres[start]) for start in starts]


async def this_week_totals(
    session: AsyncSession, user_ids: Collection[int], now: datetime
) -> dict[int, WeekDistance]:
    """Each person's week so far (runs and distance), Monday on their own calendar; people
    with no runs this week are left out. One query for a whole club."""
    if not user_ids:
        return {}
    people = await session.execute(
        select(User.id, User.timezone).where(User.id.in_(list(user_ids)))
    )
    zones = {uid: zone_or_utc(tz) for uid, tz in people}
    mondays = {uid: monday_of(now.astimezone(zone).date()) for uid, zone in zones.items()}
    rows = await session.execute(
        select(Run.user_id, Run.started_at, Run.distance_m).where(
            Run.user_id.in_(list(mondays)),
            Run.started_at >= now - timedelta(days=8),
            Run.started_at <= now,
        )
    )
    totals: dict[int, WeekDistance] = {}
    for uid, started, distance in rows:
        if started.astimezone(zones[uid]).date() < mondays[uid]:
            continue
        had = totals.get(uid, WeekDistance(mondays[uid], 0, 0))
        totals[uid] = WeekDistance(had.start, had.runs + 1, had.distance_m + distance)
    return totals


async def distance_unit(session: AsyncSession, user_id: int) -> str:
    """ "km" or "mi", as the person chose with /units."""
    return await units(session, user_id)


def distance_text(metres: float, unit: str) -> str:
    """A distance as the training log writes it ("10.0 km")."""
    return views.distance(metres, unit)


def rose_too_fast(week_m: int, before_m: int) -> bool:
    """The 10 % rule with /week's floor, for a week against the one before."""
    return is_jump(week_m, before_m)


async def load_and_runs(
    session: AsyncSession, user: User, now: datetime
) -> tuple[Load, list[DayRun]]:
    """The load figures on the person's calendar and the runs they were computed from."""
    return await load_for(session, user, now)


async def load_change(session: AsyncSession, user_id: int, now: datetime) -> Load | None:
    """This week against last week and the acute:chronic ratio; None for an unknown person."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    load, _ = await load_for(session, user, now)
    return load


async def soreness_context(session: AsyncSession, user_id: int, now: datetime) -> SorenessContext:
    """The load and the run a soreness check reported now follows (both may be missing)."""
    user = await session.get(User, user_id)
    if user is None:
        return SorenessContext(load_jumped=False, run=None)
    # The load's own window reaches back weeks: yesterday's and today's runs are in it.
    load, runs = await load_for(session, user, now)
    yesterday = load.today - timedelta(days=1)
    latest = next(
        (r for r in reversed(runs) if yesterday <= r.day <= load.today and r.run_id), None
    )
    ref = None
    if latest is not None and latest.run_id is not None:
        unit = await units(session, user_id)
        ref = RunRef(latest.run_id, latest.day, views.distance(latest.distance_m, unit))
    return SorenessContext(load_jumped=load.jumped, run=ref)


async def runs_by_id(
    session: AsyncSession, user_id: int, run_ids: Collection[int]
) -> dict[int, RunRef]:
    """This person's runs among `run_ids` (deleted or others' runs are left out)."""
    if not run_ids:
        return {}
    user = await session.get(User, user_id)
    if user is None:
        return {}
    rows = await session.scalars(
        select(Run).where(Run.user_id == user_id, Run.id.in_(list(run_ids)))
    )
    unit = await units(session, user_id)
    return {run.id: _ref(run, user, unit) for run in rows}


def _ref(run: Run, user: User, unit: str) -> RunRef:
    day = run.started_at.astimezone(zone_of(user)).date()
    return RunRef(id=run.id, day=day, distance=views.distance(run.distance_m, unit))


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
    "METRES_PER",
    "DayRun",
    "ExternalRun",
    "Load",
    "RunRef",
    "SorenessContext",
    "WeekDistance",
    "asks_what_today",
    "delete_external_run",
    "distance_text",
    "distance_unit",
    "load_and_runs",
    "load_change",
    "log_external_run",
    "rose_too_fast",
    "runs_by_id",
    "soreness_context",
    "this_week_totals",
    "update_external_run",
    "weekly_distances",
]
