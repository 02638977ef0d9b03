"""The safety question before a core session for people who declined to keep their soreness
checks: with nothing stored, a rest or doctor outcome would otherwise be forgotten at once.
People whose checks are stored, and people who never ran one, are not asked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.content.bundle import ContentBundle
from bot.engine.events import ReplyIntent
from bot.storage.models import Consent, DialogState, TriageReport
from handlers.sessions.runner import DIALOG
from handlers.sessions.safety_screen import DIALOG as SCREEN
from tests.harness import ChatHarness, Person
from tests.triage_driver import MILD, run_triage

SEVERE = {**MILD, "severity": "severe"}  # a "rest" outcome


async def rows(bot: ChatHarness, model: type[Any]) -> list[Any]:
    async with bot.engine.sessions() as session:
        return list(await session.scalars(select(model)))


async def checked(
    bot: ChatHarness, content: ContentBundle, *, consent: bool, name: str = "ann"
) -> Person:
    """Someone with their level set, just told by a soreness check to rest."""
    person = bot.person(name)
    await person.say("/level")
    await person.press("Beginner")
    outcome, _ = await run_triage(person, content.triage, SEVERE, consent=consent)
    assert outcome == "rest"
    return person


async def at_the_question(bot: ChatHarness, content: ContentBundle) -> Person:
    """Ann, who declined to keep her checks and was just told to rest, after /session."""
    ann = await checked(bot, content, consent=False)
    await ann.say("/session")
    assert asked(ann, content)
    return ann


def asked(person: Person, content: ContentBundle) -> bool:
    texts = content.sessions.texts
    return (
        person.dialog == SCREEN
        and person.text().endswith(texts.screen_question)
        and person.labels() == [texts.screen_yes, texts.screen_no]
    )


async def test_declined_rest_outcome_asks_before_a_session_and_yes_refuses(
    bot: ChatHarness, content: ContentBundle
) -> None:
    texts = content.sessions.texts
    ann = await at_the_question(bot, content)
    assert await rows(bot, TriageReport) == []  # the promise holds: nothing to read
    assert "Start" not in ann.labels()
    await ann.press(texts.screen_yes)
    assert ann.dialog is None and ann.text().strip() == texts.screen_refused
    assert "48 to 72 hours" in ann.text() and "/sore" in ann.text()
    assert ann.button(texts.check_again_button).payload == "triage:start"
    # The answer is gone with the dialog: nothing about it is kept.
    assert await rows(bot, DialogState) == []
    assert await rows(bot, TriageReport) == []

    # Every new session asks again (a reminder's button too), and typed answers count.
    await ann.press_payload("session:start")
    assert asked(ann, content)
    await ann.say("yes")
    assert ann.dialog is None and texts.screen_refused in ann.text()


async def test_no_starts_the_session_as_usual(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = await at_the_question(quick_bot, content)
    await ann.press(content.sessions.texts.screen_no)
    assert ann.dialog == DIALOG and "Start" in ann.labels()
    assert "Today's core session" in ann.text()

    # The level question still comes first for someone who never chose one.
    bea = quick_bot.person("bea")
    await run_triage(bea, content.triage, MILD, consent=False)
    await bea.say("/session")
    await bea.say("No")
    assert bea.dialog == DIALOG and "Beginner" in bea.labels()


async def test_other_input_asks_again_and_changes_nothing(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    texts = content.sessions.texts
    ann = await at_the_question(quick_bot, content)
    for said in ("maybe later", "plank", ""):
        await ann.say(said)
        assert asked(ann, content)
        assert ann.text().strip().startswith(texts.unknown_input)
    await ann.press(texts.screen_no)
    assert ann.dialog == DIALOG


async def test_soreness_typed_at_the_question_goes_to_the_soreness_check(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = await at_the_question(quick_bot, content)
    await ann.say("my abs still really hurt")
    assert ann.dialog == "triage"
    assert content.sessions.texts.screen_question not in ann.text()


async def test_start_over_asks_again(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = await at_the_question(quick_bot, content)
    await ann.press(content.sessions.texts.screen_no)
    await ann.press("Start")
    await ann.say("/session")
    await ann.press("Start over")
    assert asked(ann, content)


async def test_the_declined_outcome_says_it_will_not_be_remembered(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    ann = await checked(quick_bot, content, consent=False)
    assert f"{tree.texts.not_stored_note} {tree.texts.not_remembered_note}" in ann.text()
    # Not where core work is fine anyway, nor where the check is stored.
    assert (await run_triage(ann, tree, MILD))[0] == "continue"
    assert tree.texts.not_remembered_note not in ann.text()
    bea = await checked(quick_bot, content, consent=True, name="bea")
    assert tree.texts.not_remembered_note not in bea.text()
    # Nor beside "get medical help now", which must stay about that alone.
    assert (await run_triage(ann, tree, {**MILD, "rf_general": "yes"}))[0] == "urgent"
    assert tree.texts.not_stored_note in ann.text()
    assert tree.texts.not_remembered_note not in ann.text()


async def test_stored_checks_keep_their_gate_and_are_not_asked(
    bot: ChatHarness, content: ContentBundle
) -> None:
    ann = await checked(bot, content, consent=True)
    await ann.say("/session")
    assert ann.dialog is None and "rest for 48 to 72 hours" in ann.text()
    assert content.sessions.texts.screen_question not in ann.text()

    bea = bot.person("bea")
    await run_triage(bea, content.triage, MILD, consent=True)
    await bea.say("/session")
    assert bea.dialog == DIALOG and "Beginner" in bea.labels()


async def test_people_who_never_ran_a_check_are_not_asked(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    cat = quick_bot.person("cat")
    await cat.say("/session")
    assert cat.dialog == DIALOG and "Beginner" in cat.labels()
    assert await rows(quick_bot, Consent) == []


async def test_in_a_group_the_question_is_private(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    texts = content.sessions.texts
    await checked(quick_bot, content, consent=False)
    ann = quick_bot.person("ann", group="runners")
    [pointer] = await ann.say("/session")
    assert pointer.text == texts.group_redirect and pointer.intent is ReplyIntent.NEW
    assert ann.dialog is None
    # Where the platform answers a group press privately (Discord), the question is asked there.
    await ann.press(texts.group_button)
    assert asked(ann, content)
    await ann.press(texts.screen_yes)
    assert ann.last_turn is not None and ann.last_turn.replies
    assert all(r.intent is ReplyIntent.PRIVATE for r in ann.inbox if r is not pointer)
    assert texts.screen_refused in ann.text()
