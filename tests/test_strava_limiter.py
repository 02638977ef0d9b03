"""One Strava rate limiter for every worker: the counts are one database row, so workers on
separate connections (separate processes, in production) never pass the limit together."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_engine, make_sessionmaker
from handlers.strava.limiter import SharedLimiter

NOW = datetime(2026, 11, 23, 9, 7, tzinfo=UTC)


async def test_workers_share_the_15_minute_limit(db: AsyncEngine) -> None:
    # A second engine: its own connection pool, as another process would have.
    other = await _second_engine(db)
    try:
        workers = [SharedLimiter(make_sessionmaker(db)), SharedLimiter(make_sessionmaker(other))]
        answers = await asyncio.gather(*(workers[i % 2].reserve(NOW) for i in range(130)))
    finally:
        await other.dispose()
    assert answers.count(None) == 100
    assert set(answers) - {None} == {datetime(2026, 11, 23, 9, 15, tzinfo=UTC)}
    # The next quarter hour starts afresh.
    assert await workers[0].reserve(NOW + timedelta(minutes=8)) is None


async def test_headers_set_the_limits_and_usage(db: AsyncEngine) -> None:
    limiter = SharedLimiter(make_sessionmaker(db))
    await limiter.observe({"X-RateLimit-Limit": "200,2000", "X-RateLimit-Usage": "199,20"}, NOW)
    assert await limiter.reserve(NOW) is None  # the 200th
    assert await limiter.reserve(NOW) == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    # The day's limit: used up, nothing until midnight UTC even in a new quarter hour.
    await limiter.observe({"x-ratelimit-limit": "200,2000", "x-ratelimit-usage": "0,2000"}, NOW)
    later = NOW + timedelta(minutes=30)
    assert await limiter.reserve(later) == datetime(2026, 11, 24, tzinfo=UTC)


async def test_garbled_headers_change_nothing(db: AsyncEngine) -> None:
    limiter = SharedLimiter(make_sessionmaker(db))
    await limiter.observe({"X-RateLimit-Limit": "lots", "X-RateLimit-Usage": ""}, NOW)
    for _ in range(100):
        assert await limiter.reserve(NOW) is None
    assert await limiter.reserve(NOW) is not None


async def _second_engine(db: AsyncEngine) -> AsyncEngine:
    """Another engine on the same database (and, on PostgreSQL, the test's own schema)."""
    url = db.url.render_as_string(hide_password=False)
    if db.dialect.name != "postgresql":
        return make_engine(url)
    async with db.connect() as conn:
        path = str(await conn.scalar(text("SHOW search_path")))
    return make_engine(url, connect_args={"server_settings": {"search_path": path}})
