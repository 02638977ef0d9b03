"""Typed runs (parser, Save / Fix / Undo, /runs, /units), /week's load and its warnings said
once, /today's advice, and /export and /forget covering runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import privacy
from bot.content.bundle import ContentBundle
from bot.storage.db import make_sessionmaker
from bot.storage.models import Run, User
from handlers.training.load import DayRun, compute
from handlers.training.parse import is_run_report, parse_run
from tests.harness import ChatHarness, FakeClock

# FakeClock starts on Monday 23 November 2026, 09:00 UTC.


@pytest.mark.parametrize(
    ("text", "metres", "seconds", "effort", "days_ago"),
    [
        ("ran 10k in 52 min, easy", 10000, 3120, "easy", 0),
        ("long run 28 km yesterday", 28000, None, "long", 1),
        ("5 miles of hills this morning", 8047, None, "hills", 0),
        ("10.5 km tempo in 52:30 on saturday", 10500, 3150, "tempo", 2),
        ("ran a half, 21,1 km in 1:45:10", 21100, 6310, None, 0),
        ("ran 15 km in 1h20", 15000, 4800, None, 0),
    ],
)
def test_parser_reads_runs(
    content: ContentBundle,
    text: str,
    metres: int,
    seconds: int | None,
    effort: str | None,
    days_ago: int,
) -> None:
    parsed = parse_run(text, content.training.words, weekday_today=0)
    assert parsed is not None
    assert (parsed.distance_m, parsed.duration_s, parsed.effort, parsed.days_ago) == (
        metres,
        seconds,
        effort,
        days_ago,
    )


@pytest.mark.parametrize(
    ("text", "is_run"),
    [
        ("ran 10k in 52 min, easy", True),
        ("easy 8 km", True),
        ("should I run 10k today?", False),
        ("I live 5 km from the park", False),
        ("my abs are sore", False),
        ("ran this morning", False),
    ],
)
def test_only_clear_run_reports_match(content: ContentBundle, text: str, is_run: bool) -> None:
    assert is_run_report(text, content.training.words) is is_run


async def _count(db: AsyncEngine) -> int:
    async with make_sessionmaker(db)() as session:
        return int(await session.scalar(select(func.count()).select_from(Run)) or 0)


async def test_typed_run_is_saved_after_confirming(
    quick_bot: ChatHarness, sqlite_db: AsyncEngine
) -> None:
    ann = quick_bot.person()
    await ann.say("ran 10k in 52 min, easy")
    assert "10.0 km in 52 min (5:12 /km), easy, today" in ann.text()
    assert await _count(sqlite_db) == 0  # nothing stored before Save
    await ann.press("Save")
    assert "Saved" in ann.text() and ann.dialog is None
    assert await _count(sqlite_db) == 1
    await ann.press("Undo")
    assert await _count(sqlite_db) == 0


async def test_fix_and_undo(quick_bot: ChatHarness, sqlite_db: AsyncEngine) -> None:
    ann = quick_bot.person()
    await ann.say("/run 10 km")
    await ann.press("Fix")
    await ann.say("12 km in 1h easy yesterday")
    assert "12.0 km in 1 h 00 min" in ann.text() and "yesterday" in ann.text()
    await ann.press("Undo")
    assert await _count(sqlite_db) == 0 and ann.dialog is None


async def test_soreness_still_wins_over_a_run_report(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("ran 10k and now my lower back is sore")
    assert ann.dialog is not None and ann.dialog != "training.run"


async def test_units_runs_edit_and_delete(quick_bot: ChatHarness, sqlite_db: AsyncEngine) -> None:
    ann = quick_bot.person()
    await ann.say("/units mi")
    await ann.say("ran 5 miles easy")
    assert "5.0 mi" in ann.text()
    await ann.press("Save")
    await ann.say("/runs")
    assert "1. 5.0 mi" in ann.text()
    await ann.press("Edit 1")
    await ann.say("6 miles tempo")
    await ann.press("Save")
    await ann.say("/runs")
    assert "6.0 mi" in ann.text() and "tempo" in ann.text()
    bob = quick_bot.person("bob")
    await bob.press_payload(ann.button("Delete 1").payload)
    assert "isn't in your log" in bob.text()
    assert await _count(sqlite_db) == 1
    await ann.press("Delete 1")
    assert await _count(sqlite_db) == 0


async def _log(ann: object, text: str) -> None:
    await ann.say(text)  # type: ignore[attr-defined]
    await ann.press("Save")  # type: ignore[attr-defined]


async def test_week_compares_and_warns_once(quick_bot: ChatHarness, clock: FakeClock) -> None:
    ann = quick_bot.person()
    clock.advance(days=-7)  # Monday of last week
    for _ in range(4):
        await _log(ann, "ran 10 km easy")
        clock.advance(days=1)
    clock.advance(days=3)  # this Monday: 40 km last week
    await _log(ann, "ran 30 km long")
    await ann.say("/week")
    assert "1 run, **30.0 km**" in ann.text() and "40.0 km" in ann.text()
    clock.advance(days=1)
    await ann.say("ran 20 km easy")
    await ann.press("Save")
    assert "Heads up:** this week is already 25% above last week" in ann.text()
    await ann.say("/week")
    assert "25% more than last week" in ann.text()
    assert "Heads up" not in ann.text()  # said once


def test_ratio_needs_history_and_flags_spikes() -> None:
    today = FakeClock().now.date()
    fresh = compute([DayRun(today, 30000, None)], today)
    assert fresh.ratio is None and not fresh.ratio_high
    steady = [DayRun(today - timedelta(days=d), 5000, None) for d in range(0, 28, 2)]
    assert compute(steady, today).ratio == pytest.approx(1.0, abs=0.15)
    spike = [*steady, DayRun(today, 40000, None)]
    assert compute(spike, today).ratio_high


def test_small_weeks_do_not_count_as_a_jump() -> None:
    today = FakeClock().now.date() + timedelta(days=6)  # Sunday
    runs = [DayRun(today - timedelta(days=7), 10000, None), DayRun(today, 14000, None)]
    assert not compute(runs, today).week_jump  # +40 % but only 4 km
    runs = [DayRun(today - timedelta(days=7), 30000, None), DayRun(today, 36000, None)]
    assert compute(runs, today).week_jump


async def test_today_advice(quick_bot: ChatHarness, clock: FakeClock) -> None:
    ann = quick_bot.person()
    await ann.say("what should I do today?")
    assert "Core session today" in ann.text()  # no core session logged yet
    assert "Start a core session" in ann.labels()
    await _log(ann, "long run 25 km")
    await ann.say("/today")
    assert "Core session today" in ann.text() and "long run" in ann.text()


async def test_export_and_forget_cover_runs(
    db: AsyncEngine, bot: ChatHarness, content: ContentBundle
) -> None:
    ann = bot.person()
    await _log(ann, "ran 10 km easy")
    await ann.say("/units mi")
    sessions = make_sessionmaker(db)
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == "ann"))
        assert user is not None
        exported = await privacy.export(session, user, bot.engine.clock())
        assert exported["tables"]["runs"][0]["distance_m"] == 10000
        assert exported["tables"]["training_prefs"][0]["units"] == "mi"
        removed = await privacy.erase(session, user)
        await session.commit()
    assert removed["runs"] == 1 and removed["training_prefs"] == 1
    assert await _count(db) == 0
