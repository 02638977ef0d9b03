"""One retry layer for Telegram: nothing under the adapter retries a 429. An outbox send
comes back at once with Telegram's retry_after and the sender's pacer holds that chat (or
every chat, when several are refused); a reply sits out one short flood wait at most; and a
transport call ends within its budget, well inside the sender's send lease.

Against the fake Bot API with the adapter's own application (its rate limiter included). No
test sleeps through a flood wait: the fake counts the requests, and the waits are recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import RetryAfter

from bot.adapters.telegram.application import TelegramApplication, build_application
from bot.adapters.telegram.outgoing import Outgoing, RetryPolicy, retry_after_seconds
from bot.adapters.telegram.render import Part, to_html
from bot.adapters.telegram.transport import TelegramTransport
from bot.delivery import DeliveryStatus, OutboundMessage, RetryScope
from bot.engine.events import Reply
from bot.storage.db import make_sessionmaker
from bot.storage.models import Outbox
from scheduler import outbox
from scheduler.pacing import Pacer, PacingPolicy
from scheduler.sender import Sender, SenderConfig
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.harness import FakeClock
from tests.telegram_harness import settings_for

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

FLOOD_WAIT = 40  # seconds: three of them (120 s) would outlast the sender's send lease
# Two messages' worth: 2,279 + 2,249 characters > 4,096.
TWO_PARTS = ("Brace and breathe. " * 120).strip() + "\n\n" + ("Hold and lift. " * 150).strip()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def application(fake: FakeTelegramAPI) -> AsyncIterator[TelegramApplication]:
    """The adapter's own application: MessageRateLimiter and the aiohttp requests."""
    application = build_application(settings_for(fake))
    async with application:
        yield application


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SkippingMonotonic:
    """The real monotonic clock (the sender's short pacing waits pass), which a test can move
    past a flood wait."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped


class RecordedSleep:
    """Outgoing's sleep: remembers each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def to(chat_id: int, text: str = "Time for your core session") -> OutboundMessage:
    return OutboundMessage(
        outbox_id=1,
        platform="telegram",
        chat_id=str(chat_id),
        thread_id="",
        reply=Reply(text),
    )


def send_calls(fake: FakeTelegramAPI, chat_id: int) -> list[int]:
    """The HTTP status of every sendMessage request for this chat, in order."""
    return [
        c.status
        for c in fake.calls
        if c.method == "sendMessage" and c.params.get("chat_id") == chat_id
    ]


async def test_an_outbox_send_returns_the_flood_wait_at_once(
    fake: FakeTelegramAPI, application: TelegramApplication, caplog: pytest.LogCaptureFixture
) -> None:
    ann = fake.add_user("Ann")
    fake.fail_next("sendMessage", 429, retry_after=FLOOD_WAIT, times=3)
    transport = TelegramTransport(Outgoing(application.bot))

    with caplog.at_level(logging.INFO):
        delivery = await transport.deliver(to(ann.id))

    assert delivery.status is DeliveryStatus.RETRY
    assert (delivery.retry_after, delivery.retry_scope) == (FLOOD_WAIT, RetryScope.CHAT)
    assert send_calls(fake, ann.id) == [429]  # one request: nothing waited and tried again
    assert not fake.sent
    # Routine for the sender: not logged as an error (AIORateLimiter would, with a traceback).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_sender_holds_the_refused_chat_and_delivers_to_the_others(
    fake: FakeTelegramAPI, application: TelegramApplication, sqlite_db: AsyncEngine
) -> None:
    ann, bob = fake.add_user("Ann"), fake.add_user("Bob")
    fake.fail_next("sendMessage", 429, retry_after=FLOOD_WAIT, times=3, chat=ann)
    sessions = make_sessionmaker(sqlite_db)
    clock = FakeClock()
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.NewMessage(
                    dedupe_key=key, platform="telegram", chat_id=str(chat), reply=Reply(key)
                )
                for key, chat in (("ann-1", ann.id), ("bob-1", bob.id), ("ann-2", ann.id))
            ],
            now=clock.now,
        )
    monotonic = SkippingMonotonic()
    # Telegram's pacing without the 1 s between two messages to one person: not waited here.
    pacing = PacingPolicy(30, burst=5, private_interval=0, group_per_minute=20)
    sender = Sender(
        sessions,
        TelegramTransport(Outgoing(application.bot)),
        pacing=pacing,
        # One at a time: each outcome is in before the next message is picked.
        config=SenderConfig(max_in_flight=1),
        clock=clock,
        pacer=Pacer(pacing, monotonic),
    )

    assert await sender.drain_once() == 2  # ann-1 (refused) and bob-1; ann-2 is handed back

    assert send_calls(fake, ann.id) == [429]
    assert [r.plain_text for r in fake.sent_to(bob)] == ["bob-1"]
    async with sessions() as session:
        stored = {r.dedupe_key: r for r in await session.scalars(select(Outbox))}
    refused, waiting = stored["ann-1"], stored["ann-2"]
    assert (refused.status, refused.attempts, refused.last_error) == ("pending", 1, "RetryAfter")
    assert refused.not_before >= clock.now + timedelta(seconds=FLOOD_WAIT)
    assert (waiting.status, waiting.attempts, waiting.claim_token) == ("pending", 0, None)
    assert stored["bob-1"].status == "sent"
    pacer = sender.pacer
    assert FLOOD_WAIT - 5 < pacer.delay(str(ann.id), True) <= FLOOD_WAIT
    assert pacer.delay("someone else", True) == 0
    assert pacer.held_for() == 0  # the sender goes on claiming for the other chats

    monotonic.skipped += FLOOD_WAIT
    clock.advance(seconds=FLOOD_WAIT * 1.1)
    fake.clear_faults()
    assert await sender.drain_once() == 2
    assert [r.plain_text for r in fake.sent_to(ann)] == ["ann-1", "ann-2"]


def test_a_chat_hold_becomes_a_hold_of_everything_when_a_second_chat_is_refused() -> None:
    monotonic = FakeMonotonic()
    pacer = Pacer(PacingPolicy.unlimited(), monotonic)
    pacer.hold(10, "ann")
    assert (pacer.delay("ann", True), pacer.delay("bob", True), pacer.held_for()) == (10, 0, 0)

    monotonic.now += 4
    pacer.hold(5, "ann")  # the same chat again: still that chat's own limit
    assert (pacer.delay("ann", True), pacer.held_for()) == (6, 0)

    pacer.hold(8, "bob")  # a second chat while Ann still waits: the bot is over its limit
    assert pacer.held_for() == 8
    assert (pacer.delay("carl", True), pacer.delay("ann", True)) == (8, 8)

    monotonic.now += 20  # every hold is over; a later refusal starts afresh
    pacer.hold(3, "carl")
    assert (pacer.delay("carl", True), pacer.delay("ann", True), pacer.held_for()) == (3, 0, 0)

    pacer.hold(2)  # no chat named (not connected, or a platform-wide wait): everything
    assert pacer.delay("dora", True) == 2


async def test_a_reply_sits_out_one_short_flood_wait_at_most(
    fake: FakeTelegramAPI, application: TelegramApplication
) -> None:
    ann = fake.add_user("Ann")
    part = Part("text", to_html("Plank: 3 × 45 s"))
    sleep = RecordedSleep()
    patient = Outgoing(application.bot, RetryPolicy(max_wait=60), sleep=sleep)
    fake.fail_next("sendMessage", 429, retry_after=FLOOD_WAIT, times=3)

    with pytest.raises(RetryAfter) as refused:
        await patient.send(ann.id, "", part)

    assert retry_after_seconds(refused.value) == FLOOD_WAIT
    assert send_calls(fake, ann.id) == [429, 429]  # the first try and one retry
    assert sleep.waits == [pytest.approx(FLOOD_WAIT + 0.1)]

    # The default policy does not keep a person waiting 40 s: it gives up at once.
    default = Outgoing(application.bot, sleep=sleep)
    with pytest.raises(RetryAfter):
        await default.send(ann.id, "", part)
    assert send_calls(fake, ann.id) == [429, 429, 429]
    assert len(sleep.waits) == 1

    # After one short wait the retry goes through.
    fake.fail_next("sendMessage", 429, retry_after=2)
    sent = await default.send(ann.id, "", part)
    assert sent.message_id == fake.sent_to(ann)[0].message_id
    assert sleep.waits[1:] == [pytest.approx(2.1)]


async def test_a_delivery_that_outruns_its_budget_resumes_after_the_parts_that_went_out(
    fake: FakeTelegramAPI, application: TelegramApplication
) -> None:
    ann = fake.add_user("Ann")
    transport = TelegramTransport(Outgoing(application.bot), budget=0.5)
    fake.delay_next("sendMessage", 0)  # the first part goes out
    fake.delay_next("sendMessage", 10)  # the second stalls (at Telegram, or for its turn)

    stalled = await transport.deliver(to(ann.id, TWO_PARTS))
    assert (stalled.status, stalled.error) == (DeliveryStatus.RETRY, "TimedOut")
    resumed = await transport.deliver(to(ann.id, TWO_PARTS))
    assert resumed.status is DeliveryStatus.SENT

    texts = [c.params["text"][:5] for c in fake.calls if c.method == "sendMessage"]
    assert texts == ["Brace", "Hold ", "Hold "]  # the first part was not sent again
