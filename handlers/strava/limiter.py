"""One Strava rate limiter for every worker: the counts live in one database row, locked while
a request is counted, and are corrected from the X-RateLimit-Limit / X-RateLimit-Usage headers
of each answer ("100,1000" and "12,345": 15 minutes, then the day).

Strava's windows are the quarter hours (:00, :15, :30, :45) and the UTC day, so the counts
start again at those boundaries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import StravaRateLimit

SHORT_WINDOW = timedelta(minutes=15)
DEFAULT_SHORT, DEFAULT_LONG = 100, 1000
ROW_ID = 1


def quarter_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def next_day(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)


class SharedLimiter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def reserve(self, now: datetime, requests: int = 1) -> datetime | None:
        """Count `requests` calls about to be made; None if they may go now, else the moment
        the window they would overrun ends (nothing is counted then)."""
        async with self.sessions() as session, session.begin():
            row = await _locked_row(session, now)
            if row.short_used + requests > row.short_limit:
                return quarter_start(now) + SHORT_WINDOW
            if row.long_used + requests > row.long_limit:
                return next_day(now)
            row.short_used += requests
            row.long_used += requests
        return None

    async def observe(self, headers: Mapping[str, str], now: datetime) -> None:
        """Take Strava's own figures: it counts every client of this app, not only us."""
        lowered = {k.lower(): v for k, v in headers.items()}
        limits = _pair(lowered.get("x-ratelimit-limit"))
        usage = _pair(lowered.get("x-ratelimit-usage"))
        if limits is None and usage is None:
            return
        async with self.sessions() as session, session.begin():
            row = await _locked_row(session, now)
            if limits is not None:
                row.short_limit, row.long_limit = limits
            if usage is not None:
                row.short_used = max(row.short_used, usage[0])
                row.long_used = max(row.long_used, usage[1])

    async def exhausted(self, now: datetime) -> datetime:
        """After a 429: nothing more until the current window ends."""
        async with self.sessions() as session, session.begin():
            row = await _locked_row(session, now)
            row.short_used = row.short_limit
        return quarter_start(now) + SHORT_WINDOW


async def _locked_row(session: AsyncSession, now: datetime) -> StravaRateLimit:
    """The one row, created on first use and locked (SELECT … FOR UPDATE on PostgreSQL; a
    SQLite write transaction locks the file), its counts reset when a window has passed."""
    window, today = quarter_start(now), now.astimezone(UTC).date()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(StravaRateLimit)
        .values(
            id=ROW_ID,
            short_limit=DEFAULT_SHORT,
            short_used=0,
            short_window=window,
            long_limit=DEFAULT_LONG,
            long_used=0,
            long_day=today,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    row = (
        await session.scalars(
            select(StravaRateLimit)
            .where(StravaRateLimit.id == ROW_ID)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if row.short_window != window:
        row.short_window, row.short_used = window, 0
    if row.long_day != today:
        row.long_day, row.long_used = today, 0
    return row


def _pair(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    parts = value.split(",")
    if len(parts) < 2 or not all(p.strip().isdigit() for p in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])
