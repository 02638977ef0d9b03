"""Button payloads: their encoding, and stale or forged presses that must change nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine import payloads
from bot.engine.engine import FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON
from bot.engine.events import MAX_PAYLOAD_BYTES, Button
from tests.echo_dialog import dialog_rows, echo_bot, said
from tests.harness import ChatHarness, FakeClock, Person


@pytest.fixture
def echo(db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> ChatHarness:
    return echo_bot(db, content, clock)


# --- encoding ---------------------------------------------------------------------------------

_CHOICE = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:+-",
    min_size=1,
    max_size=40,
)
_ACTION_ARG = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:+-.", max_size=60
)
_ACTION_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,23}", fullmatch=True)


@given(choice=_CHOICE, step=st.integers(min_value=0, max_value=999_999))
def test_dialog_payload_round_trips_within_the_telegram_limit(choice: str, step: int) -> None:
    nonce = payloads.new_nonce()
    payload = payloads.dialog_payload(nonce, step, choice)
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    assert payloads.parse(payload) == payloads.DialogPayload(nonce, step, choice)


@pytest.mark.parametrize("name", ["a", "card", "x" * 24])
def test_action_payloads_are_made_exactly_up_to_the_limit(name: str) -> None:
    for length in range(80):
        arg = ("ab-:+._9" * 10)[:length]
        fits = len(name) + 1 + length <= MAX_PAYLOAD_BYTES
        if not fits:
            with pytest.raises(ValueError):
                payloads.action_payload(name, arg)
            assert payloads.parse(f"{name}:{arg}") is None
            continue
        payload = payloads.action_payload(name, arg)
        Button("label", payload)  # the platforms' limit holds
        assert payloads.parse(payload) == payloads.ActionPayload(name, arg)


@given(name=_ACTION_NAME, arg=_ACTION_ARG)
def test_action_payload_round_trips(name: str, arg: str) -> None:
    try:
        payload = payloads.action_payload(name, arg)
    except ValueError:
        assert len(f"{name}:{arg}") > MAX_PAYLOAD_BYTES
        return
    assert payloads.parse(payload) == payloads.ActionPayload(name, arg)


def test_nonces_are_random_and_fit_the_pattern() -> None:
    nonces = {payloads.new_nonce() for _ in range(200)}
    assert len(nonces) == 200
    for nonce in nonces:
        assert payloads.parse(payloads.dialog_payload(nonce, 0, "x")) is not None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "garbage",
        "~short.1.x",
        "~abcdefgh.x.yes",
        "~abcdefgh.1.",
        "~abcdefgh.1.yes please",
        "~abcdefgh.1.yes\n",
        "card:plank\n",
        "Card:plank",
        ":plank",
        "card:plank; DROP TABLE users",
        "card:" + "a" * 80,
        "~abcdefgh.1." + "a" * 41,
        "~abcdefgh.1234567.yes",
        "~abcdefgh.\u0661.yes",  # an Arabic-Indic digit one
        "ca\u0301rd:x",
        "card:pl\u00e4nk",
    ],
)
def test_parse_refuses_what_we_never_make(raw: str) -> None:
    assert payloads.parse(raw) is None


def test_making_an_invalid_payload_raises() -> None:
    with pytest.raises(ValueError):
        payloads.dialog_payload("abcdefgh", 0, "no spaces")
    with pytest.raises(ValueError):
        payloads.action_payload("Card", "x")
    with pytest.raises(ValueError):
        payloads.action_payload("card", "x" * 60)
    with pytest.raises(ValueError, match="over 64 bytes"):
        Button("label", "x" * 65)
    with pytest.raises(ValueError, match="empty"):
        Button("  ", "card:plank")


# --- stale and forged presses change nothing ----------------------------------------------------


async def _mid_dialog(person: Person) -> None:
    await person.say("/echo")
    await person.press("Red")
    await person.say("typed")


async def _refused(db: AsyncEngine, person: Person, payload: str, answer: str) -> None:
    before = await dialog_rows(db)
    await person.press_payload(payload)
    assert person.text().strip() == answer
    assert await dialog_rows(db) == before


async def test_button_of_an_ended_dialog(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    old = ann.button("Blue").payload
    await ann.press("Stop")
    await _refused(db, ann, old, FOREIGN_BUTTON)
    assert ann.dialog is None
    # An ended dialog's button stays dead when a new dialog has started.
    await _mid_dialog(ann)
    await _refused(db, ann, old, FOREIGN_BUTTON)
    assert ann.dialog == "echo"


async def test_another_persons_button_in_a_group(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person("ann", group="club")
    bob = echo.person("bob", group="club")
    await _mid_dialog(ann)
    anns = ann.button("Blue").payload
    await _refused(db, bob, anns, FOREIGN_BUTTON)  # bob has no dialog
    await _mid_dialog(bob)
    await _refused(db, bob, anns, FOREIGN_BUTTON)  # bob has his own dialog
    assert sorted(await said(db)) == [["red", "typed"], ["red", "typed"]]
    await ann.press_payload(anns)  # still fine for ann herself
    assert "Echo 3: blue" in ann.text()


async def test_button_of_an_earlier_question(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    first = ann.button("Blue").payload
    await ann.press("Red")
    before = await dialog_rows(db)
    await ann.press_payload(first)
    # Refused as an answer; the open question is asked again, with buttons that work.
    assert ann.last_turn is not None and ann.last_turn.asked_again
    assert ann.text().strip() == "Echo 1: red"
    assert ann.labels() == ["Red", "Blue", "Stop"]
    assert await dialog_rows(db) == before
    assert ann.dialog == "echo"
    assert await said(db) == [["red"]]


FORGERIES = [
    "garbage",
    "",
    "~zzzzzzzz.999999.yes",  # well-formed, but no such dialog
    "card:plank" + "x" * 300,  # over-long
    "\x00\xff" * 40,
    "nosuch:action",  # well-formed, but nobody registered it
    "drop_table:users",
]


async def test_garbage_and_unknown_actions(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await _mid_dialog(ann)
    for raw in FORGERIES:
        expected = FOREIGN_BUTTON if raw.startswith("~") else UNKNOWN_BUTTON
        await _refused(db, ann, raw, expected)
        assert ann.dialog == "echo", raw  # still open, and the turn says so


async def test_forged_step_with_the_right_nonce(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await _mid_dialog(ann)
    nonce = payloads.parse(ann.button("Red").payload)
    assert isinstance(nonce, payloads.DialogPayload)
    ahead = payloads.dialog_payload(nonce.nonce, nonce.step + 5, "red")
    await _refused(db, ann, ahead, OLD_BUTTON)


async def test_a_refused_press_leaves_no_trace(
    db: AsyncEngine, echo: ChatHarness, clock: FakeClock
) -> None:
    ann = echo.person()
    await _mid_dialog(ann)
    clock.advance(hours=1)  # a write of "now" anywhere in the row would show
    await _refused(db, ann, "garbage", UNKNOWN_BUTTON)
    await _refused(db, ann, "~zzzzzzzz.1.yes", FOREIGN_BUTTON)
    # A stateless command beside the dialog leaves the dialog row as it was too.
    before = await dialog_rows(db)
    await ann.say("/card plank")
    assert await dialog_rows(db) == before
