"""Check-ins after a triage, through the real engine, sweep and sender: the offer, the
question a day or two later, and what better / same / worse do."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.storage.models import CheckIn, TriageReport, User
from handlers.triage import checkin_store as checkins
from tests.harness import ChatHarness, FakeClock, Person
from tests.test_scheduler_reminders import deliver_due


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def stored(bot: ChatHarness) -> list[CheckIn]:
    async with bot.engine.sessions() as session:
        return list(await session.scalars(select(CheckIn).order_by(CheckIn.id)))


async def own_report(bot: ChatHarness, name: str) -> str:
    """A stored soreness check of this person (who has talked to the bot): its id is the
    episode a check-in offer names."""
    async with bot.engine.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.platform_user_id == name))
        assert user is not None
        report = TriageReport(user_id=user.id, outcome="active", rule="r", area="abs", answers={})
        session.add(report)
        await session.flush()
        return str(report.id)


async def accept_offer(ann: Person, bot: ChatHarness, ref: str, label: str) -> None:
    offer = checkins.offer_reply(bot.engine.content.reminders, ref)
    await ann.press_payload(next(b.payload for b in offer.flat_buttons() if b.label == label))


async def question_after(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle, hours: int
) -> Reply:
    clock.advance(hours=hours)
    [question] = await deliver_due(bot, clock, content)
    assert question.text == content.reminders.checkin_question
    return question


def press(reply: Reply, label: str) -> str:
    return next(b.payload for b in reply.flat_buttons() if b.label == label)


async def test_offer_then_better_closes_the_episode(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = bot.person("ann")
    await ann.say("/timezone Europe/Berlin")
    clock.now = utc(2026, 11, 23, 9)  # Monday 10:00 Berlin
    ref = await own_report(bot, "ann")
    await accept_offer(ann, bot, ref, "In 2 days")
    assert "I'll check in on Wednesday at about 10:00" in ann.text()
    [row] = await stored(bot)
    assert (row.episode_ref, row.round, row.status) == (ref, 1, checkins.SCHEDULED)

    assert await deliver_due(bot, clock, content) == []  # not yet
    question = await question_after(bot, clock, content, 48)
    await ann.press_payload(press(question, "Better"))
    assert ann.text().strip() == content.reminders.checkin_better
    [row] = await stored(bot)
    assert (row.status, row.answer) == (checkins.ANSWERED, "better")
    await ann.press_payload(press(question, "Worse"))  # an old button, pressed later
    assert "already answered" in ann.text()
    assert ann.dialog is None


async def test_same_twice_ends_with_advice_to_get_it_checked(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/timezone Europe/Berlin")
    await accept_offer(ann, quick_bot, await own_report(quick_bot, "ann"), "Tomorrow")
    first = await question_after(quick_bot, clock, content, 24)
    await ann.press_payload(press(first, "Same"))
    assert ann.text().strip() == content.reminders.checkin_same
    second = await question_after(quick_bot, clock, content, 48)
    await ann.press_payload(press(second, "Same"))
    assert ann.text().strip() == content.reminders.checkin_same_again
    assert [(c.round, c.answer) for c in await stored(quick_bot)] == [(1, "same"), (2, "same")]


async def test_worse_runs_the_triage_again_with_the_area_known(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/timezone Europe/Berlin")
    await accept_offer(ann, quick_bot, await own_report(quick_bot, "ann"), "Tomorrow")
    question = await question_after(quick_bot, clock, content, 24)
    await ann.press_payload(press(question, "Worse"))
    assert content.reminders.checkin_worse in ann.text()
    assert ann.dialog == "triage"  # safety questions first, as every triage
    assert [c.answer for c in await stored(quick_bot)] == ["worse"]


async def test_without_a_zone_the_offer_asks_for_one_and_others_cannot_answer(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann, eve = quick_bot.person("ann"), quick_bot.person("eve")
    clock.now = utc(2026, 11, 23, 21)  # 21:00 UTC; 24 h later lands in quiet hours
    await ann.say("/start")
    ref = await own_report(quick_bot, "ann")
    await accept_offer(ann, quick_bot, ref, "Tomorrow")
    assert "(UTC)" in ann.text() and "Which time zone" in ann.text()
    [row] = await stored(quick_bot)
    assert row.due_at == utc(2026, 11, 24, 21)  # 21:00 UTC is outside quiet hours
    await ann.press("Tokyo")  # 06:00 in Tokyo then: the sweep defers it to 07:00
    clock.advance(hours=24)
    assert await deliver_due(quick_bot, clock, content) == []
    clock.now = utc(2026, 11, 24, 22, 0, 5)  # 07:00 Tokyo
    [question] = await deliver_due(quick_bot, clock, content)
    await eve.press_payload(press(question, "Better"))
    assert "isn't one of yours" in eve.text()
    assert (await stored(quick_bot))[0].status == checkins.QUEUED
    await ann.press_payload(f"ci_offer:{ref}.no")
    assert "no check-in" in ann.text()
    await ann.press_payload("ci_offer:bad/ref.24")
    assert "don't recognise" in ann.text()


async def test_an_offer_naming_someone_elses_report_or_none_changes_nothing(
    quick_bot: ChatHarness,
) -> None:
    """Button payloads can be forged: an offer is accepted only for the presser's own report."""
    ann, eve = quick_bot.person("ann"), quick_bot.person("eve")
    await ann.say("/start")
    await eve.say("/timezone Europe/Berlin")
    anns = await own_report(quick_bot, "ann")
    for forged in (f"ci_offer:{anns}.24", "ci_offer:999999.48", "ci_offer:r9.24"):
        await eve.press_payload(forged)
        assert "isn't one of yours" in eve.text()
    assert await stored(quick_bot) == []
    await accept_offer(ann, quick_bot, anns, "Tomorrow")
    assert [c.episode_ref for c in await stored(quick_bot)] == [anns]
