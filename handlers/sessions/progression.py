"""Weeks, streaks and gentle progression from the session log: pure functions of logged
sessions (on the person's local calendar) and today's date.

Progression, in one place: once the two calendar weeks before this one each had at least
GOAL_MIN completed sessions, the next session may step the dose up one notch (at most 10 %,
see session_builder.next_dose), once per week: a step taken this week waits for next week.
After a break of BREAK_DAYS without a completed session, doses start again from the cards'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.sessions.builder import MAX_DOSE_PCT, next_dose

GOAL_MIN, GOAL_MAX = 2, 3  # sessions a week (the seeds: two to three times a week)
CHART_WEEKS = 8
BREAK_DAYS = 14


@dataclass(frozen=True)
class Logged:
    """One logged session as progression sees it."""

    day: date  # local date it finished
    completed: bool
    work_seconds: int
    dose_pct: int


@dataclass(frozen=True)
class Week:
    start: date  # Monday
    sessions: int  # completed
    work_seconds: int  # all logged work, finished or not


@dataclass(frozen=True)
class DoseAdvice:
    current: int  # the dose the next session uses unless the person steps up
    suggested: int | None  # a step up on offer
    at_cap: bool  # consistent, but the dose can rise no further: suggest harder variants


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(logged: Sequence[Logged], today: date, count: int = CHART_WEEKS) -> list[Week]:
    """The last `count` weeks, oldest first, ending with this week."""
    this_week = week_start(today)
    starts = [this_week - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    sessions = dict.fromkeys(starts, 0)
    work = dict.fromkeys(starts, 0)
    for item in logged:
        start = week_start(item.day)
        if start in work:
            work[start] += item.work_seconds
            sessions[start] += item.completed
    return [Week(s, sessions[s], work[s]) for s in starts]


def streak(logged: Sequence[Logged], today: date) -> int:
    """Weeks in a row with at least GOAL_MIN completed sessions, ending last week, plus this
    week once it has reached the goal too (a week still under way does not break a streak)."""
    per_week: dict[date, int] = {}
    for item in logged:
        if item.completed:
            per_week[week_start(item.day)] = per_week.get(week_start(item.day), 0) + 1
    this_week = week_start(today)
    count = 1 if per_week.get(this_week, 0) >= GOAL_MIN else 0
    week = this_week - timedelta(weeks=1)
    while per_week.get(week, 0) >= GOAL_MIN:
        count += 1
        week -= timedelta(weeks=1)
    return count


def current_dose(logged: Sequence[Logged], today: date) -> int:
    recent = [
        item
        for item in logged
        if item.completed and (today - item.day).days < BREAK_DAYS and item.day <= today
    ]
    return max(recent, key=lambda item: item.day).dose_pct if recent else 100


def dose_advice(logged: Sequence[Logged], today: date) -> DoseAdvice:
    current = current_dose(logged, today)
    this_week = week_start(today)
    last_week, week_before = this_week - timedelta(weeks=1), this_week - timedelta(weeks=2)
    done = [item for item in logged if item.completed]

    def in_week(start: date) -> list[Logged]:
        return [item for item in done if week_start(item.day) == start]

    if len(in_week(last_week)) < GOAL_MIN or len(in_week(week_before)) < GOAL_MIN:
        return DoseAdvice(current, None, at_cap=False)
    base = max(item.dose_pct for item in in_week(last_week))
    if any(item.dose_pct > base for item in in_week(this_week)):
        return DoseAdvice(current, None, at_cap=False)  # stepped up this week already
    if base >= MAX_DOSE_PCT or current >= MAX_DOSE_PCT:
        return DoseAdvice(current, None, at_cap=True)
    suggested = next_dose(base)
    if suggested <= current:
        return DoseAdvice(current, None, at_cap=False)
    return DoseAdvice(current, suggested, at_cap=False)
