"""Retention: detailed soreness answers are reduced to the outcome after the period people
were told; old /export files are deleted; the job runs daily and at start."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.config import ConfigError, Settings
from bot.content.bundle import ContentBundle
from bot.privacy import EXPORTS_SUBDIR
from bot.storage.db import make_sessionmaker
from bot.storage.models import TriageReport
from handlers.triage.retention import (
    RETENTION_JOB,
    delete_old_exports,
    reduce_old_triage_answers,
    retention_days,
    run_retention,
)
from scheduler.service import daily_job_id, start_background
from tests.harness import ChatHarness, FakeClock
from tests.privacy_world import ZOE, full_triage, privacy_bot


@pytest.fixture
def bot(db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path) -> ChatHarness:
    return privacy_bot(db, content, clock, tmp_path)


async def _reports(db: AsyncEngine) -> list[tuple[str, str, str | None, bool]]:
    """(outcome, rule, area, answers IS NULL) per report, oldest first, as stored."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT outcome, rule, area, answers IS NULL FROM triage_reports "
                "ORDER BY created_at, id"
            )
        )
        return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


async def test_old_answers_are_reduced_to_the_outcome(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock, content: ContentBundle, tmp_path: Path
) -> None:
    zoe = bot.person(ZOE)
    await full_triage(zoe)  # day 0
    clock.advance(days=60)
    await full_triage(zoe)  # day 60
    before = await _reports(db)
    assert [r[3] for r in before] == [False, False]  # both hold their answers
    days = content.triage.detail_retention_days
    clock.advance(days=days - 60 + 1)  # the first is now past the period, the second not

    result = await run_retention(
        make_sessionmaker(db), clock.now, days=days, exports=tmp_path / EXPORTS_SUBDIR
    )

    assert result.reports_reduced == 1
    after = await _reports(db)
    assert after[0] == (*before[0][:3], True)  # outcome, rule and area stay
    assert after[1] == before[1]
    await zoe.say("/history")  # and the history still shows both checks
    assert zoe.text().count("•") == 2
    again = await reduce_old_triage_answers(make_sessionmaker(db), clock.now, days)
    assert again == 0  # idempotent: reduced rows no longer match


async def test_reduced_answers_are_sql_null_not_json_null(
    db: AsyncEngine, bot: ChatHarness, clock: FakeClock
) -> None:
    await full_triage(bot.person(ZOE))
    clock.advance(days=400)
    await reduce_old_triage_answers(make_sessionmaker(db), clock.now, 90)
    async with make_sessionmaker(db)() as session:
        [report] = list(await session.scalars(select(TriageReport)))
    assert report.answers is None
    assert (await _reports(db))[0][3] is True


def test_the_period_never_exceeds_what_people_were_told() -> None:
    assert retention_days(90, None) == 90
    assert retention_days(90, 30) == 30
    assert retention_days(90, 365) == 90  # a longer setting cannot outlast the promise


def test_retention_setting_is_checked() -> None:
    assert Settings.from_env({}).triage_retention_days is None
    assert Settings.from_env({"COACH_TRIAGE_RETENTION_DAYS": "30"}).triage_retention_days == 30
    for bad in ("0", "-5", "ninety", "4000"):
        with pytest.raises(ConfigError, match="COACH_TRIAGE_RETENTION_DAYS"):
            Settings.from_env({"COACH_TRIAGE_RETENTION_DAYS": bad})


def test_old_export_files_are_deleted(tmp_path: Path, clock: FakeClock) -> None:
    folder = tmp_path / EXPORTS_SUBDIR
    folder.mkdir()
    old = folder / "corecoach-export-20261120-080000-aaaa.json"
    new = folder / "corecoach-export-20261123-080000-bbbb.json"
    other = folder / "notes.txt"
    for path in (old, new, other):
        path.write_text("{}")
    two_days_ago = (clock.now - timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    os.utime(new, (clock.now.timestamp(), clock.now.timestamp()))
    assert delete_old_exports(folder, clock.now) == 1
    assert not old.exists() and new.exists() and other.exists()
    assert delete_old_exports(tmp_path / "missing", clock.now) == 0


async def test_the_job_runs_at_start_with_the_background_scheduler(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = privacy_bot(sqlite_db, content, clock, tmp_path)
    await full_triage(bot.person(ZOE))
    clock.advance(days=31)
    settings = Settings(data_dir=tmp_path, triage_retention_days=30, sweep_seconds=60)
    sessions = make_sessionmaker(sqlite_db)
    app = App(settings, sqlite_db, sessions, content, bot.engine)
    background = start_background(app, [], clock=clock)
    try:
        job = background.scheduler.get_job(daily_job_id(RETENTION_JOB))
        assert job is not None and "cron" in str(job.trigger)
        for _ in range(100):
            if (await _reports(sqlite_db))[0][3]:
                break
            await asyncio.sleep(0.05)
    finally:
        await background.stop()
    assert (await _reports(sqlite_db))[0][3] is True
