"""An activity from Strava into the training log: logged once per activity id, changes and
deletions applied to the run it became, other sports left out unless the person wants them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import StravaActivity, StravaConnection
from handlers.strava import store
from handlers.strava.gateway import ActivityFacts
from handlers.training.api import (
    ExternalRun,
    delete_external_run,
    log_external_run,
    update_external_run,
)

SOURCE = "strava"
RUN_SPORTS = frozenset({"Run", "TrailRun", "VirtualRun"})


def wanted(conn: StravaConnection, facts: ActivityFacts) -> bool:
    return facts.sport in RUN_SPORTS or conn.all_sports


def _run(facts: ActivityFacts) -> ExternalRun:
    return ExternalRun(
        started_at=facts.started_at,
        distance_m=facts.distance_m,
        duration_s=facts.moving_s,
        elevation_gain_m=facts.elevation_m,
        source=SOURCE,
    )


async def apply(
    session: AsyncSession, conn: StravaConnection, facts: ActivityFacts, now: datetime
) -> int | None:
    """Bring the log in line with the activity; the id of a run logged just now, else None
    (already logged, updated, or not a sport they log)."""
    row = await store.activity_row(session, facts.activity_id)
    if row is not None and row.user_id != conn.user_id:
        return None  # another person's activity id: never theirs to change
    keep = wanted(conn, facts)
    if row is None:
        run_id = await log_external_run(session, conn.user_id, _run(facts)) if keep else None
        session.add(
            StravaActivity(
                user_id=conn.user_id,
                activity_id=facts.activity_id,
                run_id=run_id,
                sport=facts.sport[:32],
                synced_at=now,
            )
        )
        await session.flush()
        return run_id
    row.sport, row.synced_at = facts.sport[:32], now
    if keep and row.run_id is not None:
        if not await update_external_run(session, conn.user_id, row.run_id, _run(facts)):
            row.run_id = None  # they deleted it here: a change on Strava does not bring it back
        return None
    if keep:
        # Now a run (the sport was changed on Strava): logged from here on.
        row.run_id = await log_external_run(session, conn.user_id, _run(facts))
        return None
    if row.run_id is not None:
        await delete_external_run(session, conn.user_id, row.run_id)
        row.run_id = None
    return None


async def remove(session: AsyncSession, conn: StravaConnection, activity_id: int) -> bool:
    """The activity was deleted on Strava: its run goes from the log too."""
    row = await store.activity_row(session, activity_id)
    if row is None or row.user_id != conn.user_id:
        return False
    if row.run_id is not None:
        await delete_external_run(session, conn.user_id, row.run_id)
    await session.delete(row)
    return True
