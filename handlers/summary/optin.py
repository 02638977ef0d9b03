"""Who asked for the weekly summary: the one place that reads and writes the opt-ins."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import WeeklySummaryOptIn


async def is_on(session: AsyncSession, user_id: int) -> bool:
    return await session.get(WeeklySummaryOptIn, user_id) is not None


async def turn_on(session: AsyncSession, user_id: int, now: datetime) -> None:
    if not await is_on(session, user_id):
        session.add(WeeklySummaryOptIn(user_id=user_id, opted_in_at=now))


async def turn_off(session: AsyncSession, user_id: int) -> None:
    """Opting out deletes the row: nothing about the choice is kept."""
    await session.execute(delete(WeeklySummaryOptIn).where(WeeklySummaryOptIn.user_id == user_id))


async def mark_sent(session: AsyncSession, user_id: int, week_start: date) -> None:
    await session.execute(
        update(WeeklySummaryOptIn)
        .where(WeeklySummaryOptIn.user_id == user_id)
        .values(sent_for=week_start)
    )
