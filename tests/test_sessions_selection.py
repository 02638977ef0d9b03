"""Choosing today's session: level, soreness exclusions, determinism, and the same choice in
the chat, with soreness read from stored soreness checks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.content.schema import LEVELS, Level
from handlers.sessions.builder import Plan, build_plan, steps
from handlers.sessions.state import Phase, RunState
from tests.harness import FakeClock
from tests.sessions_support import add_report, session_bot, user_of

DAYS = [date(2026, 11, 23) + timedelta(days=n) for n in range(40)]
RANK = {level: n for n, level in enumerate(LEVELS)}


def _plan(
    content: ContentBundle,
    level: Level,
    day: date,
    sore: frozenset[str] = frozenset(),
    user_id: int = 7,
    dose_pct: int = 100,
    template: str = "classic",
) -> Plan | None:
    return build_plan(
        content.cards,
        content.sessions.templates[template],
        level,
        user_id=user_id,
        day=day,
        sore_areas=sore,
        dose_pct=dose_pct,
    )


@pytest.mark.parametrize("level", LEVELS)
def test_moves_fit_the_level_and_the_classic_format(content: ContentBundle, level: Level) -> None:
    seen: set[str] = set()
    for day in DAYS:
        plan = _plan(content, level, day)
        assert plan is not None
        cards = [content.cards[m.card_id] for m in plan.moves]
        assert len(cards) == 5 and len({c.id for c in cards}) == 5
        assert all(RANK[c.level] <= RANK[level] for c in cards)
        # About half the moves (rounded up) are at the person's own level, where there are enough.
        own = [c for c in content.cards.values() if c.level == level]
        assert sum(c.level == level for c in cards) >= min(len(own), 3)
        seen.update(c.id for c in cards)
        assert plan.rounds == 3
        kinds = [s.kind for s in steps(plan)]
        assert kinds[0] == "warmup" and kinds.count("move") == 15 and kinds.count("rest") == 2
    # Over forty days the choice varies: every card allowed at this level turns up.
    allowed = {c.id for c in content.cards.values() if RANK[c.level] <= RANK[level]}
    assert seen == allowed


def test_same_person_and_day_get_the_same_session(content: ContentBundle) -> None:
    day = DAYS[0]
    first = _plan(content, "intermediate", day)
    assert first == _plan(content, "intermediate", day)
    assert first is not None
    # What the dialog stores reads back equal.
    stored = RunState(phase=Phase.READY, template="classic", plan=first).model_dump_json()
    assert RunState.model_validate_json(stored).plan == first
    others = [_plan(content, "intermediate", d) for d in DAYS[1:10]]
    assert any(p is not None and p.moves != first.moves for p in others)
    other_people = [_plan(content, "intermediate", day, user_id=n) for n in range(8, 16)]
    assert any(p is not None and p.moves != first.moves for p in other_people)


@pytest.mark.parametrize("area", ["abs", "obliques", "lower_back", "hip_flexors"])
@pytest.mark.parametrize("level", ["intermediate", "advanced"])
def test_sore_areas_rule_out_every_card_that_works_them(
    content: ContentBundle, area: str, level: Level
) -> None:
    template = content.sessions.templates["classic"]
    for day in DAYS[:15]:
        plan = _plan(content, level, day, frozenset({area}))
        assert plan is not None
        assert all(area not in content.cards[m.card_id].areas for m in plan.moves)
        assert len(plan.moves) >= template.min_moves
        kept = [template.warmup[i] for i in plan.warmup]
        assert all(area not in item.areas for item in kept)


def test_too_few_moves_left_means_no_session(content: ContentBundle) -> None:
    # Every beginner card works the abs or the lower back.
    assert all(
        {"abs", "lower_back"} & set(c.areas)
        for c in content.cards.values()
        if c.level == "beginner"
    )
    assert _plan(content, "beginner", DAYS[0], frozenset({"abs", "lower_back"})) is None
    # Fewer than five but at least min_moves: a shorter round rather than none.
    plan = _plan(content, "beginner", DAYS[0], frozenset({"lower_back"}))
    minimum = content.sessions.templates["classic"].min_moves
    assert plan is not None and minimum <= len(plan.moves) < 5


def test_dose_scales_holds_and_reps_per_level(content: ContentBundle) -> None:
    template = content.sessions.templates["classic"]
    for level in LEVELS:
        plan = _plan(content, level, DAYS[0])
        assert plan is not None
        pct = template.levels[level].dose_pct
        for move in plan.moves:
            dose = content.cards[move.card_id].dose
            base = dose.hold_seconds if dose.kind == "hold" else dose.reps
            assert base is not None
            assert move.amount == max(5 if dose.kind == "hold" else 1, base * pct // 100)


async def test_the_chat_session_spares_the_area_from_the_latest_check(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/level")
    await ann.press("Intermediate")
    user = await user_of(bot.engine, ann)
    await add_report(bot.engine, user, clock.now - timedelta(hours=20), "continue", "obliques")
    await ann.say("/session")
    overview = ann.text()
    assert "obliques" in overview  # the note names the spared area
    shown = [c for c in content.cards.values() if f"{c.name}:" in overview]
    assert len(shown) == 5
    assert all("obliques" not in c.areas for c in shown)
    assert all(c.level in ("beginner", "intermediate") for c in shown)

    # Three days later the area is no longer spared (and no note is shown).
    clock.advance(hours=60)
    await ann.say("/session")
    assert "obliques" not in ann.text()


async def test_not_sure_area_adds_a_caution_but_rules_nothing_out(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/level")
    await ann.press("Beginner")
    user = await user_of(bot.engine, ann)
    await add_report(bot.engine, user, clock.now - timedelta(hours=3), "active", "not_sure")
    await ann.say("/session")
    assert content.sessions.texts.unsure_note in ann.text()
    assert len([c for c in content.cards.values() if f"{c.name}:" in ann.text()]) == 5


async def test_soreness_that_leaves_too_few_moves_gets_a_rest_day_message(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/level")
    await ann.press("Beginner")
    user = await user_of(bot.engine, ann)
    await add_report(bot.engine, user, clock.now - timedelta(hours=30), "active", "abs")
    await add_report(bot.engine, user, clock.now - timedelta(hours=2), "continue", "lower_back")
    await ann.say("/session")
    assert "rest day" in ann.text()
    assert "abs and lower back" in ann.text()
    assert ann.dialog is None
