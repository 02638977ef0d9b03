"""The red-flag screen: every red-flag phrase in content is caught in every dialog state (each
registered dialog open, before consent, in a group), and its negated form is not."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.content.bundle import ContentBundle
from bot.content.language_schema import Language
from bot.engine import dialog_store, payloads
from bot.engine.context import ActiveDialog
from bot.engine.dialog_store import DialogKey
from bot.engine.events import ReplyIntent
from bot.engine.understanding import understand
from bot.storage.models import Chat, User
from tests.harness import ChatHarness, Person
from tests.test_dialog_state_models import EXAMPLES


def _phrases(language: Language) -> list[tuple[str, str, str]]:
    return [(f.id, f.disposition, p) for f in language.red_flags.flags for p in f.phrases]


def _titles(content: ContentBundle) -> dict[str, str]:
    texts = content.triage.texts
    return {"urgent": texts.screen_title_urgent, "same_day": texts.screen_title_same_day}


def test_every_phrase_is_read_and_its_negation_is_not(content: ContentBundle) -> None:
    language = content.language
    missed, negated = [], []
    for flag_id, _, phrase in _phrases(language):
        if flag_id not in understand(phrase, language).red_flags:
            missed.append(phrase)
        for denial in (f"I don't have {phrase}", f"no {phrase}", f"never {phrase}"):
            if understand(denial, language).red_flags:
                negated.append(denial)
    assert missed == [] and negated == []


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("no fever but my chest is tight", {"chest"}),
        ("not numb, but I can't pee", {"bladder"}),
        ("I'm not sure if it's chest pain", {"chest"}),  # uncertainty counts as possible
        ("no fever, no chills, not numb", set()),
        ("nope, no chest pain and no dizziness", set()),
        ("feaver and chils since this morning", {"fever"}),
        ("my pee is brown after the marathon", {"urine"}),
        ("I fell asleep on the sofa after my run", set()),
        ("I hit the wall at 30k", set()),
        ("tearing pain in my side", {"sudden_severe"}),
        ("the pain wakes me at night and I'm losing weight", {"night_weight"}),
    ],
)
def test_sentences(content: ContentBundle, text: str, flags: set[str]) -> None:
    assert set(understand(text, content.language).red_flags) == flags


async def _open(person: Person, kind: str, harness: ChatHarness) -> None:
    """Open a dialog of `kind` for this person (a row as its feature would leave it)."""
    await person.say("/cancel")  # creates the person and the chat, and closes any dialog
    engine = harness.engine
    async with engine.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.platform_user_id == person.user))
        chat = await session.scalar(
            select(Chat).where(Chat.platform_chat_id == person.place.chat_id)
        )
        assert user is not None and chat is not None
        key = DialogKey(user.id, chat.id, person.thread)
        # A typed dialog keeps its model (the round-trip test's example of it); others a dict.
        data = EXAMPLES[kind].model_copy(deep=True) if kind in EXAMPLES else {}
        dialog = ActiveDialog(kind, payloads.new_nonce(), 0, data)
        await dialog_store.save(session, key, None, dialog, engine.clock())


def _states(harness: ChatHarness) -> list[str]:
    return ["none", "before_consent", "group", *sorted(harness.engine.router.dialogs)]


async def _enter(person: Person, state: str, harness: ChatHarness) -> None:
    if state == "before_consent":
        await person.say("/sore")
    elif state not in ("none", "group"):
        await _open(person, state, harness)


async def test_every_phrase_in_every_state(quick_bot: ChatHarness, content: ContentBundle) -> None:
    """Each phrase through the real engine in each state; one negated phrase per flag too
    (every negated phrase is checked above, without the engine, to keep this quick)."""
    titles = _titles(content)
    pointer = content.triage.texts.screen_group_pointer
    failures: list[str] = []
    for state in _states(quick_bot):
        group = "club" if state == "group" else None
        person = quick_bot.person(f"p-{state}", group=group)
        await _enter(person, state, quick_bot)
        negated_flags: set[str] = set()
        for flag_id, disposition, phrase in _phrases(content.language):
            if person.dialog != state and state not in ("none", "group"):
                await _enter(person, state, quick_bot)  # the triage dialog ends at advice
            await person.say(phrase)
            turn = person.last_turn
            assert turn is not None
            first = turn.replies[0]
            if first.title != titles[disposition]:
                failures.append(f"{state}: {phrase!r} got {first.title!r}")
                continue
            if state == "group":
                named = re.search(rf"\b{re.escape(phrase)}\b", turn.replies[1].text, re.I)
                ok = first.intent == ReplyIntent.PRIVATE and turn.replies[1].text == pointer
                if not ok or named:
                    failures.append(f"group: {phrase!r} not private")
            if flag_id in negated_flags:
                continue
            negated_flags.add(flag_id)
            denied = quick_bot.person(f"d-{state}-{flag_id}", group=group)
            await _enter(denied, state, quick_bot)
            await denied.say(f"I don't have {phrase}")
            assert denied.last_turn is not None
            if any(r.title in titles.values() for r in denied.last_turn.replies):
                failures.append(f"{state}: negated {phrase!r} was screened")
    assert failures == []


async def test_continue_button_starts_the_check(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("my chest is tight after my run")
    assert ann.last_turn is not None
    assert ann.last_turn.replies[0].title == content.triage.texts.screen_title_urgent
    await ann.press(content.triage.texts.screen_continue_button)
    assert ann.dialog == "triage"
