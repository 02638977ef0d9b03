"""The bot's pace in the database (scheduler/shared_pace.py): every worker reserving through
the same table gets slots that together keep the platform's caps, on each backend.

A manual wall clock makes the slots exact; the two-process test with a real fake platform is
tests/test_outbox_processes.py."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage, RetryScope
from bot.engine.events import Reply
from bot.storage.models import utcnow
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender
from scheduler.shared_pace import CHAT_MARGIN, SharedPace

T = 1 / 30
POLICY = PacingPolicy.telegram(30)  # burst 5, 1 s per private chat, 20/min per group
PRIVATE, GROUP = 1 + CHAT_MARGIN, 3 + CHAT_MARGIN  # a chat's interval, with a margin for jitter


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


def workers(sessions: async_sessionmaker[AsyncSession], wall: Wall, n: int = 2) -> list[SharedPace]:
    return [SharedPace(sessions, "telegram", POLICY, wall) for _ in range(n)]


async def waits(pace: SharedPace, *sends: tuple[str, bool]) -> list[float]:
    slots = await pace.reserve(sends)
    assert all(slot.reserved for slot in slots)
    return [slot.wait for slot in slots]


async def test_workers_share_one_bot_wide_rate_after_the_burst(
    sessions: async_sessionmaker[AsyncSession], wall: Wall
) -> None:
    one, two = workers(sessions, wall)
    got = []
    for i in range(12):  # alternating workers, all at the same moment, distinct chats
        got += await waits(one if i % 2 else two, (f"chat{i}", True))
    assert got[:5] == [0.0] * 5  # the burst
    assert got[5:] == pytest.approx([T * n for n in range(1, 8)], abs=1e-6)


async def test_a_batch_takes_consecutive_slots(
    sessions: async_sessionmaker[AsyncSession], wall: Wall
) -> None:
    [pace] = workers(sessions, wall, 1)
    got = await waits(pace, *[(f"chat{i}", True) for i in range(8)])
    assert sorted(got) == pytest.approx([0.0] * 5 + [T, 2 * T, 3 * T], abs=1e-6)
    wall.now += 1.0  # the bucket drains: a full burst again
    assert await waits(pace, *[(f"later{i}", True) for i in range(5)]) == [0.0] * 5
    # Three statements, then two (no send later than its chat's turn), however many sends.
    assert pace.round_trips == 5


async def test_one_chat_is_paced_across_workers(
    sessions: async_sessionmaker[AsyncSession], wall: Wall
) -> None:
    one, two = workers(sessions, wall)
    assert await waits(one, ("ana", True), ("club", False)) == [0.0, 0.0]
    # The other worker, same moment: Ana's turn is ~1 s on, the group's ~3 s. Nothing
    # is taken for them now (no bot slot, the chats' turns given back).
    slots = await two.reserve([("ana", True), ("club", False), ("ben", True)])
    assert [s.reserved for s in slots] == [False, False, True]
    assert [s.wait for s in slots] == pytest.approx([PRIVATE, GROUP, 0.0], abs=1e-6)
    [again] = await one.reserve([("ana", True)])
    assert not again.reserved and again.wait == pytest.approx(PRIVATE, abs=1e-6)
    wall.now += PRIVATE
    assert await waits(two, ("ana", True)) == [0.0]
    wall.now += 0.5
    [soon] = await one.reserve([("ana", True)])
    assert not soon.reserved and soon.wait == pytest.approx(PRIVATE - 0.5, abs=1e-6)


async def test_a_send_held_back_by_the_bot_pushes_its_chats_next_turn(
    sessions: async_sessionmaker[AsyncSession], wall: Wall
) -> None:
    one, two = workers(sessions, wall)
    await waits(one, *[(f"filler{i}", True) for i in range(5)])  # the burst is used
    await waits(one, *[(f"more{i}", True) for i in range(30)])  # a second's worth booked
    [late] = await waits(two, ("ana", True))
    assert late == pytest.approx(1.0, abs=T)  # waits for the bot, not for Ana
    [next_for_ana] = await one.reserve([("ana", True)])
    assert next_for_ana.wait >= late + PRIVATE - 1e-6  # after the send that really happens


async def test_a_hold_seen_by_one_worker_holds_the_others(
    sessions: async_sessionmaker[AsyncSession], wall: Wall
) -> None:
    one, two = workers(sessions, wall)
    await one.hold(2.5, chat="ana")
    [for_ana, for_ben] = await two.reserve([("ana", True), ("ben", True)])
    assert for_ana.wait == pytest.approx(2.5, abs=1e-6) and not for_ana.reserved
    assert for_ben == (0.0, True)
    await one.hold(4.0)  # every chat
    assert await waits(two, ("cy", True)) == pytest.approx([4.0], abs=1e-6)


class Refused:
    """Telegram's answer to one chat over its limit."""

    platform = "telegram"

    async def deliver(self, message: OutboundMessage) -> Delivery:
        return Delivery(
            DeliveryStatus.RETRY, retry_after=5.0, error="429", retry_scope=RetryScope.CHAT
        )


async def test_a_retry_after_seen_by_one_sender_holds_that_chat_for_every_worker(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session, [outbox.NewMessage("m1", "telegram", "ana", Reply("hi"))], now=utcnow()
        )
    pace = SharedPace(sessions, "telegram", POLICY)
    sender = Sender(sessions, Refused(), pacing=POLICY, shared_pace=pace)
    assert await sender.drain_once() == 1
    other = SharedPace(sessions, "telegram", POLICY)
    [for_ana, for_ben] = await other.reserve([("ana", True), ("ben", True)])
    assert not for_ana.reserved and 4.0 < for_ana.wait <= 5.0
    assert for_ben.reserved and for_ben.wait == 0.0
