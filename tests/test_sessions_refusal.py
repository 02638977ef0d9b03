"""No core session while the latest soreness check says to rest or to get help: how long each
refusal lasts, and what clears it early."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.content.bundle import ContentBundle
from handlers.sessions.runner import DIALOG
from tests.harness import ChatHarness, FakeClock, Person
from tests.sessions_support import add_better_checkin, add_report, user_of


async def _person(bot: ChatHarness) -> Person:
    ann = bot.person()
    await ann.say("/level")
    await ann.press("Beginner")
    return ann


def _refused(person: Person) -> bool:
    return person.dialog is None and "Start" not in person.labels()


async def test_rest_outcome_refuses_for_72_hours(
    bot: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    ann = await _person(bot)  # on each database
    user = await user_of(bot.engine, ann)
    checked = clock.now - timedelta(hours=30)
    await add_report(bot.engine, user, checked, "rest", "abs")
    await ann.say("/session")
    assert _refused(ann)
    assert "rest for 48 to 72 hours" in ann.text()
    assert checked.strftime("%a %d %b") in ann.text()
    assert (checked + timedelta(hours=72)).strftime("%a %d %b, %H:%M") in ann.text()
    assert ann.labels() == [content.sessions.texts.check_again_button]
    assert ann.button(content.sessions.texts.check_again_button).payload == "triage:start"

    clock.advance(hours=41)  # 71 h after the check: still refused
    await ann.press_payload("session:start")
    assert _refused(ann)
    clock.advance(hours=1, minutes=1)
    await ann.say("/session")
    assert ann.dialog == DIALOG and "Start" in ann.labels()


@pytest.mark.parametrize("outcome", ["doctor", "urgent"])
async def test_escalation_refuses_until_something_clears_it(
    quick_bot: ChatHarness, content: ContentBundle, clock: FakeClock, outcome: str
) -> None:
    ann = await _person(quick_bot)
    user = await user_of(quick_bot.engine, ann)
    await add_report(quick_bot.engine, user, clock.now - timedelta(hours=2), outcome, None)
    clock.advance(days=20)  # no time limit: we can't know when the person was seen
    await ann.say("/session")
    assert _refused(ann)
    assert content.triage.outcomes[outcome].title in ann.text()
    # A later check whose outcome allows core work clears it.
    await add_report(quick_bot.engine, user, clock.now - timedelta(minutes=5), "continue", None)
    await ann.say("/session")
    assert ann.dialog == DIALOG


async def test_a_better_check_in_clears_a_refusal_early(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = await _person(quick_bot)
    user = await user_of(quick_bot.engine, ann)
    await add_report(quick_bot.engine, user, clock.now - timedelta(hours=30), "rest", "obliques")
    # A check-in answered before the check does not count.
    await add_better_checkin(quick_bot.engine, ann, user, clock.now - timedelta(hours=40))
    await ann.say("/session")
    assert _refused(ann)
    await add_better_checkin(quick_bot.engine, ann, user, clock.now - timedelta(hours=1))
    await ann.say("/session")
    assert ann.dialog == DIALOG
    assert "obliques" in ann.text()  # still spared for the rest of the 72 hours


async def test_an_older_rest_is_superseded_by_a_newer_fine_check(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = await _person(quick_bot)
    user = await user_of(quick_bot.engine, ann)
    await add_report(quick_bot.engine, user, clock.now - timedelta(hours=10), "rest", "abs")
    await add_report(quick_bot.engine, user, clock.now - timedelta(hours=1), "active", "abs")
    await ann.say("/session")
    assert ann.dialog == DIALOG and "abs" in ann.text()


async def test_resume_is_refused_after_a_new_rest_outcome(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = await _person(quick_bot)
    await ann.say("/session")
    await ann.press("Start")
    await ann.press("Done")
    if "Start" in ann.labels():
        await ann.press("Start")
    await ann.press("Done")
    await ann.press("Stop")
    user = await user_of(quick_bot.engine, ann)
    await add_report(quick_bot.engine, user, clock.now, "rest", "abs")  # e.g. from another chat
    await ann.press("Resume")
    assert _refused(ann) and "rest for 48 to 72 hours" in ann.text()
