"""The reminder set-up as people use it: the same reminder (days and time) twice is refused
with a pointer to the one there is, and days typed at the days question join the tapped ones."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import ReminderRule
from tests.harness import ChatHarness, Person


async def _rules(bot: ChatHarness) -> list[tuple[int, int]]:
    async with bot.engine.sessions() as session:
        found = await session.scalars(select(ReminderRule).order_by(ReminderRule.id))
        return [(r.days, r.minute_of_day) for r in found]


async def _with_zone(bot: ChatHarness) -> Person:
    ann = bot.person("ann")
    await ann.say("/timezone Europe/Berlin")
    return ann


async def test_the_same_reminder_twice_is_refused_with_a_pointer(quick_bot: ChatHarness) -> None:
    ann = await _with_zone(quick_bot)
    await ann.say("/remind every day 7:00")
    assert "Done: Every day at 07:00" in ann.text()
    await ann.say("/remind every day 7:00")
    assert "You already have that reminder: number 1, Every day at 07:00" in ann.text()
    assert "Nothing was changed" in ann.text() and ann.labels() == ["My reminders"]
    assert await _rules(quick_bot) == [(0b1111111, 420)]

    # Through the buttons too, and written another way ("daily", "7am").
    await ann.say("/remind")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        await ann.press(day)
    await ann.press("Next")
    await ann.say("7am")
    assert "You already have that reminder" in ann.text()
    await ann.say("/remind daily 7am")
    assert "You already have that reminder" in ann.text()
    assert await _rules(quick_bot) == [(0b1111111, 420)]

    # Another time is another reminder; changing it to the first one is refused as well.
    await ann.say("/remind every day 18:30")
    assert await _rules(quick_bot) == [(0b1111111, 420), (0b1111111, 1110)]
    await ann.say("/remind change 2")
    await ann.say("7:00")
    assert "You already have that reminder: number 1" in ann.text()
    assert await _rules(quick_bot) == [(0b1111111, 420), (0b1111111, 1110)]
    # Changing a reminder to what it already is stays allowed.
    await ann.say("/remind change 2")
    await ann.say("18:30")
    assert "Changed: Every day at 18:30" in ann.text()


async def test_the_same_reminder_waiting_for_a_zone_is_refused_once_the_zone_is_set(
    quick_bot: ChatHarness,
) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/remind tue 7:00")
    await ann.press("Berlin · Paris")
    assert "Done: Tue at 07:00" in ann.text()
    await ann.say("/remind tue 07:00")
    assert "You already have that reminder: number 1" in ann.text()
    assert await _rules(quick_bot) == [(0b0000010, 420)]


async def test_typed_days_add_to_the_tapped_ones(quick_bot: ChatHarness) -> None:
    ann = await _with_zone(quick_bot)
    await ann.say("/remind")
    await ann.press("Wed")
    await ann.say("Thu")
    assert "What time on Wed, Thu?" in ann.text()  # not "on Thu"
    await ann.say("sat 7:15")  # a day typed with the time joins them too
    assert "Done: Wed, Thu, Sat at 07:15" in ann.text()
    assert await _rules(quick_bot) == [(0b0101100, 435)]


async def test_days_and_a_time_typed_at_the_days_question_keep_the_tapped_days(
    quick_bot: ChatHarness,
) -> None:
    ann = await _with_zone(quick_bot)
    await ann.say("/remind")
    await ann.press("Mon")
    await ann.say("thu 18:00")
    assert "Done: Mon, Thu at 18:00" in ann.text()
