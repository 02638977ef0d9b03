"""The soreness-check dialog: consent, privacy in groups, Back, "not sure", typed answers,
stale buttons, /cancel, a restart in the middle, /history, and the piped terminal chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.content.triage_schema import TriageTree
from bot.engine.engine import FOREIGN_BUTTON
from bot.engine.events import ReplyIntent
from bot.storage.models import Base, Consent, DialogState, TriageReport
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person
from tests.triage_driver import DEFAULTS, MILD, current_question, finished, run_triage

REPO = Path(__file__).resolve().parents[1]


async def rows(bot: ChatHarness, model: type[Any]) -> list[Any]:
    async with bot.engine.sessions() as session:
        return list(await session.scalars(select(model)))


async def every_stored_value(bot: ChatHarness) -> str:
    """Every row of every table, as one string, to search for things that must not be kept."""
    dump = []
    async with bot.engine.sessions() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(text(f"SELECT * FROM {table.name}"))
            dump += [repr(tuple(row)) for row in result]
    return "\n".join(dump)


def asked(tree: TriageTree, person: Person) -> str:
    assert person.last_turn is not None
    return current_question(tree, person.last_turn.replies[-1]).id


async def start(person: Person, tree: TriageTree, *, consent: bool | None = True) -> None:
    await person.say("/sore")
    if consent is not None:
        await person.press(tree.texts.consent_yes if consent else tree.texts.consent_no)
    assert asked(tree, person) == "area"


# --- consent ---------------------------------------------------------------------------------


async def test_consent_asked_once_and_answers_stored_as_codes(
    bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    ann = bot.person("ann")
    await ann.say("/sore")
    consent_text = ann.text()
    assert "90 days" in consent_text and "never" in consent_text  # what is kept, how long
    assert ann.labels() == [tree.texts.consent_yes, tree.texts.consent_no]
    await ann.press(tree.texts.consent_yes)
    assert tree.texts.consent_saved in ann.text()
    # Typed words that are no answer are re-asked and never stored.
    await ann.say("my secret words about my body")
    assert tree.texts.reask in ann.text()
    assert asked(tree, ann) == "area"
    await ann.press("Abs (front of the belly)")
    for label in (
        "None of these",
        "Dull or tight, eases moving",
        "4–6",
        "More distance",
    ):
        await ann.press(label)
    assert ann.last_turn is not None
    assert finished(tree, ann) == "active"
    assert tree.texts.stored_note in ann.text()

    [consent] = await rows(bot, Consent)
    assert (consent.topic, consent.granted) == ("health", True)
    [report] = await rows(bot, TriageReport)
    assert (report.outcome, report.rule, report.area) == ("active", "moderate", "abs")
    assert report.answers == {
        "area": "abs",
        "rf_general": "none",
        "signs": "eases",
        "feel": "dull",
        "movement": "eases",
        "swelling": "no",
        "severity": "moderate",
        "change": "mileage",
    }
    assert "secret" not in await every_stored_value(bot)

    # The second check does not ask again.
    await ann.say("/sore")
    assert tree.texts.consent_question.split("\n")[0] not in ann.text()
    assert asked(tree, ann) == "area"


async def test_declined_consent_stores_nothing_about_the_check(
    bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    bob = bot.person("bob")
    outcome, _ = await run_triage(bob, tree, {**MILD, "severity": "severe"}, consent=False)
    assert outcome == "rest"
    assert tree.texts.not_stored_note in bob.text()
    [consent] = await rows(bot, Consent)
    assert consent.granted is False
    assert await rows(bot, TriageReport) == []
    assert await rows(bot, DialogState) == []
    stored = await every_stored_value(bot)
    assert "severe" not in stored and "rest" not in stored.replace("interest", "")
    # Works again without asking, still storing nothing; /history says why it is empty.
    outcome, asked_ids = await run_triage(bob, tree, MILD)
    assert outcome == "continue" and asked_ids[0] == "area"
    assert await rows(bot, TriageReport) == []
    await bob.say("/history")
    assert bob.text().strip() == tree.texts.history_not_stored


# --- groups ----------------------------------------------------------------------------------


async def test_group_gets_a_pointer_and_the_check_runs_privately(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    in_group = quick_bot.person("cat", group="club")
    for said in ("/sore", "my abs are sore after yesterday's run"):
        [reply] = await in_group.say(said)
        assert reply.intent is ReplyIntent.NEW
        assert reply.text == tree.texts.group_redirect
        [button] = reply.flat_buttons()
        assert button.opens_private and button.payload == "triage:start"
        assert in_group.dialog is None

    # Discord-style: the button answers in the group, every reply goes privately.
    await in_group.press(tree.texts.group_button)
    outcome, _ = await run_triage_from_here(in_group, tree, {**MILD, "severity": "moderate"})
    assert outcome == "active"
    public = [r for r in in_group.inbox if r.intent is not ReplyIntent.PRIVATE]
    assert [r.text for r in public] == [tree.texts.group_redirect] * 2
    # No card buttons in a group: they would post in public.
    assert in_group.labels() == []

    # Telegram-style: the deep link brings the same payload into the private chat.
    in_private = quick_bot.person("cat")
    await in_private.press_payload("triage:start")
    assert asked(tree, in_private) == "area"  # consent was given in the group already
    assert all(r.intent is ReplyIntent.NEW for r in in_private.inbox)
    assert in_private.dialog == "triage"


async def run_triage_from_here(
    person: Person, tree: TriageTree, answers: dict[str, str]
) -> tuple[str, list[str]]:
    """Like run_triage, but the dialog is already open (consent pending or a question)."""
    for _ in range(30):
        assert person.last_turn is not None
        reply = person.last_turn.replies[-1]
        assert all(r.intent is ReplyIntent.PRIVATE for r in person.last_turn.replies)
        outcome = finished(tree, person)
        if outcome is not None:
            return outcome, []
        if tree.texts.consent_yes in person.labels():
            await person.press(tree.texts.consent_yes)
            continue
        question = current_question(tree, reply)
        value = answers.get(question.id) or next(o.value for o in question.options if not o.flag)
        option = question.option(
            value
            if question.id in answers or question.kind == "red_flag"
            else DEFAULTS[question.id]
        )
        assert option is not None
        await person.press(option.label)
    raise AssertionError("no outcome")


async def test_history_in_a_group_is_only_shown_privately(
    quick_bot: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    tree = content.triage
    dan = quick_bot.person("dan")
    await run_triage(dan, tree, MILD)
    clock.advance(days=1)
    await run_triage(dan, tree, {**MILD, "area": "lower_back", "severity": "severe"})

    await dan.say("/history")
    lines = dan.text().strip().splitlines()
    assert lines[0] == tree.texts.history_intro
    assert lines[1:] == [
        "• 24 Nov 2026 · Lower back · Rest for 48–72 hours",
        "• 23 Nov 2026 · Abs (front of the belly) · Easy training is fine",
    ]

    in_group = quick_bot.person("dan", group="club")
    [reply] = await in_group.say("/history")
    assert reply.text == tree.texts.history_private_only
    assert reply.flat_buttons()[0].opens_private
    [reply] = await in_group.press(tree.texts.history_button)
    assert reply.intent is ReplyIntent.PRIVATE
    assert "Lower back" in reply.text

    eve = quick_bot.person("eve")
    await eve.say("/history")
    assert eve.text().strip() == tree.texts.history_empty


# --- moving around in the dialog ---------------------------------------------------------------


async def test_back_restores_the_previous_question_and_its_facts(
    bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    fay = bot.person("fay")
    await start(fay, tree)
    assert tree.texts.back_label not in fay.labels()  # nothing to go back to yet
    for label in ("Sides / obliques", "None of these", "Sharp, in one spot"):
        await fay.press(label)
    assert asked(tree, fay) == "severity"
    await fay.press(tree.texts.back_label)
    assert asked(tree, fay) == "signs"
    await fay.press(tree.texts.back_label)
    assert asked(tree, fay) == "rf_general"
    await fay.press("None of these")
    # A different answer takes a different branch: a stitch that has gone ends the questions,
    # and the facts the sharp answer set are gone with it.
    await fay.press("A stitch, gone now")
    [report] = await rows(bot, TriageReport)
    assert report.outcome == "continue"
    assert report.answers == {
        "area": "obliques",
        "rf_general": "none",
        "signs": "stitch",
        "stitch": "yes",
    }


async def test_a_button_from_before_back_is_stale(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    gus = quick_bot.person("gus")
    await start(gus, tree)
    for label in ("Abs (front of the belly)", "None of these"):
        await gus.press(label)
    old = gus.button("Dull or tight, eases moving")
    await gus.press(tree.texts.back_label)
    assert asked(tree, gus) == "rf_general"
    current = gus.button("None of these")
    await gus.press_payload(old.payload)
    # Refused as an answer: the open question is asked again.
    assert gus.last_turn is not None and gus.last_turn.asked_again
    assert asked(tree, gus) == "rf_general"
    # Nothing moved: the current question still takes its answer.
    await gus.press_payload(current.payload)
    assert asked(tree, gus) == "signs"


async def test_not_sure_on_a_red_flag_escalates_and_elsewhere_moves_on(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    hal = quick_bot.person("hal")
    await start(hal, tree)
    await hal.press("Abs (front of the belly)")
    await hal.press("None of these")
    await hal.press("Not sure")  # which fits best
    assert asked(tree, hal) == "severity"
    await hal.press("0–3")
    assert asked(tree, hal) == "change"
    await hal.say("dunno")  # typed "not sure"
    assert hal.last_turn is not None
    assert finished(tree, hal) == "active"  # mild: "not sure" never goes past rest

    ida = quick_bot.person("ida")
    await start(ida, tree)
    await ida.press("Lower back")
    await ida.say("not sure")  # the safety screen
    assert ida.last_turn is not None
    assert finished(tree, ida) == "doctor"
    assert "today" in ida.text()
    assert ida.dialog is None


async def test_typed_answers_and_free_text(quick_bot: ChatHarness, content: ContentBundle) -> None:
    tree = content.triage
    jo = quick_bot.person("jo")
    await start(jo, tree)
    await jo.say("what do you mean?")
    assert tree.texts.reask in jo.text() and asked(tree, jo) == "area"
    assert "Lower back" in jo.labels()  # re-asked with the buttons
    await jo.say("Lower back")  # a label typed
    assert asked(tree, jo) == "rf_general"
    await jo.say("no, not at all")
    assert asked(tree, jo) == "signs"
    await jo.say("it eases")
    assert asked(tree, jo) == "severity"
    await jo.say("11")  # out of range
    assert tree.texts.reask_numbers in jo.text() and asked(tree, jo) == "severity"
    await jo.say("7/10")
    assert asked(tree, jo) == "duration"  # asked for severe pain only
    await jo.say("since yesterday")
    assert asked(tree, jo) == "change"
    await jo.say("hills")
    assert jo.last_turn is not None
    assert finished(tree, jo) == "rest"
    assert "hills and intervals" in jo.text()


async def test_cancel_mid_check_leaves_nothing_behind(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    kim = quick_bot.person("kim")
    await start(kim, tree)
    await kim.press("Abs (front of the belly)")
    old = kim.button("None of these")
    await kim.say("/cancel")
    assert kim.dialog is None
    await kim.press_payload(old.payload)
    assert kim.text().strip() == FOREIGN_BUTTON
    assert await rows(quick_bot, TriageReport) == []
    assert await rows(quick_bot, DialogState) == []


async def test_the_check_resumes_after_a_restart(
    sqlite_db: AsyncEngine, quick_bot: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    tree = content.triage
    lee = quick_bot.person("lee")
    await start(lee, tree)
    for label in ("Hip flexors (front of hip)", "None of these"):
        await lee.press(label)
    pending = lee.button("Dull or tight, eases moving")

    await sqlite_db.dispose()
    restarted = ChatHarness(build_engine(sqlite_db, content, clock=clock))
    again = restarted.person("lee")
    await again.press_payload(pending.payload)
    assert asked(tree, again) == "severity"
    for label in ("0–3", "Nothing new"):
        await again.press(label)
    assert again.last_turn is not None
    assert finished(tree, again) == "continue"
    [report] = await rows(restarted, TriageReport)
    assert report.area == "hip_flexors" and report.answers is not None
    assert report.answers["signs"] == "eases"


# --- entry points ------------------------------------------------------------------------------


async def test_soreness_words_start_the_check_before_card_names(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    tree = content.triage
    first_line = tree.texts.consent_question.split("\n")[0]
    for said in (
        "my abs are sore after yesterday's run",
        "sore core",
        "back hurts after running",
        "side stitch",
        "my sides ache when I do a side plank",
    ):
        person = quick_bot.person(f"p{abs(hash(said))}")
        await person.say(said)
        assert first_line in person.text(), said
        assert person.dialog == "triage"
    card_fan = quick_bot.person("card_fan")
    await card_fan.say("side plank")
    assert card_fan.last_turn is not None and card_fan.last_turn.replies[0].title == "Side plank"
    assert card_fan.dialog is None


def test_a_full_check_through_the_piped_terminal_chat(tmp_path: Path) -> None:
    # consent yes, abs, no warning signs, dull and easing, a typed 5 on the score question (a
    # score, never a button index: its buttons are not numbered), more distance → active
    # recovery; then /history.
    script = "/sore\n1\n1\n1\n1\n5\n1\n/history\n"
    env = {**os.environ, "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "piper"],
        input=script,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=True,
    )
    out = done.stdout
    assert "Take an active-recovery day" in out
    assert "10 % rule" in out
    assert out.index("When to get help") > out.index("What to do now")
    assert "· Abs (front of the belly) · Take an active-recovery day" in out
    assert done.stderr == ""
