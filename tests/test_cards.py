"""Exercise cards in the chat: the list, one card, misspellings and removed cards."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from handlers.cards.views import BUTTONS_PER_ROW
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person


def _title(person: Person) -> str | None:
    assert person.last_turn is not None
    return person.last_turn.replies[0].title


async def test_cards_lists_every_card_as_buttons(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("/cards")
    assert ann.last_turn is not None
    [reply] = ann.last_turn.replies
    assert reply.text == content.texts.cards_intro
    assert ann.labels() == sorted(card.name for card in content.cards.values())
    assert {b.payload for b in reply.flat_buttons()} == {f"card:{i}" for i in content.cards}
    assert all(1 <= len(row) <= BUTTONS_PER_ROW for row in reply.buttons)


async def test_every_card_button_shows_its_card(bot: ChatHarness, content: ContentBundle) -> None:
    ann = bot.person()  # on each database
    for card in content.cards.values():
        await ann.say("/cards")
        await ann.press(card.name)
        assert _title(ann) == card.name
        assert card.steps[0] in ann.text()
        assert ann.labels() == ["Show easier", "Show harder", "All cards"]


async def test_card_by_name(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = quick_bot.person()
    await ann.say("/card plank")
    plank = content.cards["plank"]
    assert _title(ann) == "Plank"
    text = ann.text()
    assert plank.dose.describe() in text
    assert f"1. {plank.steps[0]}" in text
    assert f"**Easier:** {plank.easier.name}" in text
    assert f"**Harder:** {plank.harder.name}" in text
    await ann.press("All cards")
    assert "Side plank" in ann.labels()


async def test_card_name_in_quotes_and_any_case(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say('/card "side plank"')
    assert _title(ann) == "Side plank"
    await ann.say("/card DEAD-BUG")
    assert _title(ann) == "Dead bug"


async def test_misspelled_card_gets_did_you_mean_with_a_button(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("/card plnk")
    assert "Did you mean **Plank**" in ann.text()
    assert "Plank" in ann.labels()
    await ann.press("Plank")
    assert _title(ann) == "Plank"


async def test_unknown_card_offers_the_list(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = quick_bot.person()
    await ann.say("/card zzzqqq")
    assert ann.text().strip() == content.texts.card_not_found
    assert ann.labels() == ["All cards"]


async def test_card_without_a_name_lists_the_cards(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("/card")
    assert ann.text().strip() == content.texts.cards_intro
    assert len(ann.labels()) == len(content.cards)


async def test_button_of_a_removed_card_shows_the_list(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    ann = ChatHarness(build_engine(sqlite_db, content, clock=clock)).person()
    await ann.say("/card plank")
    await ann.say("/cards")
    old_plank = ann.button("Plank")
    # A club's content folder without the plank; the old message's button is still there.
    without_plank = dataclasses.replace(
        content, cards={k: v for k, v in content.cards.items() if k != "plank"}, _names={}
    )
    club = ChatHarness(build_engine(sqlite_db, without_plank, clock=clock)).person()
    await club.press_payload(old_plank.payload)
    assert club.text().strip() == content.texts.cards_intro
    assert "Plank" not in club.labels()
    assert len(club.labels()) == len(content.cards) - 1
    await club.say("plank")  # nor does the plain word find it any more
    assert _title(club) is None
    await club.press_payload("card:")
    assert club.text().strip() == content.texts.cards_intro
