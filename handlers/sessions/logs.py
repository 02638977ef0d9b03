"""The session log: writing a finished (or abandoned) session, and reading a person's history
on their own calendar (weeks start on their Monday, in their time zone)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import SessionLog, User
from handlers.sessions.progression import Logged, week_start
from scheduler.occurrences import zone_or_utc

# Enough history for a long streak, and still a small query.
HISTORY_WEEKS = 52


def zone_of(user: User) -> ZoneInfo:
    """The person's time zone (set with /timezone), else UTC."""
    return zone_or_utc(user.timezone)


def local_day(user: User, moment: datetime) -> date:
    return moment.astimezone(zone_of(user)).date()


async def record(
    session: AsyncSession,
    user: User,
    *,
    started_at: datetime,
    finished_at: datetime,
    template: str,
    level: str,
    moves_done: int,
    moves_skipped: int,
    work_seconds: int,
    dose_pct: int,
    completed: bool,
) -> SessionLog:
    row = SessionLog(
        user_id=user.id,
        started_at=started_at,
        finished_at=finished_at,
        template=template,
        level=level,
        moves_done=moves_done,
        moves_skipped=moves_skipped,
        work_seconds=work_seconds,
        dose_pct=dose_pct,
        completed=completed,
    )
    session.add(row)
    await session.flush()
    return row


async def history(
    session: AsyncSession, user: User, now: datetime, *, weeks: int = HISTORY_WEEKS
) -> list[SessionLog]:
    """Logged sessions from the last `weeks` weeks, newest first."""
    since = now - timedelta(weeks=weeks)
    rows = await session.scalars(
        select(SessionLog)
        .where(SessionLog.user_id == user.id, SessionLog.finished_at >= since)
        .order_by(SessionLog.finished_at.desc(), SessionLog.id.desc())
    )
    return list(rows)


def as_logged(user: User, rows: list[SessionLog]) -> list[Logged]:
    return [
        Logged(local_day(user, r.finished_at), r.completed, r.work_seconds, r.dose_pct)
        for r in rows
    ]


async def completed_this_week(session: AsyncSession, user: User, now: datetime) -> int:
    today = local_day(user, now)
    logged = as_logged(user, await history(session, user, now, weeks=2))
    return sum(1 for item in logged if item.completed and week_start(item.day) == week_start(today))
