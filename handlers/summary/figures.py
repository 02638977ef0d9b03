"""A person's week in numbers, and the 8 weeks the chart draws: runs from the training log,
core sessions from the session log, stored soreness checks from triage (each through its api)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import User
from handlers.sessions import api as sessions
from handlers.training import api as training
from handlers.triage import api as triage

CHART_WEEKS = 8


@dataclass(frozen=True)
class ChartWeek:
    start: date  # Monday, on the person's calendar
    distance_m: int
    runs: int
    core_sessions: int


@dataclass(frozen=True)
class WeekFigures:
    weeks: list[ChartWeek]  # oldest first, ending with the week summed up
    soreness_checks: int  # stored this week
    unit: str

    @property
    def this_week(self) -> ChartWeek:
        return self.weeks[-1]


async def gather(session: AsyncSession, user: User, now: datetime) -> WeekFigures:
    runs = await training.weekly_distances(session, user, now, CHART_WEEKS)
    logged = sessions.as_logged(
        user, await sessions.history(session, user, now, weeks=CHART_WEEKS + 1)
    )
    core = {w.start: w.sessions for w in sessions.weeks(logged, sessions.local_day(user, now))}
    week_start = runs[-1].start
    since = datetime.combine(week_start, time(), sessions.zone_of(user))
    checks = await triage.reports_since(session, user.id, since)
    unit = await training.distance_unit(session, user.id)
    weeks = [ChartWeek(w.start, w.distance_m, w.runs, core.get(w.start, 0)) for w in runs]
    return WeekFigures(weeks=weeks, soreness_checks=checks, unit=unit)
