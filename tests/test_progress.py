"""Weeks, streaks and gentle progression: when a step up is offered, the 10 % cap on each step,
and the step up in the chat."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.content.schema import LEVELS, Level
from handlers.sessions.builder import MAX_DOSE_PCT, STEP_PCT, build_plan, next_dose
from handlers.sessions.progression import (
    BREAK_DAYS,
    Logged,
    current_dose,
    dose_advice,
    streak,
    week_start,
    weeks,
)
from tests.harness import FakeClock
from tests.sessions_support import add_log, logs_of, press_through, session_bot, user_of

MONDAY = date(2026, 11, 23)


def _log(day: date, dose: int = 100, completed: bool = True, work: int = 600) -> Logged:
    return Logged(day, completed, work, dose)


def _two_good_weeks(dose: int = 100) -> list[Logged]:
    return [
        _log(MONDAY - timedelta(days=13), dose),
        _log(MONDAY - timedelta(days=10), dose),
        _log(MONDAY - timedelta(days=6), dose),
        _log(MONDAY - timedelta(days=3), dose),
    ]


def test_weeks_count_completed_sessions_and_all_work() -> None:
    logged = [
        _log(MONDAY, work=300),
        _log(MONDAY + timedelta(days=2), completed=False, work=120),
        _log(MONDAY - timedelta(days=1), work=500),  # Sunday: last week
        _log(MONDAY - timedelta(weeks=9)),  # outside the chart
    ]
    chart = weeks(logged, MONDAY + timedelta(days=3))
    assert len(chart) == 8 and chart[-1].start == MONDAY
    assert [w.start.weekday() for w in chart] == [0] * 8
    assert (chart[-1].sessions, chart[-1].work_seconds) == (1, 420)
    assert (chart[-2].sessions, chart[-2].work_seconds) == (1, 500)
    assert sum(w.sessions for w in chart) == 2


def test_streak_counts_weeks_at_the_goal() -> None:
    assert streak(_two_good_weeks(), MONDAY) == 2
    # This week joins the streak once it reaches the goal; until then it doesn't break it.
    this_week = [_log(MONDAY), _log(MONDAY + timedelta(days=2))]
    assert streak(_two_good_weeks() + this_week[:1], MONDAY + timedelta(days=3)) == 2
    assert streak(_two_good_weeks() + this_week, MONDAY + timedelta(days=3)) == 3
    # A week with one session breaks it; abandoned sessions don't count.
    gap = [_log(MONDAY - timedelta(days=6)), _log(MONDAY - timedelta(days=5), completed=False)]
    assert streak(gap + [_log(MONDAY - timedelta(days=13))] * 2, MONDAY) == 0


def test_a_step_up_is_offered_after_two_weeks_at_the_goal() -> None:
    assert dose_advice(_two_good_weeks(), MONDAY).suggested == 110
    # One good week is not enough, nor two weeks with a single session in one of them.
    assert dose_advice(_two_good_weeks()[2:], MONDAY).suggested is None
    assert dose_advice(_two_good_weeks()[1:], MONDAY).suggested is None
    # Abandoned sessions don't count towards it.
    half = [*_two_good_weeks()[:3], _log(MONDAY - timedelta(days=3), completed=False)]
    assert dose_advice(half, MONDAY).suggested is None


def test_one_step_a_week_and_never_past_the_cap() -> None:
    stepped = [*_two_good_weeks(), _log(MONDAY + timedelta(days=1), dose=110)]
    advice = dose_advice(stepped, MONDAY + timedelta(days=3))
    assert advice.current == 110 and advice.suggested is None  # stepped up this week already
    # Next week, from 110 the next step is 121: each step at most 10 %.
    next_week = [*stepped[2:], _log(MONDAY + timedelta(days=4), dose=110)]
    assert dose_advice(next_week, MONDAY + timedelta(days=7)).suggested == 121
    at_cap = dose_advice(_two_good_weeks(MAX_DOSE_PCT), MONDAY)
    assert at_cap.suggested is None and at_cap.at_cap


def test_after_a_break_doses_start_again_from_the_cards() -> None:
    last = MONDAY - timedelta(days=20)
    logged = [_log(last, dose=133)]
    assert current_dose(logged, last + timedelta(days=BREAK_DAYS - 1)) == 133
    assert current_dose(logged, last + timedelta(days=BREAK_DAYS)) == 100


def test_each_weekly_step_is_at_most_ten_percent() -> None:
    for pct in range(100, MAX_DOSE_PCT):
        assert pct < next_dose(pct) <= pct * (100 + STEP_PCT) / 100
    assert next_dose(MAX_DOSE_PCT) == MAX_DOSE_PCT


@settings(max_examples=60, deadline=None)
@given(
    level=st.sampled_from(LEVELS),
    template=st.sampled_from(["classic", "short"]),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    user_id=st.integers(min_value=1, max_value=10_000),
    steps=st.integers(min_value=0, max_value=8),
    sore=st.sets(st.sampled_from(["obliques", "lower_back", "hip_flexors"]), max_size=1),
)
def test_a_step_up_adds_at_most_ten_percent_of_core_work(
    content: ContentBundle,
    level: Level,
    template: str,
    day: date,
    user_id: int,
    steps: int,
    sore: set[str],
) -> None:
    """The seed's 10 % rule on core work: the session at the next week's dose does at most
    10 % more work than the same session at this week's dose, whole reps and seconds included."""
    pct = 100
    for _ in range(steps):
        pct = next_dose(pct)
    plans = [
        build_plan(
            content.cards,
            content.sessions.templates[template],
            level,
            user_id=user_id,
            day=day,
            sore_areas=frozenset(sore),
            dose_pct=dose,
        )
        for dose in (pct, next_dose(pct))
    ]
    now, stepped = plans
    assert now is not None and stepped is not None
    assert [m.card_id for m in now.moves] == [m.card_id for m in stepped.moves]
    assert all(a.amount <= b.amount for a, b in zip(now.moves, stepped.moves, strict=True))
    assert stepped.work_seconds() <= now.work_seconds() * (100 + STEP_PCT) / 100
    if pct < MAX_DOSE_PCT:
        assert stepped.work_seconds() > now.work_seconds()  # a step up is a real step


async def test_the_chat_offers_the_step_up_and_logs_the_new_dose(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/level")
    await ann.press("Beginner")
    user = await user_of(bot.engine, ann)
    await ann.say("/session")
    assert not any(label.startswith("Step up") for label in ann.labels())
    plain = ann.text()
    for days_ago in (13, 10, 6, 3):
        await add_log(bot.engine, user, clock.now - timedelta(days=days_ago))
    await ann.say("/session")
    assert "Step up +10%" in ann.labels()
    await ann.press("Step up +10%")
    assert "Stepped up by 10 %" in ann.text()
    assert not any(label.startswith("Step up") for label in ann.labels())
    assert ann.text() != plain
    await press_through(ann)
    assert (await logs_of(bot.engine, user))[-1].dose_pct == 110
    # The next session this week keeps the new dose and offers no second step.
    clock.advance(days=1)
    await ann.say("/session")
    assert not any(label.startswith("Step up") for label in ann.labels())
    assert ann.text().count("Stepped up") == 0


def test_week_start_is_monday() -> None:
    for offset in range(7):
        assert week_start(MONDAY + timedelta(days=offset)) == MONDAY
    assert week_start(MONDAY - timedelta(days=1)) == MONDAY - timedelta(weeks=1)
