"""Reminder rules as rows: create, change, pause, resume, skip a week, snooze, and what a
reminder says. Handlers call these inside their turn's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.reminder_schema import ReminderTexts
from bot.engine.events import Button, Reply
from bot.engine.payloads import action_payload
from bot.storage.models import Chat, ReminderRule, User
from scheduler import outbox
from scheduler.occurrences import (
    DAY_NAMES,
    WeeklyTime,
    next_occurrence,
    start_of_next_week,
    zone,
)
from scheduler.quiet import QuietHours

MAX_RULES = 7
SNOOZE = timedelta(hours=1)
# A reminder older than this is no longer snoozed: the moment has passed.
SNOOZE_WINDOW = timedelta(hours=12)

SNOOZE_ACTION = "rem_snooze"
SKIP_ACTION = "rem_skip"
# Answered by the guided sessions feature (its `session` action): named, not imported, so
# reminders need nothing of sessions and sessions (through triage) may ask for a time zone.
START_SESSION_PAYLOAD = action_payload("session", "start")


def weekly(rule: ReminderRule) -> WeeklyTime:
    return WeeklyTime(rule.days, rule.minute_of_day)


def occurrence_label(when: WeeklyTime, tz: str, occurrence: datetime) -> str:
    """ "Tuesday 07:00": the day it fell on and the time the person chose."""
    local = occurrence.astimezone(zone(tz))
    return f"{DAY_NAMES[local.weekday()]} {when.clock}"


def next_label(rule: ReminderRule) -> str:
    if rule.paused or rule.next_due_at is None:
        return "paused"
    local = rule.next_due_at.astimezone(zone(rule.timezone))
    return f"next {local:%a %d %b} {weekly(rule).clock}"


def describe(rule: ReminderRule) -> str:
    return f"{weekly(rule).describe()} ({rule.timezone}), {next_label(rule)}"


async def rules_of(session: AsyncSession, user_id: int) -> list[ReminderRule]:
    found = await session.scalars(
        select(ReminderRule).where(ReminderRule.user_id == user_id).order_by(ReminderRule.id)
    )
    return list(found)


async def owned_rule(session: AsyncSession, user: User, rule_id: str) -> ReminderRule | None:
    """The rule with this id if it belongs to this person (button args can be forged)."""
    if not rule_id.isdigit():
        return None
    rule = await session.get(ReminderRule, int(rule_id))
    return rule if rule is not None and rule.user_id == user.id else None


def reschedule(rule: ReminderRule, now: datetime) -> None:
    rule.next_due_at = (
        None if rule.paused else next_occurrence(weekly(rule), zone(rule.timezone), now)
    )


async def create_rule(
    session: AsyncSession, user: User, chat: Chat, when: WeeklyTime, tz: str, now: datetime
) -> ReminderRule:
    rule = ReminderRule(
        user_id=user.id,
        chat_id=chat.id,
        days=when.days,
        minute_of_day=when.minute,
        timezone=tz,
        paused=False,
        created_at=now,
    )
    reschedule(rule, now)
    session.add(rule)
    await session.flush()
    return rule


async def change_rule(
    session: AsyncSession, rule: ReminderRule, when: WeeklyTime, now: datetime
) -> None:
    rule.days, rule.minute_of_day = when.days, when.minute
    await _cancel_pending(session, rule)
    reschedule(rule, now)


async def pause(session: AsyncSession, rule: ReminderRule) -> None:
    rule.paused = True
    rule.next_due_at = None
    await _cancel_pending(session, rule)


def resume(rule: ReminderRule, now: datetime) -> None:
    rule.paused = False
    reschedule(rule, now)


async def delete_rule(session: AsyncSession, rule: ReminderRule) -> None:
    await _cancel_pending(session, rule)
    await session.delete(rule)


async def follow_timezone(session: AsyncSession, user: User, tz: str, now: datetime) -> int:
    """The person moved: their reminders keep their wall-clock times in the new zone."""
    user.timezone = tz
    rules = await rules_of(session, user.id)
    for rule in rules:
        rule.timezone = tz
        await _cancel_pending(session, rule)
        reschedule(rule, now)
    return len(rules)


async def skip_week(
    session: AsyncSession, rule: ReminderRule, occurrence: datetime, now: datetime
) -> None:
    """No more reminders from this rule until the local week of `occurrence` is over."""
    resume_from = max(start_of_next_week(occurrence, zone(rule.timezone)), now)
    candidate = next_occurrence(weekly(rule), zone(rule.timezone), resume_from - _TICK)
    if rule.next_due_at is None or candidate > rule.next_due_at:
        rule.next_due_at = candidate
    await _cancel_pending(session, rule)


@dataclass(frozen=True)
class Snooze:
    at: datetime
    new: bool  # False: this reminder was snoozed already


async def snooze(
    session: AsyncSession,
    rule: ReminderRule,
    chat: Chat,
    occurrence: datetime,
    texts: ReminderTexts,
    now: datetime,
    grace: timedelta,
) -> Snooze:
    """Send this reminder again in an hour: one durable outbox row, once per reminder."""
    at = now + SNOOZE
    message = outbox.NewMessage.to(
        chat,
        dedupe_key=f"snooze:{rule.id}:{int(occurrence.timestamp())}",
        user_id=rule.user_id,
        reply=snoozed_reply(texts, rule.id, occurrence),
        not_before=at,
        # The person picked this moment, so quiet hours do not apply; staleness does.
        expires_at=at + grace,
    )
    added = await outbox.enqueue(session, [message], now=now)
    return Snooze(at, new=added == 1)


def reminder_reply(
    texts: ReminderTexts, rule_id: int, when: WeeklyTime, tz: str, occurrence: datetime
) -> Reply:
    """The reminder message. Plain values, not a row: the sweep renders thousands at once."""
    arg = _arg(rule_id, occurrence)
    labels = texts.buttons
    return Reply(
        texts.reminder_text(occurrence_label(when, tz, occurrence)),
        buttons=[
            [Button(labels.start_session, START_SESSION_PAYLOAD)],
            [
                Button(labels.snooze, action_payload(SNOOZE_ACTION, arg)),
                Button(labels.skip_week, action_payload(SKIP_ACTION, arg)),
            ],
        ],
    )


def snoozed_reply(texts: ReminderTexts, rule_id: int, occurrence: datetime) -> Reply:
    labels = texts.buttons
    skip = action_payload(SKIP_ACTION, _arg(rule_id, occurrence))
    return Reply(
        texts.snoozed_reminder,
        buttons=[
            [Button(labels.start_session, START_SESSION_PAYLOAD), Button(labels.skip_week, skip)]
        ],
    )


def parse_arg(arg: str) -> tuple[str, datetime] | None:
    """ "<rule id>.<occurrence epoch>" from a reminder button, or None if malformed."""
    rule_id, _, epoch = arg.partition(".")
    if not (rule_id.isdigit() and epoch.isdigit() and len(epoch) <= 11):
        return None
    return rule_id, datetime.fromtimestamp(int(epoch), tz=ZoneInfo("UTC"))


def reminder_deadline(
    rule_when: WeeklyTime,
    tz: ZoneInfo,
    occurrence: datetime,
    *,
    grace: timedelta,
    on_time: timedelta,
    quiet: QuietHours,
) -> datetime:
    """Until when a reminder may still go out (the sweep and the sender both honour it).

    Late by up to `grace` after downtime, but never late into quiet hours unless the person
    chose a time inside them; the first `on_time` counts as on time whatever the clock says.
    """
    deadline = occurrence + grace
    if quiet.covers_minute(rule_when.minute):
        return deadline
    quiet_starts = quiet.next_start(occurrence, tz)
    if quiet_starts is None:
        return deadline
    return min(deadline, max(quiet_starts, occurrence + on_time))


def _arg(rule_id: int, occurrence: datetime) -> str:
    return f"{rule_id}.{int(occurrence.timestamp())}"


async def _cancel_pending(session: AsyncSession, rule: ReminderRule) -> None:
    await outbox.cancel_pending(session, f"remind:{rule.id}:", f"snooze:{rule.id}:")


_TICK = timedelta(microseconds=1)
