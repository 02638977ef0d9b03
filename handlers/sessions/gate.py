"""May this person do core work today, and which areas should it spare? Read from the stored
soreness checks (handlers/triage_reports.py) and the check-in answers after them.

The rules, in one place:
- The newest soreness check decides. If its outcome rules out core work (`core_work_ok: false`
  in content/triage/outcomes.yaml):
  - a rest outcome (not an escalation) refuses sessions for REST_WINDOW (72 h, the seed's
    48–72 hours of rest after severe soreness), counted from the check;
  - an escalation (urgent, doctor) refuses sessions until something later clears it, however
    long that takes: we cannot know when the person was seen.
  Either is cleared early by a later check-in answered "better", or by a newer soreness check
  whose outcome allows core work (that newer check then is the newest and decides).
- Every check in the last SORE_WINDOW (72 h) with a known area puts that area off limits:
  moves whose card lists it are left out. "Not sure / several spots" leaves everything in but
  adds a caution to the session.
Checks are stored only with the person's "health" consent; without it there is nothing to read:
- consent declined: the person may have been told to rest or get checked minutes ago and we
  promised not to remember it, so every new session first asks them (needs_screen;
  handlers/session_screen.py), and the answer is not kept beyond that question;
- never asked (no consent row): consent is the first step of every soreness check, so no check
  of theirs ever reached an outcome and there is no advice of ours to forget. They are not
  asked, like people whose checks are stored (/forget also deletes the consent row: a fresh
  start, by the person's choice).
Soreness typed during a session or its question interrupts it for the soreness check
(typed_soreness).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.triage_schema import TriageTree
from bot.engine.context import TurnContext
from bot.engine.feature import Handler
from bot.storage.models import CheckIn, TriageReport
from handlers.sessions.builder import CARD_AREAS
from handlers.triage.api import health_consent, latest_report, no_core_work_outcomes

REST_WINDOW = timedelta(hours=72)
SORE_WINDOW = timedelta(hours=72)
BETTER = "better"  # the check-in answer that clears a refusal (scheduler/checkins.py ANSWERS)
_EVER = datetime(2000, 1, 1, tzinfo=UTC)
# Intents below this priority are safety-relevant (soreness): they interrupt a session.
SAFETY_PRIORITY = 50


@dataclass(frozen=True)
class Refusal:
    outcome: str
    title: str
    checked_at: datetime
    until: datetime | None  # None: until a later check-in or check clears it


@dataclass(frozen=True)
class Gate:
    refusal: Refusal | None
    sore_areas: frozenset[str]  # card areas to spare today
    unsure: bool  # soreness reported without a place we can spare


async def check(session: AsyncSession, user_id: int, tree: TriageTree, now: datetime) -> Gate:
    sore, unsure = await _sore_areas(session, user_id, now)
    return Gate(await _refusal(session, user_id, tree, now), sore, unsure)


async def needs_screen(session: AsyncSession, user_id: int) -> bool:
    """Ask before a new session: this person declined to keep soreness checks."""
    return await health_consent(session, user_id) is False


def typed_soreness(ctx: TurnContext, text: str) -> Handler | None:
    """The handler of the safety-relevant intent (soreness) these typed words match, if any."""
    for intent in ctx.router.intents:
        if intent.priority < SAFETY_PRIORITY and intent.matches(text, ctx.content):
            return intent.handler
    return None


async def _refusal(
    session: AsyncSession, user_id: int, tree: TriageTree, now: datetime
) -> Refusal | None:
    newest = await latest_report(session, user_id, since=_EVER)
    if newest is None or newest.outcome not in no_core_work_outcomes(tree):
        return None
    outcome = tree.outcomes.get(newest.outcome)
    escalation = outcome is None or outcome.escalation  # an outcome since removed: be careful
    until = None if escalation else newest.created_at + REST_WINDOW
    if until is not None and now >= until:
        return None
    cleared = await session.scalar(
        select(CheckIn.id)
        .where(
            CheckIn.user_id == user_id,
            CheckIn.answer == BETTER,
            CheckIn.answered_at > newest.created_at,
        )
        .limit(1)
    )
    if cleared is not None:
        return None
    title = outcome.title if outcome else newest.outcome
    return Refusal(newest.outcome, title, newest.created_at, until)


async def _sore_areas(
    session: AsyncSession, user_id: int, now: datetime
) -> tuple[frozenset[str], bool]:
    areas = await session.scalars(
        select(TriageReport.area).where(
            TriageReport.user_id == user_id,
            TriageReport.created_at >= now - SORE_WINDOW,
            TriageReport.area.is_not(None),
        )
    )
    found = {area for area in areas if area}
    return frozenset(found & CARD_AREAS), bool(found - CARD_AREAS)
