"""/remind and /timezone through the real engine: buttons first, typed schedules, list,
change, pause, resume, delete; bad input changes nothing; the set-up survives a restart; and
the reminder's own buttons (snooze, skip this week, start session)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.engine import UNKNOWN_BUTTON
from bot.engine.events import Reply
from bot.storage.models import Outbox, ReminderRule, User
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender
from scheduler.sweep import Sweeper
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person

Sessions = async_sessionmaker[AsyncSession]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def stored_rules(bot: ChatHarness) -> list[ReminderRule]:
    async with bot.engine.sessions() as session:
        return list(await session.scalars(select(ReminderRule).order_by(ReminderRule.id)))


async def zone_of(bot: ChatHarness, name: str) -> str | None:
    async with bot.engine.sessions() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == name))
        return user.timezone if user else None


async def messages_to(bot: ChatHarness, chat: str) -> list[Outbox]:
    async with bot.engine.sessions() as session:
        found = await session.scalars(
            select(Outbox).where(Outbox.platform_chat_id == chat).order_by(Outbox.id)
        )
        return list(found)


async def test_set_up_with_buttons_asks_the_zone_first(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/remind")
    assert "time zone" in ann.text()
    assert "Berlin · Paris" in ann.labels()
    await ann.press("Berlin · Paris")
    assert "Europe/Berlin" in ann.text() and "Which days" in ann.text()
    await ann.press("Tue")
    assert "✓ Tue" in ann.labels()
    assert ann.last_turn is not None and ann.last_turn.replies[-1].intent.value == "edit"
    await ann.press("Thu")
    await ann.press("Next")
    assert "What time on Tue, Thu?" in ann.text()
    await ann.press("07:00")
    assert "Done: Tue, Thu at 07:00 (Europe/Berlin), next Tue 24 Nov 07:00." in ann.text()
    assert ann.dialog is None
    [rule] = await stored_rules(quick_bot)
    assert (rule.days, rule.minute_of_day, rule.timezone) == (0b0001010, 420, "Europe/Berlin")
    assert rule.next_due_at == utc(2026, 11, 24, 6, 0)


async def test_typed_schedules_and_friendly_errors(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/timezone Europe/Berln")
    assert "Did you mean" in ann.text() and "Nothing was changed" in ann.text()
    assert await zone_of(quick_bot, "ann") is None
    await ann.press("Europe/Berlin")
    assert await zone_of(quick_bot, "ann") == "Europe/Berlin"

    for bad, why in (
        ("/remind someday 7", "didn't understand “someday”"),
        ("/remind tue", "I need a time"),
        ("/remind 7:00", "at least one day"),
        ("/remind mon 25:00", "didn't understand “25:00”"),
    ):
        await ann.say(bad)
        assert why in ann.text(), bad
        assert "Nothing was changed" in ann.text()
    assert await stored_rules(quick_bot) == []

    await ann.say("/remind mon wed fri 18:30")
    assert "Done: Mon, Wed, Fri at 18:30" in ann.text()
    await ann.say("/remind weekdays 6:30am")
    await ann.say("/remind list")
    assert "1. Mon, Wed, Fri at 18:30 (Europe/Berlin), next Mon 23 Nov 18:30" in ann.text()
    assert "2. Weekdays at 06:30" in ann.text()


async def test_typed_schedule_without_a_zone_waits_for_one(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/remind tue thu 7:00")
    assert "Which time zone" in ann.text()
    await ann.say("Atlantis/Nowhere")  # typed inside the set-up
    assert "I don't know the time zone" in ann.text()
    assert ann.dialog == "remind" and await stored_rules(quick_bot) == []
    await ann.say("new york")
    assert "America/New_York" in ann.text()
    assert "Done: Tue, Thu at 07:00 (America/New_York)" in ann.text()
    [rule] = await stored_rules(quick_bot)
    assert rule.next_due_at == utc(2026, 11, 24, 12, 0)  # 07:00 EST


async def test_list_pause_resume_change_delete(quick_bot: ChatHarness, clock: FakeClock) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/timezone Europe/London")
    await ann.say("/remind tue thu 7:00")
    await ann.say("/remind sat 9:00")
    await ann.say("/remind pause 1")
    assert "Paused: Tue, Thu at 07:00" in ann.text()
    await ann.say("/remind list")
    assert "1. Tue, Thu at 07:00 (Europe/London), paused" in ann.text()
    first, second = await stored_rules(quick_bot)
    assert first.paused and first.next_due_at is None and not second.paused
    await ann.press("Resume 1")
    assert "Resumed" in ann.text()
    assert (await stored_rules(quick_bot))[0].next_due_at == utc(2026, 11, 24, 7, 0)

    await ann.say("/remind change 2")
    assert "✓ Sat" in ann.labels()
    await ann.press("✓ Sat")
    await ann.press("Sun")
    await ann.press("Next")
    await ann.say("8:15")
    assert "Changed: Sun at 08:15" in ann.text()
    await ann.say("/remind delete 1")
    assert "Deleted: Tue, Thu at 07:00" in ann.text()
    [left] = await stored_rules(quick_bot)
    assert (left.id, left.days, left.minute_of_day) == (second.id, 1 << 6, 495)

    await ann.say("/remind delete 9")
    assert "no reminder number 9" in ann.text()
    await ann.say("/remind pause")  # no number: all of them
    assert all(r.paused for r in await stored_rules(quick_bot))


async def test_someone_else_cannot_touch_my_reminders(quick_bot: ChatHarness) -> None:
    ann, eve = quick_bot.person("ann"), quick_bot.person("eve")
    await ann.say("/timezone Europe/Berlin")
    await ann.say("/remind tue 7:00")
    await ann.say("/remind list")
    delete = ann.button("Delete 1").payload
    await eve.press_payload(delete)
    assert "isn't yours" in eve.text()
    [rule] = await stored_rules(quick_bot)
    await eve.press_payload(f"rem_snooze:{rule.id}.{int(rule.next_due_at.timestamp())}")  # type: ignore[union-attr]
    assert "isn't yours" in eve.text()
    assert await messages_to(quick_bot, "dm:eve") == []


async def test_in_a_group_reminders_move_to_a_private_chat(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person("ann", group="club")
    await ann.say("/remind tue 7:00")
    assert "private chat" in ann.text()
    assert ann.button("Set up reminders").opens_private
    await ann.say("/timezone Europe/Berlin")
    assert ann.button("Set my time zone").opens_private
    assert await stored_rules(quick_bot) == [] and await zone_of(quick_bot, "ann") is None


async def test_the_set_up_resumes_after_a_restart(
    quick_bot: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    ann = quick_bot.person("ann")
    await ann.say("/timezone Asia/Tokyo")
    await ann.say("/remind")
    await ann.press("Mon")
    monday_done = ann.button("Next").payload
    # The process dies; a new one starts with a fresh engine on the same database.
    restarted = ChatHarness(build_engine(quick_bot.engine.sessions, content, clock=clock))
    again = restarted.person("ann")
    await again.press_payload(monday_done)
    assert "What time on Mon?" in again.text()
    await again.say("19:45")
    assert "Done: Mon at 19:45 (Asia/Tokyo)" in again.text()


class Inbox:
    """A transport that keeps what it delivers, per chat."""

    platform = "test"

    def __init__(self) -> None:
        self.delivered: list[OutboundMessage] = []

    async def deliver(self, message: OutboundMessage) -> Delivery:
        self.delivered.append(message)
        return Delivery(DeliveryStatus.SENT)


async def deliver_due(bot: ChatHarness, clock: FakeClock, content: ContentBundle) -> list[Reply]:
    """One sweep and one sender pass, as the background would do them at `clock.now`."""
    hooks = bot.engine.router.sweep_hooks
    await Sweeper(bot.engine.sessions, content, Settings(), hooks, clock=clock).run_once()
    inbox = Inbox()
    sender = Sender(bot.engine.sessions, inbox, pacing=PacingPolicy.unlimited(), clock=clock)
    await sender.drain_once()
    return [m.reply for m in inbox.delivered]


async def _due_reminder(
    bot: ChatHarness, ann: Person, clock: FakeClock, content: ContentBundle
) -> Reply:
    await ann.say("/timezone Europe/Berlin")
    await ann.say("/remind tue thu 7:00")
    clock.now = utc(2026, 11, 24, 6, 0, 5)  # Tue 07:00 Berlin
    [reminder] = await deliver_due(bot, clock, content)
    return reminder


async def test_snooze_once_then_skip_the_week(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = bot.person("ann")
    reminder = await _due_reminder(bot, ann, clock, content)
    snooze = next(b for b in reminder.flat_buttons() if b.label == "Snooze 1 h")
    skip = next(b for b in reminder.flat_buttons() if b.label == "Skip this week")

    clock.advance(minutes=2)
    await ann.press_payload(snooze.payload)
    assert "I'll remind you again at 08:02" in ann.text()
    await ann.press_payload(snooze.payload)
    assert "already snoozed" in ann.text()
    queued = await messages_to(bot, "dm:ann")
    assert [r.status for r in queued] == ["sent", "pending"]
    assert queued[1].not_before == clock.now + timedelta(hours=1)
    assert await deliver_due(bot, clock, content) == []  # not before the hour is up
    clock.advance(hours=1)
    [snoozed] = await deliver_due(bot, clock, content)
    assert "Snooze is over" in snoozed.text
    assert [b.label for b in snoozed.flat_buttons()] == ["Start session", "Skip this week"]

    await ann.press_payload(skip.payload)
    assert "no more reminders this week; next Tue 01 Dec 07:00" in ann.text()
    clock.now = utc(2026, 11, 26, 6, 0, 5)  # Thursday 07:00: skipped
    assert await deliver_due(bot, clock, content) == []
    clock.now = utc(2026, 12, 1, 6, 0, 5)  # next Tuesday
    [next_week] = await deliver_due(bot, clock, content)
    assert "Tuesday 07:00" in next_week.text


async def test_skipping_drops_a_pending_snooze(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person("ann")
    reminder = await _due_reminder(quick_bot, ann, clock, content)
    by_label = {b.label: b.payload for b in reminder.flat_buttons()}
    await ann.press_payload(by_label["Snooze 1 h"])
    await ann.press_payload(by_label["Skip this week"])
    clock.advance(hours=2)
    assert await deliver_due(quick_bot, clock, content) == []


async def test_paused_reminders_stay_quiet_until_resumed(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = bot.person("ann")
    reminder = await _due_reminder(bot, ann, clock, content)
    await ann.say("/remind pause")
    snooze = next(b for b in reminder.flat_buttons() if b.label == "Snooze 1 h")
    await ann.press_payload(snooze.payload)
    assert "paused" in ann.text()
    clock.now = utc(2026, 11, 26, 6, 0, 5)
    assert await deliver_due(bot, clock, content) == []
    await ann.say("/remind resume")
    assert "next Tue 01 Dec 07:00" in ann.text()


async def test_start_session_is_always_answered(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person("ann")
    await ann.press_payload("session:start")
    assert UNKNOWN_BUTTON not in ann.text()
    assert ann.text().strip()
