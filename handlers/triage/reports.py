"""Stored soreness checks and the "health" consent: the one place that reads and writes them.

The check-in (scheduler) and core-session features ask here, e.g. "did this person get an
outcome that rules out core work in the last days?" via `latest_report`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.triage_schema import TriageTree
from bot.storage.models import CheckIn, Consent, TriageReport, TriageTrainingLink
from bot.storage.prebuilt import Prebuilt
from handlers.triage.checkin_store import CANCELLED, SCHEDULED

HEALTH_TOPIC = "health"
HISTORY_LIMIT = 10

# Built once and run without loading ORM objects: both sit on the soreness check's hot path,
# where statement construction, the identity map and the unit of work would cost more than
# SQLite's own work (and on SQLite each runs in one trip to the driver; see Prebuilt).
_CONSENT = Prebuilt(
    select(Consent.granted).where(
        Consent.user_id == bindparam("user_id"), Consent.topic == HEALTH_TOPIC
    )
)
_REPORTS = cast(Table, TriageReport.__table__)
_NEW_REPORT = Prebuilt(
    insert(_REPORTS).returning(_REPORTS.c.id),
    sets=("user_id", "created_at", "outcome", "rule", "area", "answers"),
)


async def health_consent(session: AsyncSession, user_id: int) -> bool | None:
    """True/False once the person decided; None if we never asked."""
    row = await _CONSENT.first(session, {"user_id": user_id})
    return None if row is None else bool(row[0])


async def set_health_consent(
    session: AsyncSession, user_id: int, granted: bool, now: datetime
) -> None:
    row = await session.get(Consent, (user_id, HEALTH_TOPIC))
    if row is None:
        session.add(Consent(user_id=user_id, topic=HEALTH_TOPIC, granted=granted, decided_at=now))
    else:
        row.granted = granted
        row.decided_at = now


async def change_health_consent(
    session: AsyncSession, user_id: int, keep: bool, now: datetime
) -> int:
    """The person changed their mind (/privacy). Stopping also deletes the soreness checks kept
    so far and their pending follow-ups: "don't keep them" means the ones already kept too.
    Returns how many results were deleted."""
    await set_health_consent(session, user_id, keep, now)
    if keep:
        return 0
    await session.execute(
        update(CheckIn)
        .where(CheckIn.user_id == user_id, CheckIn.status == SCHEDULED)
        .values(status=CANCELLED)
    )
    mine = select(TriageReport.id).where(TriageReport.user_id == user_id)
    await session.execute(delete(TriageTrainingLink).where(TriageTrainingLink.report_id.in_(mine)))
    result = await session.execute(delete(TriageReport).where(TriageReport.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def save_report(
    session: AsyncSession,
    *,
    user_id: int,
    now: datetime,
    outcome: str,
    rule: str,
    area: str | None,
    answers: dict[str, str],
) -> int:
    """Store a result and return its id. Callers must have checked consent; `answers` hold
    option values only."""
    values = {
        "user_id": user_id,
        "created_at": now,
        "outcome": outcome,
        "rule": rule,
        "area": area,
        "answers": answers,
    }
    row = await _NEW_REPORT.first(session, values)
    assert row is not None  # RETURNING gives the new row's id
    new_id: int = row[0]
    return new_id


async def link_training(
    session: AsyncSession, report_id: int, *, run_id: int | None, load_jumped: bool
) -> None:
    """Keep what the training log said with a stored report (nothing when it said nothing)."""
    if run_id is None and not load_jumped:
        return
    session.add(TriageTrainingLink(report_id=report_id, run_id=run_id, load_jumped=load_jumped))


async def training_links(
    session: AsyncSession, report_ids: Collection[int]
) -> dict[int, TriageTrainingLink]:
    if not report_ids:
        return {}
    rows = await session.scalars(
        select(TriageTrainingLink).where(TriageTrainingLink.report_id.in_(list(report_ids)))
    )
    return {link.report_id: link for link in rows}


async def recent_reports(
    session: AsyncSession, user_id: int, limit: int = HISTORY_LIMIT
) -> list[TriageReport]:
    rows = await session.scalars(
        select(TriageReport)
        .where(TriageReport.user_id == user_id)
        .order_by(TriageReport.created_at.desc(), TriageReport.id.desc())
        .limit(limit)
    )
    return list(rows)


async def reports_since(session: AsyncSession, user_id: int, since: datetime) -> int:
    """How many soreness checks were stored since `since` (only kept ones can be counted)."""
    found = await session.scalar(
        select(func.count())
        .select_from(TriageReport)
        .where(TriageReport.user_id == user_id, TriageReport.created_at >= since)
    )
    return int(found or 0)


async def latest_report(
    session: AsyncSession,
    user_id: int,
    *,
    since: datetime,
    outcomes: Collection[str] | None = None,
) -> TriageReport | None:
    """The newest report since `since`, optionally only with one of `outcomes`."""
    query = select(TriageReport).where(
        TriageReport.user_id == user_id, TriageReport.created_at >= since
    )
    if outcomes is not None:
        query = query.where(TriageReport.outcome.in_(list(outcomes)))
    query = query.order_by(TriageReport.created_at.desc(), TriageReport.id.desc()).limit(1)
    return (await session.scalars(query)).first()


def no_core_work_outcomes(tree: TriageTree) -> set[str]:
    """Outcomes after which core sessions should wait (urgent, doctor, rest in our content)."""
    return {o.id for o in tree.outcomes.values() if not o.core_work_ok}
