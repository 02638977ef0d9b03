"""The sweep on both databases: due rules become outbox rows exactly once, the misfire policy
after an outage, daylight-saving days, quiet hours, unreachable people, check-ins, and the
features' sweep hooks (the scheduler itself imports none of them)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import scheduler
from bot.app import build_router
from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.engine.feature import DueWork
from bot.storage.models import Chat, CheckIn, Outbox, ReminderRule, User
from handlers.reminders import rules
from handlers.reminders import sweep as reminder_sweep
from handlers.triage import checkin_store as checkins
from scheduler import outbox
from scheduler.occurrences import WeeklyTime, zone
from scheduler.quiet import QuietHours
from scheduler.sweep import Sweeper
from tests.harness import FakeClock

Sessions = async_sessionmaker[AsyncSession]
EVERY_DAY = 0b1111111
SUNDAY = 1 << 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def person(sessions: Sessions, name: str, tz: str | None = "Europe/Berlin") -> int:
    async with sessions() as session, session.begin():
        user = User(platform="test", platform_user_id=name, timezone=tz)
        chat = Chat(platform="test", platform_chat_id=f"dm:{name}", is_private=True)
        session.add_all([user, chat])
        await session.flush()
        return user.id


async def add_rule(
    sessions: Sessions, user_id: int, days: int, minute: int, now: datetime
) -> ReminderRule:
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None and user.timezone is not None
        chat = await session.scalar(
            select(Chat).where(Chat.platform_chat_id == f"dm:{user.platform_user_id}")
        )
        assert chat is not None
        return await rules.create_rule(
            session, user, chat, WeeklyTime(days, minute), user.timezone, now
        )


async def outbox_rows(sessions: Sessions) -> list[Outbox]:
    async with sessions() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.id)))


async def next_due(sessions: Sessions, rule_id: int) -> datetime | None:
    async with sessions() as session:
        rule = await session.get(ReminderRule, rule_id)
        assert rule is not None
        return rule.next_due_at


def sweeper(sessions: Sessions, content: ContentBundle, clock: FakeClock) -> Sweeper:
    """The sweep with the shipped features' hooks (reminders, check-ins, club posts)."""
    return Sweeper(sessions, content, Settings(), build_router().sweep_hooks, clock=clock)


async def test_a_due_rule_becomes_one_outbox_row_and_moves_on(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 23, 12)  # Monday
    ann = await person(sessions, "ann")
    rule = await add_rule(sessions, ann, 1 << 1 | 1 << 3, 7 * 60, clock.now)  # Tue, Thu 07:00
    assert rule.next_due_at == utc(2026, 11, 24, 6, 0)  # Tue 07:00 CET
    sweep = sweeper(sessions, content, clock)

    assert await sweep.run_once() == 0
    clock.now = utc(2026, 11, 24, 6, 0, 12)
    result = await sweep.run_once()
    assert result == 1
    [row] = await outbox_rows(sessions)
    reply = Reply.from_dict(row.reply)
    assert "Tuesday 07:00" in reply.text
    assert [b.label for b in reply.flat_buttons()] == [
        "Start session",
        "Snooze 1 h",
        "Skip this week",
    ]
    assert reply.flat_buttons()[0].payload == "session:start"
    assert (row.platform, row.platform_chat_id, row.status) == ("test", "dm:ann", "pending")
    assert row.user_id == ann
    assert row.expires_at == utc(2026, 11, 24, 7, 0)  # one hour of grace
    assert await next_due(sessions, rule.id) == utc(2026, 11, 26, 6, 0)  # Thursday

    # A sweep that crashed after writing but is re-run for the same occurrence (here: the
    # rule is put back as if the advance had been lost) cannot write a second message.
    async with sessions() as session, session.begin():
        await session.execute(
            update(ReminderRule)
            .where(ReminderRule.id == rule.id)
            .values(next_due_at=utc(2026, 11, 24, 6, 0))
        )
    assert await sweep.run_once() == 0
    assert len(await outbox_rows(sessions)) == 1


async def test_three_day_outage_sends_one_late_reminder_not_a_burst(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 20, 12)
    ann = await person(sessions, "ann")
    bob = await person(sessions, "bob")
    ann_rule = await add_rule(sessions, ann, EVERY_DAY, 8 * 60 + 30, clock.now)  # 08:30
    bob_rule = await add_rule(sessions, bob, EVERY_DAY, 7 * 60, clock.now)  # 07:00
    # Down from Friday noon until Monday 08:45 local: three days of missed occurrences.
    clock.now = utc(2026, 11, 23, 7, 45)
    result = await sweeper(sessions, content, clock).run_once()
    rows = await outbox_rows(sessions)
    # Ann's 08:30 today is 15 minutes late: sent. Bob's 07:00 is 1 h 45 min late: skipped.
    assert [r.user_id for r in rows] == [ann]
    assert result == 1
    assert "Monday 08:30" in Reply.from_dict(rows[0].reply).text
    assert await next_due(sessions, ann_rule.id) == utc(2026, 11, 24, 7, 30)
    assert await next_due(sessions, bob_rule.id) == utc(2026, 11, 24, 6, 0)


async def test_sweep_on_both_daylight_saving_days(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 10, 20)
    ann = await person(sessions, "ann")
    rule = await add_rule(sessions, ann, SUNDAY, 2 * 60 + 30, clock.now)
    sweep = sweeper(sessions, content, clock)
    # Fall back, 2026-10-25: one reminder at the first 02:30, none at the repeated 02:30.
    for now in (utc(2026, 10, 25, 0, 30, 5), utc(2026, 10, 25, 1, 30, 5)):
        clock.now = now
        await sweep.run_once()
    assert len(await outbox_rows(sessions)) == 1
    # Spring forward, 2027-03-28: 02:30 does not exist; the reminder comes at 03:00 CEST.
    async with sessions() as session, session.begin():
        stored = await session.get(ReminderRule, rule.id)
        assert stored is not None
        rules.reschedule(stored, utc(2027, 3, 27))
        assert stored.next_due_at == utc(2027, 3, 28, 1, 0)
    clock.now = utc(2027, 3, 28, 0, 59)
    assert await sweep.run_once() == 0
    clock.now = utc(2027, 3, 28, 1, 0, 3)
    assert await sweep.run_once() == 1


async def test_quiet_hours_for_reminders(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 22, 12)
    early, late, lateish = [await person(sessions, n) for n in ("early", "late", "lateish")]
    await add_rule(sessions, early, EVERY_DAY, 6 * 60 + 30, clock.now)  # chosen in quiet hours
    await add_rule(sessions, late, EVERY_DAY, 21 * 60 + 30, clock.now)
    await add_rule(sessions, lateish, EVERY_DAY, 21 * 60 + 58, clock.now)
    sweep = sweeper(sessions, content, clock)
    clock.now = utc(2026, 11, 23, 5, 30, 5)  # 06:30 local: the person chose it, so it goes
    await sweep.run_once()
    assert [r.user_id for r in await outbox_rows(sessions)] == [early]
    # The process was down 21:20-22:10 local: 21:30 is within the grace hour but would now
    # arrive in quiet hours, so it is skipped; 21:58 is 3 minutes late, which counts as on time.
    clock.now = utc(2026, 11, 23, 21, 1)
    assert await sweep.run_once() == 1
    assert [r.user_id for r in await outbox_rows(sessions)] == [early, lateish]


async def test_unreachable_people_and_removed_bots_get_nothing(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 22, 12)
    ann = await person(sessions, "ann")
    rule = await add_rule(sessions, ann, EVERY_DAY, 9 * 60, clock.now)
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == ann).values(unreachable=True))
    clock.now = utc(2026, 11, 23, 8, 0, 5)
    assert await sweeper(sessions, content, clock).run_once() == 0
    assert await outbox_rows(sessions) == []
    assert await next_due(sessions, rule.id) == utc(2026, 11, 24, 8, 0)


async def test_checkins_respect_quiet_hours_and_go_stale(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 23, 12)
    ann = await person(sessions, "ann")
    bob = await person(sessions, "bob", tz=None)  # no zone yet: UTC decides quiet hours
    async with sessions() as session, session.begin():
        ann_user, bob_user = await session.get(User, ann), await session.get(User, bob)
        chats = list(await session.scalars(select(Chat).order_by(Chat.id)))
        assert ann_user is not None and bob_user is not None
        # Due 23:00 Berlin: moved to 07:00 the next morning when scheduled.
        moved = await checkins.schedule_checkin(
            session, ann_user, chats[0], "r1", utc(2026, 11, 24, 22)
        )
        assert moved.due_at == utc(2026, 11, 25, 6)
        # Scheduling the same episode again moves the one check-in; it does not add another.
        again = await checkins.schedule_checkin(
            session, ann_user, chats[0], "r1", utc(2026, 11, 25, 10)
        )
        assert again.id == moved.id and again.due_at == utc(2026, 11, 25, 10)
        stale = await checkins.schedule_checkin(
            session, bob_user, chats[1], "r2", utc(2026, 11, 24, 12)
        )
    sweep = sweeper(sessions, content, clock)
    # Swept at 23:30 Berlin (the process was down when Ann's was due at 11:00): deferred.
    clock.now = utc(2026, 11, 25, 22, 30)
    assert await sweep.run_once() == 0
    async with sessions() as session:
        found = {c.episode_ref: c for c in await session.scalars(select(CheckIn))}
    # Ann's is deferred to the end of quiet hours; Bob's is more than 24 h late: missed.
    assert found["r1"].status == checkins.SCHEDULED
    assert found["r1"].due_at == utc(2026, 11, 26, 6)
    assert found["r2"].status == checkins.MISSED
    assert await outbox_rows(sessions) == []
    clock.now = utc(2026, 11, 26, 6, 0, 5)  # 07:00 Berlin
    assert await sweep.run_once() == 1
    [row] = await outbox_rows(sessions)
    assert row.dedupe_key == f"checkin:{moved.id}"
    assert [b.label for b in Reply.from_dict(row.reply).flat_buttons()] == [
        "Better",
        "Same",
        "Worse",
    ]
    async with sessions() as session:
        states = {c.episode_ref: c.status for c in await session.scalars(select(CheckIn))}
    assert states == {"r1": checkins.QUEUED, "r2": checkins.MISSED}
    assert stale.id != moved.id


async def test_many_due_rules_are_swept_in_batches(
    sessions: Sessions, content: ContentBundle, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.now = utc(2026, 11, 22, 12)
    ids = [await person(sessions, f"p{i}") for i in range(7)]
    for user_id in ids:
        await add_rule(sessions, user_id, EVERY_DAY, 9 * 60, clock.now)
    clock.now = utc(2026, 11, 23, 8, 0, 5)
    monkeypatch.setattr(reminder_sweep, "BATCH_SIZE", 3)
    small_batches = sweeper(sessions, content, clock)
    assert await small_batches.run_once() == 7
    assert sorted(r.user_id for r in await outbox_rows(sessions)) == ids
    assert small_batches.runs == 1 and small_batches.swept.is_set()


async def test_sweep_hooks_run_on_every_pass_and_wake_the_senders(
    sessions: Sessions, content: ContentBundle, clock: FakeClock
) -> None:
    """A feature's own due work comes in as a hook (clubs register theirs on the router): it
    runs at the sweep's moment on every pass, and the rows it writes count and wake senders."""
    clock.now = utc(2026, 11, 23, 12)
    calls: list[datetime] = []

    async def daily_post(work: DueWork) -> int:
        now = work.now
        calls.append(now)
        post = outbox.NewMessage(f"post:{now.date()}", "test", "group:c", Reply("hi"))
        async with work.sessions() as session, session.begin():
            return await outbox.enqueue(session, [post], now=now)

    woken: list[datetime] = []
    sweep = Sweeper(
        sessions,
        content,
        Settings(),
        [daily_post],
        clock=clock,
        on_enqueued=lambda: woken.append(clock.now),
    )
    assert await sweep.run_once() == 1
    assert await sweep.run_once() == 0  # written already
    assert calls == [clock.now, clock.now] and woken == [clock.now]
    assert [r.dedupe_key for r in await outbox_rows(sessions)] == ["post:2026-11-23"]


def test_the_scheduler_imports_no_feature() -> None:
    """Features plug in through the router's hooks; the scheduler never imports handlers/."""
    for path in sorted(Path(scheduler.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not [m for m in modules if m.partition(".")[0] == "handlers"], path.name


def test_deadline_rule_is_the_documented_one() -> None:
    berlin = zone("Europe/Berlin")
    quiet = QuietHours()
    kwargs = {"grace": timedelta(hours=1), "on_time": timedelta(minutes=5), "quiet": quiet}
    at_2130 = utc(2026, 11, 23, 20, 30)
    # Chosen 21:30: late sends stop when quiet hours begin at 22:00.
    assert rules.reminder_deadline(WeeklyTime(1, 21 * 60 + 30), berlin, at_2130, **kwargs) == utc(
        2026, 11, 23, 21
    )
    # Chosen 23:00 (inside quiet hours): the whole grace hour.
    at_2300 = utc(2026, 11, 23, 22)
    assert rules.reminder_deadline(WeeklyTime(1, 23 * 60), berlin, at_2300, **kwargs) == utc(
        2026, 11, 23, 23
    )
