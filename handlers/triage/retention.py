"""The daily retention job: health details are kept only as long as people were told.

- Soreness check reports older than the retention period lose their detailed answers and
  their link to the training log (the run they followed, whether the load had jumped); the
  date, area, outcome and deciding rule remain (what /history shows and follow-ups need).
  The runs themselves are the person's own log, kept until they delete them or /forget.
- /export files are deleted a day after they were made: the adapter sent them at once, and a
  copy of someone's health answers must not linger on disk.

Idempotent and safe to run from several processes at once: both steps only ever remove.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.privacy import EXPORTS_SUBDIR
from bot.storage.models import TriageReport, TriageTrainingLink

if TYPE_CHECKING:
    from bot.engine.feature import DueWork

log = logging.getLogger("corecoach.retention")

RETENTION_JOB = "triage-retention"
EXPORT_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class RetentionResult:
    reports_reduced: int
    exports_deleted: int


def retention_days(content_days: int, configured_days: int | None) -> int:
    """The content's period is what the consent question promises; a configured period may
    only shorten it, so data is never kept longer than people were told."""
    return content_days if configured_days is None else min(content_days, configured_days)


async def reduce_old_triage_answers(
    sessions: async_sessionmaker[AsyncSession], now: datetime, days: int
) -> int:
    """Clear the detailed answers of reports older than `days`; returns how many."""
    cutoff = now - timedelta(days=days)
    async with sessions() as session, session.begin():
        old = select(TriageReport.id).where(TriageReport.created_at < cutoff)
        await session.execute(
            delete(TriageTrainingLink)
            .where(TriageTrainingLink.report_id.in_(old))
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            update(TriageReport)
            .where(
                TriageReport.created_at < cutoff,
                # Cleared to SQL NULL (not JSON null), so reduced rows no longer match here.
                TriageReport.answers.is_not(None),
            )
            .values(answers=null())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def delete_old_exports(folder: Path, now: datetime, keep: timedelta = EXPORT_KEEP) -> int:
    if not folder.is_dir():
        return 0
    cutoff = now.timestamp() - keep.total_seconds()
    deleted = 0
    for path in folder.glob("corecoach-export-*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another process got there first
            continue
    return deleted


async def run_retention(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    days: int,
    exports: Path,
) -> RetentionResult:
    started = time.perf_counter()
    reduced = await reduce_old_triage_answers(sessions, now, days)
    deleted = await asyncio.to_thread(delete_old_exports, exports, now)
    log.info(
        "retention.done",
        extra={
            "reports_reduced": reduced,
            "exports_deleted": deleted,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
    return RetentionResult(reduced, deleted)


async def retention_job(work: DueWork) -> None:
    """The daily job (03:41 UTC, and once at every start: a process restarted every night
    would otherwise never be up at the fixed time)."""
    settings = work.settings
    days = retention_days(work.content.triage.detail_retention_days, settings.triage_retention_days)
    await run_retention(
        work.sessions, work.now, days=days, exports=settings.data_dir / EXPORTS_SUBDIR
    )
