"""The outbox sender on both databases: delivered once and marked sent, retries with backoff
honouring retry_after, unreachable and permanent failures, stale rows, lease takeover, and
the pacing that keeps within platform limits."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.events import Reply
from bot.storage.models import Chat, Outbox, User
from scheduler import outbox
from scheduler.pacing import LeakyBucket, Pacer, PacingPolicy
from scheduler.sender import Sender, SenderConfig
from tests.harness import FakeClock

Sessions = async_sessionmaker[AsyncSession]


class RecordingTransport:
    """Records every delivery; answers from a per-chat script, then SENT."""

    platform = "test"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.script: dict[str, deque[Delivery | Exception]] = defaultdict(deque)

    async def deliver(self, message: OutboundMessage) -> Delivery:
        self.sent.append(message)
        await asyncio.sleep(0)
        scripted = self.script[message.chat_id]
        outcome = scripted.popleft() if scripted else Delivery(DeliveryStatus.SENT)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def message(key: str, chat: str, **kwargs: Any) -> outbox.NewMessage:
    return outbox.NewMessage(
        dedupe_key=key, platform="test", chat_id=chat, reply=Reply(f"hello {key}"), **kwargs
    )


async def put(sessions: Sessions, now: datetime, *messages: outbox.NewMessage) -> int:
    async with sessions() as session, session.begin():
        return await outbox.enqueue(session, list(messages), now=now)


async def rows(sessions: Sessions) -> dict[str, Outbox]:
    async with sessions() as session:
        return {r.dedupe_key: r for r in await session.scalars(select(Outbox))}


def make_sender(
    sessions: Sessions, transport: RecordingTransport, clock: FakeClock, **config: Any
) -> Sender:
    return Sender(
        sessions,
        transport,
        pacing=PacingPolicy.unlimited(),
        config=SenderConfig(**config),
        clock=clock,
        rng=random.Random(7),
    )


async def test_each_message_is_delivered_once_and_marked_sent(
    sessions: Sessions, clock: FakeClock
) -> None:
    later = clock.now + timedelta(hours=1)
    added = await put(
        sessions,
        clock.now,
        message("a", "c1"),
        message("b", "c2"),
        message("later", "c3", not_before=later),
    )
    assert added == 3
    assert await put(sessions, clock.now, message("a", "c1")) == 0  # same key: not again
    transport = RecordingTransport()
    sender = make_sender(sessions, transport, clock)

    assert await sender.drain_once() == 2
    assert await sender.drain_once() == 0
    assert sorted(m.reply.text for m in transport.sent) == ["hello a", "hello b"]
    stored = await rows(sessions)
    assert stored["a"].status == stored["b"].status == "sent"
    assert stored["a"].sent_at == clock.now and stored["a"].attempts == 1
    assert stored["a"].claim_token is None and stored["a"].claimed_until is None
    assert stored["later"].status == "pending"

    clock.advance(hours=1)
    assert await sender.drain_once() == 1
    assert [m.reply.text for m in transport.sent][-1] == "hello later"
    async with sessions() as session:
        assert await outbox.depth(session) == (0, None)


async def test_transient_failures_back_off_and_honour_retry_after(
    sessions: Sessions, clock: FakeClock
) -> None:
    await put(sessions, clock.now, message("flood", "c1"), message("flaky", "c2"))
    transport = RecordingTransport()
    transport.script["c1"].append(Delivery(DeliveryStatus.RETRY, retry_after=30, error="429"))
    transport.script["c2"].extend([TimeoutError(), TimeoutError()])
    sender = make_sender(sessions, transport, clock, claim_lease=timedelta(seconds=10))
    start = clock.now

    await sender.drain_once()
    stored = await rows(sessions)
    flood, flaky = stored["flood"], stored["flaky"]
    assert flood.status == flaky.status == "pending"
    assert flood.last_error == "429" and flaky.last_error == "TimeoutError"
    # retry_after is a floor (plus up to 10 % jitter); without it: 2 s base, equal jitter.
    assert start + timedelta(seconds=30) <= flood.not_before <= start + timedelta(seconds=33)
    assert start + timedelta(seconds=1) <= flaky.not_before <= start + timedelta(seconds=2)
    assert sender.pacer.delay("other", True) > 29  # the whole platform waits out the flood
    clock.now = flaky.not_before
    assert await sender.drain_once() == 0  # due, but held: the claim is handed back
    held = (await rows(sessions))["flaky"]
    assert (held.claim_token, held.attempts) == (None, 1)

    sender.pacer = Pacer(PacingPolicy.unlimited())  # as if the 30 s had passed
    await sender.drain_once()
    second = (await rows(sessions))["flaky"]
    assert second.attempts == 2
    assert clock.now + timedelta(seconds=2) <= second.not_before <= clock.now + timedelta(seconds=4)

    clock.advance(minutes=1)
    await sender.drain_once()
    final = await rows(sessions)
    assert final["flood"].status == final["flaky"].status == "sent"
    assert [m.chat_id for m in transport.sent].count("c2") == 3


async def test_retries_run_out_and_permanent_failures_are_recorded(
    sessions: Sessions, clock: FakeClock
) -> None:
    await put(sessions, clock.now, message("doomed", "c1"), message("bad", "c2"))
    transport = RecordingTransport()
    transport.script["c1"].extend([Delivery(DeliveryStatus.RETRY, error="5xx")] * 3)
    transport.script["c2"].append(Delivery(DeliveryStatus.FAILED, error="400 bad request"))
    sender = make_sender(sessions, transport, clock, max_attempts=3)
    for _ in range(4):
        await sender.drain_once()
        clock.advance(minutes=5)
    stored = await rows(sessions)
    assert (stored["doomed"].status, stored["doomed"].attempts) == ("failed", 3)
    assert (stored["bad"].status, stored["bad"].last_error) == ("failed", "400 bad request")
    assert len(transport.sent) == 4


async def test_unreachable_marks_the_person_and_drops_their_other_messages(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with sessions() as session, session.begin():
        ann = User(platform="test", platform_user_id="ann")
        club = Chat(platform="test", platform_chat_id="club", is_private=False)
        session.add_all([ann, club])
        await session.flush()
        ann_id = ann.id
    later = clock.now + timedelta(minutes=10)
    await put(
        sessions,
        clock.now,
        message("first", "dm:ann", user_id=ann_id),
        message("second", "dm:ann", user_id=ann_id, not_before=later),
        message("post", "club", is_private=False),
        message("other", "dm:bob"),
    )
    transport = RecordingTransport()
    transport.script["dm:ann"].append(Delivery(DeliveryStatus.UNREACHABLE, error="403 blocked"))
    transport.script["club"].append(Delivery(DeliveryStatus.UNREACHABLE, error="kicked"))
    sender = make_sender(sessions, transport, clock)
    await sender.drain_once()
    clock.advance(minutes=10)
    await sender.drain_once()

    stored = await rows(sessions)
    assert {k: r.status for k, r in stored.items()} == {
        "first": "unreachable",
        "second": "unreachable",
        "post": "unreachable",
        "other": "sent",
    }
    assert sorted(m.chat_id for m in transport.sent) == ["club", "dm:ann", "dm:bob"]
    async with sessions() as session:
        user = await session.get(User, ann_id)
        chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "club"))
        assert user is not None and user.unreachable
        assert chat is not None and not chat.bot_is_member


async def test_stale_messages_expire_instead_of_going_out_late(
    sessions: Sessions, clock: FakeClock
) -> None:
    deadline = clock.now + timedelta(hours=1)
    await put(
        sessions,
        clock.now,
        message("reminder", "c1", expires_at=deadline),
        message("broadcast", "c2"),
    )
    clock.advance(hours=3)  # the sender was down
    transport = RecordingTransport()
    await make_sender(sessions, transport, clock).drain_once()
    stored = await rows(sessions)
    assert stored["reminder"].status == "expired"
    assert stored["broadcast"].status == "sent"
    assert [m.chat_id for m in transport.sent] == ["c2"]


async def test_a_worker_whose_lease_was_taken_over_cannot_send(
    sessions: Sessions, clock: FakeClock
) -> None:
    await put(sessions, clock.now, message("m", "c1"))
    slow, fast = RecordingTransport(), RecordingTransport()
    stalled = make_sender(sessions, slow, clock)
    claimed = await stalled._claim()
    assert [c.id for c in claimed] == [(await rows(sessions))["m"].id]
    # The first worker stalls past its lease; the second takes the row over and sends it.
    clock.advance(seconds=61)
    assert await make_sender(sessions, fast, clock).drain_once() == 1
    # The first worker wakes up and tries to send its stale claim: refused, nothing sent.
    await stalled._in_flight.acquire()
    await stalled._deliver(claimed[0])
    assert slow.sent == [] and len(fast.sent) == 1
    assert (await rows(sessions))["m"].status == "sent"


async def test_stop_finishes_in_flight_and_hands_back_the_rest(
    sessions: Sessions, clock: FakeClock
) -> None:
    await put(sessions, clock.now, message("one", "c1"), message("two", "c1"))
    transport = RecordingTransport()
    sender = Sender(
        sessions,
        transport,
        # One message per 100 s to a chat: the second waits for its turn.
        pacing=PacingPolicy(1e9, 1e9, private_interval=100, group_per_minute=1),
        clock=clock,
    )
    sender.start()
    for _ in range(1000):
        if transport.sent:
            break
        await asyncio.sleep(0.001)
    await sender.stop()
    stored = await rows(sessions)
    assert stored["one"].status == "sent"
    assert stored["two"].status == "pending"
    assert stored["two"].claim_token is None and stored["two"].attempts == 0
    assert len(transport.sent) == 1


# -- pacing (no database) -------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_telegram_pacing_stays_within_every_limit_at_full_speed() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(PacingPolicy.telegram(), clock)
    # Telegram's own model (as the fake Bot API enforces it): 30/s with bursts of 30.
    telegram = LeakyBucket(30, 30, 0.0)
    sends = 0
    chats = [f"c{i}" for i in range(200)]
    while clock.now < 10:
        chat = chats[sends % len(chats)]
        wait = pacer.delay(chat, True)
        if wait > 0:
            clock.now += wait
            continue
        assert telegram.delay(clock.now) == 0, f"flood at {clock.now:.3f}"
        telegram.add(clock.now)
        pacer.record(chat, True)
        sends += 1
    assert 0.97 * 300 <= sends <= 300 + 5  # the full rate, plus the small initial burst


def test_per_chat_and_per_group_spacing_and_hold() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(PacingPolicy.telegram(), clock)
    pacer.record("dm", True)
    assert pacer.delay("dm", True) == pytest.approx(1.0)
    assert pacer.delay("elsewhere", True) == 0
    pacer.record("club", False)
    assert pacer.delay("club", False) == pytest.approx(3.0)  # 20 per minute
    clock.now += 3
    assert pacer.delay("club", False) == 0
    pacer.hold(5)
    assert pacer.delay("elsewhere", True) == pytest.approx(5)


def test_idle_chat_buckets_are_forgotten() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(PacingPolicy.telegram(), clock)
    for i in range(Pacer._PRUNE_AT):
        pacer.record(f"c{i}", True)
    clock.now += 2  # every private bucket has drained
    pacer.record("new", True)
    assert len(pacer._chats) == 1
