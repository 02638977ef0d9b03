"""The one place that reads and writes the Strava feature's rows: single-use OAuth states,
connections (tokens sealed with the TokenBox), the activities seen and the pending jobs."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import StravaActivity, StravaAuthState, StravaConnection, StravaJob

STATE_LIFETIME = timedelta(minutes=15)
# Jobs kinds (StravaJob.kind).
CREATE, UPDATE, DELETE = "create", "update", "delete"
DEAUTHORIZED, REVOKE, BACKFILL = "deauthorized", "revoke", "backfill"
ACTIVITY_KINDS = (CREATE, UPDATE, DELETE)


async def new_state(
    session: AsyncSession, user_id: int, chat_id: int, *, private_runs: bool, now: datetime
) -> str:
    """A fresh `state` for one authorisation link; earlier unused links of the person go."""
    await session.execute(delete(StravaAuthState).where(StravaAuthState.user_id == user_id))
    state = secrets.token_urlsafe(32)
    session.add(
        StravaAuthState(
            state=state,
            user_id=user_id,
            chat_id=chat_id,
            private_runs=private_runs,
            expires_at=now + STATE_LIFETIME,
        )
    )
    await session.flush()
    return state


async def take_state(session: AsyncSession, state: str, now: datetime) -> StravaAuthState | None:
    """The state's row, used up (deleted) whatever happens next; None if unknown or stale."""
    if not state or len(state) > 64:
        return None
    row = await session.get(StravaAuthState, state)
    if row is None:
        return None
    await session.delete(row)
    await session.flush()
    return row if row.expires_at > now else None


async def connection_of(session: AsyncSession, user_id: int) -> StravaConnection | None:
    return await session.get(StravaConnection, user_id)


async def connection_by_athlete(session: AsyncSession, athlete_id: int) -> StravaConnection | None:
    found = await session.scalars(
        select(StravaConnection).where(StravaConnection.athlete_id == athlete_id)
    )
    return found.first()


async def activity_row(session: AsyncSession, activity_id: int) -> StravaActivity | None:
    found = await session.scalars(
        select(StravaActivity).where(StravaActivity.activity_id == activity_id)
    )
    return found.first()


async def run_is_theirs(session: AsyncSession, user_id: int, run_id: int) -> bool:
    """The run came from this person's Strava (a check-in button may be pressed by anyone)."""
    found = await session.scalar(
        select(StravaActivity.id).where(
            StravaActivity.user_id == user_id, StravaActivity.run_id == run_id
        )
    )
    return found is not None


def add_job(
    session: AsyncSession,
    athlete_id: int,
    kind: str,
    now: datetime,
    *,
    activity_id: int | None = None,
    token: bytes | None = None,
) -> None:
    session.add(
        StravaJob(
            athlete_id=athlete_id,
            kind=kind,
            activity_id=activity_id,
            token=token,
            attempts=0,
            not_before=now,
            created_at=now,
        )
    )
