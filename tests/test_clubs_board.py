"""The club's opt-in distance board: members opt in per club with its buttons, the board shows
display name, distance and runs only (never a soreness check), and opting out removes them."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.content.bundle import ContentBundle
from bot.storage.models import ClubBoardMember
from tests.harness import ChatHarness, FakeClock, Person
from tests.triage_driver import run_triage

# FakeClock starts on Monday 23 November 2026, 09:00 UTC.


async def _log(person: Person, text: str) -> None:
    await person.say(text)
    await person.press("Save")


async def _members(bot: ChatHarness) -> int:
    async with bot.engine.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ClubBoardMember)) or 0)


async def test_board_is_opt_in_per_club_and_shows_no_health(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    texts = content.clubs
    ann, bob = bot.person("ann"), bot.person("bob")
    await _log(ann, "ran 12 km easy")
    await _log(bob, "ran 20 km long")
    clock.advance(days=-7)
    await _log(ann, "ran 30 km long")  # last week: not on this week's board
    clock.advance(days=7, hours=1)
    await run_triage(ann, content.triage, {"area": "abs", "signs": "sharp", "severity": "moderate"})

    ann_club = bot.person("ann", group="harriers")
    bob_club = bot.person("bob", group="harriers")
    await ann_club.say("/board")
    assert ann_club.text().strip() == texts.board_empty.strip()
    await ann_club.press(texts.board_join_button)
    assert "You're on this club's distance board" in ann_club.text()
    await ann_club.say("/board")
    board = ann_club.text()
    assert "1. Ann: 12.0 km (1 run)" in board and "Bob" not in board  # bob did not opt in
    for health in ("sore", "rest", "strain", "Abs", "check"):
        assert health not in board, health

    # The button under Ann's board acts for whoever presses it.
    await bob_club.press_payload(ann_club.button(texts.board_join_button).payload)
    await ann_club.say("/board")
    assert "1. Bob: 20.0 km (1 run)\n2. Ann: 12.0 km (1 run)" in ann_club.text()

    other = bot.person("ann", group="striders")  # another club: opting in there is separate
    await other.say("/board")
    assert other.text().strip() == texts.board_empty.strip()

    await ann.say("/privacy")  # the privacy centre lists runs and the board opt-in
    centre = ann.text()
    assert "2 runs in your training log" in centre and "1 club distance board you joined" in centre

    await ann_club.press(texts.board_leave_button)
    assert ann_club.text().strip() == texts.board_left
    await ann_club.say("/board")
    assert "Ann" not in ann_club.text() and "Bob: 20.0 km" in ann_club.text()
    assert await _members(bot) == 1


async def test_board_only_in_a_group(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = quick_bot.person()
    await ann.say("/board")
    assert ann.text().strip() == content.clubs.not_in_group
