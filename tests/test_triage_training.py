"""The soreness check reads the training log (through handlers/training/api.py): a logged jump
in load answers "what changed" without asking and the outcome names overuse; soreness the day
after a logged run is linked to it; /history shows both; warning signs still come first."""

from __future__ import annotations

from sqlalchemy import select

from bot.content.bundle import ContentBundle
from bot.storage.models import TriageReport, TriageTrainingLink
from handlers.triage.retention import reduce_old_triage_answers
from tests.harness import ChatHarness, FakeClock, Person
from tests.triage_driver import MILD, run_triage

# FakeClock starts on Monday 23 November 2026, 09:00 UTC.
OVERUSE = "overuse"


async def _log(person: Person, text: str) -> None:
    await person.say(text)
    await person.press("Save")


async def _jump_last_week(person: Person, clock: FakeClock) -> None:
    """Two weeks ago 20 km, last week 32 km (+60 %, 12 km over the floor), back to today."""
    clock.advance(days=-14)
    await _log(person, "ran 20 km easy")
    clock.advance(days=7)
    await _log(person, "ran 16 km easy")
    clock.advance(days=2)
    await _log(person, "ran 16 km easy")
    clock.advance(days=5)


async def _links(bot: ChatHarness) -> list[TriageTrainingLink]:
    async with bot.engine.sessions() as session:
        return list(await session.scalars(select(TriageTrainingLink)))


async def test_a_logged_jump_answers_what_changed_and_names_overuse(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    tree = content.triage
    ann = bot.person()
    await _jump_last_week(ann, clock)
    outcome, asked = await run_triage(ann, tree, MILD)
    assert "change" not in asked  # the log answered it
    assert "rf_general" in asked  # warning signs are still asked
    assert outcome == "continue"
    result = ann.last_turn.replies if ann.last_turn else []
    assert any(OVERUSE in r.text and r.title for r in result)
    links = await _links(bot)
    assert [(link.load_jumped, link.run_id) for link in links] == [(True, None)]


async def test_without_a_jump_the_question_is_asked_and_nothing_is_linked(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = bot.person()
    clock.advance(days=-3)
    await _log(ann, "ran 8 km easy")  # Friday: not the day before
    clock.advance(days=3)
    outcome, asked = await run_triage(ann, content.triage, MILD)
    assert "change" in asked and outcome == "continue"
    assert await _links(bot) == []


async def test_soreness_the_day_after_a_run_is_linked_and_shown_in_history(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    clock.advance(days=-1)
    await _log(ann, "long run 28 km")
    clock.advance(days=1)
    await run_triage(ann, content.triage, MILD)
    [link] = await _links(quick_bot)
    assert link.run_id is not None and not link.load_jumped
    await ann.say("/history")
    assert "after your 28.0 km run on 22 Nov" in ann.text()
    # A run deleted since leaves the check in /history, without the run.
    await ann.say("/runs")
    await ann.press("Delete 1")
    await ann.say("/history")
    assert "28.0 km" not in ann.text() and "Easy training is fine" in ann.text()


async def test_history_names_the_jump(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await _jump_last_week(ann, clock)
    await run_triage(ann, content.triage, MILD)
    await ann.say("/history")
    assert content.triage.texts.history_load_jump in ann.text()


async def test_a_warning_sign_escalates_with_no_load_advice(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    tree = content.triage
    ann = quick_bot.person()
    await _jump_last_week(ann, clock)
    outcome, asked = await run_triage(ann, tree, {**MILD, "rf_general": "yes"})
    assert asked == ["area", "rf_general"]
    assert outcome is not None and tree.outcomes[outcome].escalation
    assert ann.last_turn is not None
    assert not any(OVERUSE in r.text for r in ann.last_turn.replies)


async def test_declined_consent_keeps_no_link(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await _jump_last_week(ann, clock)
    outcome, asked = await run_triage(ann, content.triage, MILD, consent=False)
    assert outcome == "continue" and "change" not in asked
    assert await _links(quick_bot) == []


async def test_retention_drops_the_link_with_the_details(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    clock.advance(days=-1)
    await _log(ann, "ran 10 km easy")
    clock.advance(days=1)
    await run_triage(ann, content.triage, MILD)
    assert len(await _links(quick_bot)) == 1
    clock.advance(days=2)
    await reduce_old_triage_answers(quick_bot.engine.sessions, clock.now, days=1)
    assert await _links(quick_bot) == []
    async with quick_bot.engine.sessions() as session:
        [report] = list(await session.scalars(select(TriageReport)))
    assert report.answers is None and report.outcome == "continue"


async def test_forget_removes_the_links_with_the_runs_and_checks(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    clock.advance(days=-1)
    await _log(ann, "ran 10 km easy")
    clock.advance(days=1)
    await run_triage(ann, content.triage, MILD)
    await ann.say("/forget")
    assert "1 soreness check linked to your runs" in ann.text()
    await ann.press("Delete everything")
    assert await _links(quick_bot) == []
