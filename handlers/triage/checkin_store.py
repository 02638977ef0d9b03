"""Check-ins after a soreness check: "Better, same or worse?" a day or two later.

The dialog calls `offer()` at a non-urgent outcome to let the person choose; the offer's
buttons call `schedule_checkin()` (checkins.py). The sweep hook (checkin_sweep.py) queues due
check-ins in the outbox; checkins.py answers their buttons.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.reminder_schema import ReminderTexts
from bot.engine.context import TurnContext
from bot.engine.events import Button, Reply
from bot.engine.payloads import action_payload
from bot.storage.models import Chat, CheckIn, User
from scheduler.quiet import QuietHours

ANSWER_ACTION = "checkin"
OFFER_ACTION = "ci_offer"
ANSWERS = ("better", "same", "worse")
OFFER_DELAYS_HOURS = (24, 48)
# After "same", one more check-in this much later; after a second "same", advice to get it
# looked at (soreness that lingers several days, as the seed material puts it).
FOLLOW_UP = timedelta(hours=48)
LAST_ROUND = 2

SCHEDULED, QUEUED, ANSWERED, MISSED, CANCELLED = (
    "scheduled",
    "queued",
    "answered",
    "missed",
    "cancelled",
)

_REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,24}$")


def valid_ref(episode_ref: str) -> bool:
    """Episode refs travel in button payloads, so they are short and plain."""
    return bool(_REF_RE.match(episode_ref))


async def schedule_checkin(
    session: AsyncSession,
    user: User,
    chat: Chat,
    episode_ref: str,
    due_at: datetime,
    *,
    round: int = 1,
    quiet: QuietHours | None = None,
    default_timezone: str = "UTC",
) -> CheckIn:
    """Schedule (or move) the check-in for this episode and round; returns its row.

    A due time inside quiet hours moves to their end (07:00 local) now, so what we tell the
    person is right; the sweep checks again at send time with the configured quiet hours and
    the person's current time zone.
    """
    if not valid_ref(episode_ref):
        raise ValueError("episode_ref must be 1-24 letters, digits, - or _")
    tz = ZoneInfo(user.timezone or default_timezone)
    due = (quiet or QuietHours()).defer(due_at, tz)
    existing = await session.scalar(
        select(CheckIn).where(
            CheckIn.user_id == user.id,
            CheckIn.episode_ref == episode_ref,
            CheckIn.round == round,
        )
    )
    if existing is not None:
        if existing.status in (SCHEDULED, CANCELLED):
            existing.due_at, existing.status, existing.chat_id = due, SCHEDULED, chat.id
        return existing
    checkin = CheckIn(
        user_id=user.id,
        chat_id=chat.id,
        episode_ref=episode_ref,
        round=round,
        due_at=due,
        status=SCHEDULED,
    )
    session.add(checkin)
    await session.flush()
    return checkin


async def cancel_checkins(session: AsyncSession, user_id: int, episode_ref: str) -> None:
    """E.g. when a later triage escalates the episode to urgent."""
    await session.execute(
        update(CheckIn)
        .where(
            CheckIn.user_id == user_id,
            CheckIn.episode_ref == episode_ref,
            CheckIn.status == SCHEDULED,
        )
        .values(status=CANCELLED)
    )


def offer_reply(texts: ReminderTexts, episode_ref: str) -> Reply:
    """The question at the end of a non-urgent triage; the buttons schedule or decline."""
    if not valid_ref(episode_ref):
        raise ValueError("episode_ref must be 1-24 letters, digits, - or _")
    labels = texts.buttons
    return Reply(
        texts.checkin_offer,
        buttons=[
            [
                Button(labels.checkin_tomorrow, action_payload(OFFER_ACTION, f"{episode_ref}.24")),
                Button(
                    labels.checkin_in_two_days, action_payload(OFFER_ACTION, f"{episode_ref}.48")
                ),
            ],
            [Button(labels.checkin_no, action_payload(OFFER_ACTION, f"{episode_ref}.no"))],
        ],
    )


def question_reply(texts: ReminderTexts, checkin_id: int) -> Reply:
    return Reply(
        texts.checkin_question,
        buttons=[
            [
                Button(label, action_payload(ANSWER_ACTION, f"{checkin_id}.{answer}"))
                for label, answer in (
                    (texts.buttons.better, "better"),
                    (texts.buttons.same, "same"),
                    (texts.buttons.worse, "worse"),
                )
            ]
        ],
    )


def offer(ctx: TurnContext, episode_ref: str) -> None:
    """Append the check-in offer to this turn's replies (private chats only)."""
    if ctx.in_group:
        return  # health follow-ups never happen in a group
    offer = offer_reply(ctx.content.reminders, episode_ref)
    ctx.say(offer.text, buttons=offer.buttons)
