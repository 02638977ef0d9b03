"""The outbox sender's Telegram Transport against FakeTelegramAPI: what each failure means
(403/429/5xx/400), replies of several messages resumed without repeats, and the real
outbox sender delivering through it exactly once."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.adapters.telegram.application import build_application
from bot.adapters.telegram.outgoing import Outgoing, delivery_for
from bot.adapters.telegram.transport import TelegramTransport
from bot.delivery import DeliveryStatus, OutboundMessage, RetryScope
from bot.engine.events import Button, Reply
from bot.storage.db import make_sessionmaker
from bot.storage.models import Outbox, User
from scheduler import outbox
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender, SenderConfig
from tests.fakes.telegram_api import FakeTelegramAPI, RateLimitConfig
from tests.harness import FakeClock
from tests.telegram_harness import settings_for

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

TWO_MESSAGES = "\n\n".join([("Brace and breathe. " * 120).strip()] * 2)  # 2 × 2,279 > 4,096


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def transport(fake: FakeTelegramAPI) -> AsyncIterator[TelegramTransport]:
    """The transport on the adapter's own application (its rate limiter included)."""
    application = build_application(settings_for(fake))
    async with application:
        yield TelegramTransport(Outgoing(application.bot))


def to(chat_id: int, text: str = "Time for your core session", **reply: object) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=chat_id % 100_000,
        platform="telegram",
        chat_id=str(chat_id),
        thread_id="",
        reply=Reply(text, **reply),  # type: ignore[arg-type]
    )


async def test_each_failure_maps_to_what_the_sender_should_do(
    fake: FakeTelegramAPI, transport: TelegramTransport
) -> None:
    ann = fake.add_user("Ann")
    sent = await transport.deliver(to(ann.id))
    assert sent.status is DeliveryStatus.SENT
    assert sent.message_ref == str(fake.sent_to(ann)[0].message_id)

    blocked = fake.add_user("Blocked")
    fake.block_bot(blocked, notify=False)
    never_started = fake.add_user("Shy", started_bot=False)
    assert (await transport.deliver(to(blocked.id))).status is DeliveryStatus.UNREACHABLE
    assert (await transport.deliver(to(never_started.id))).status is DeliveryStatus.UNREACHABLE
    gone = await transport.deliver(to(424242))  # an account that no longer exists
    assert gone.status is DeliveryStatus.UNREACHABLE

    # A 429 comes back at once, with Telegram's wait for the sender to hold that chat.
    fake.fail_next("sendMessage", 429, retry_after=0.05)
    flood = await transport.deliver(to(ann.id))
    assert (flood.status, flood.retry_after) == (DeliveryStatus.RETRY, pytest.approx(0.05))
    assert flood.retry_scope is RetryScope.CHAT

    fake.fail_next("sendMessage", 500)
    fake.fail_next("sendMessage", 502, raw_body="<html><h1>502 Bad Gateway</h1></html>")
    for _ in range(2):
        server_error = await transport.deliver(to(ann.id))
        assert (server_error.status, server_error.retry_after) == (DeliveryStatus.RETRY, None)

    fake.fail_next("sendMessage", 400, description="Bad Request: can't parse entities")
    rejected = await transport.deliver(to(ann.id))
    assert rejected.status is DeliveryStatus.FAILED
    assert rejected.error is not None and "parse entities" in rejected.error.casefold()

    # Only the first delivery reached Ann; every failure sent nothing.
    assert len(fake.sent_to(ann)) == 1
    statuses = [c.status for c in fake.calls if c.method == "sendMessage"]
    assert statuses.count(429) == 1 and statuses.count(200) == 1


async def test_a_timeout_is_retried_although_the_message_may_have_arrived(
    fake: FakeTelegramAPI,
) -> None:
    ann = fake.add_user("Ann")
    fake.delay_next("sendMessage", 0.3)
    request = HTTPXRequest(read_timeout=0.1)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as bot:
        timed_out = await TelegramTransport(Outgoing(bot)).deliver(to(ann.id))
    assert (timed_out.status, timed_out.error) == (DeliveryStatus.RETRY, "TimedOut")
    # The documented at-least-once window: Telegram delivered it all the same.
    await fake.wait_for_sent(chat_id=ann, timeout=2)


async def test_group_posts_link_private_buttons(
    fake: FakeTelegramAPI, transport: TelegramTransport
) -> None:
    club = fake.add_group("Harriers")
    button = Button("Check in privately", "triage:start", opens_private=True)
    delivered = await transport.deliver(to(club.id, "Challenge week!", buttons=[[button]]))
    assert delivered.status is DeliveryStatus.SENT
    [post] = fake.sent_to(club)
    [[link]] = post.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert link == {
        "text": "Check in privately",
        "url": f"https://t.me/{fake.bot.username}?start=triage-cstart",
    }


async def test_a_reply_of_several_messages_resumes_where_it_failed() -> None:
    now = [0.0]
    limits = RateLimitConfig(enabled=True, private_burst=1, jitter_tolerance=0)
    async with FakeTelegramAPI(rate_limits=limits, clock=lambda: now[0]) as fake:
        ann = fake.add_user("Ann")
        # No rate limiter: the second part meets the per-chat limit and comes back as 429.
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            transport = TelegramTransport(Outgoing(bot))
            first = await transport.deliver(to(ann.id, TWO_MESSAGES))
            assert (first.status, first.retry_after) == (DeliveryStatus.RETRY, 1.0)
            now[0] += 1.0
            second = await transport.deliver(to(ann.id, TWO_MESSAGES))
            assert second.status is DeliveryStatus.SENT
    parts = fake.sent_to(ann)
    assert len(parts) == 2  # the first part was not sent again
    assert "\n\n".join(p.plain_text or "" for p in parts) == TWO_MESSAGES.strip()


async def test_the_outbox_sender_delivers_through_it_exactly_once(
    fake: FakeTelegramAPI, transport: TelegramTransport, sqlite_db: AsyncEngine
) -> None:
    sessions = make_sessionmaker(sqlite_db)
    clock = FakeClock()
    people = [fake.add_user(f"Runner{n}") for n in range(5)]
    fake.block_bot(people[4], notify=False)
    async with sessions() as session, session.begin():
        users = [User(platform="telegram", platform_user_id=str(p.id)) for p in people]
        session.add_all(users)
        await session.flush()
        await outbox.enqueue(
            session,
            [
                outbox.NewMessage(
                    dedupe_key=f"remind:{u.id}",
                    platform="telegram",
                    chat_id=u.platform_user_id,
                    reply=Reply("Tuesday 7:00 — time for your core session"),
                    user_id=u.id,
                )
                for u in users
            ],
            now=clock.now,
        )
    fake.fail_next("sendMessage", 500)
    fake.fail_next("sendMessage", 503)
    sender = Sender(
        sessions,
        transport,
        pacing=PacingPolicy.telegram(),
        config=SenderConfig(max_in_flight=1),
        clock=clock,
        rng=random.Random(3),
    )
    for _ in range(4):  # the 5xx rows come back after their backoff
        await sender.drain_once()
        clock.advance(minutes=5)

    for person in people[:4]:
        assert [r.plain_text for r in fake.sent_to(person)] == [
            "Tuesday 7:00 — time for your core session"
        ]
    async with sessions() as session:
        statuses = sorted(s for s in await session.scalars(select(Outbox.status)))
        blocked = await session.scalar(
            select(User.unreachable).where(User.platform_user_id == str(people[4].id))
        )
    assert statuses == ["sent"] * 4 + ["unreachable"]
    assert blocked is True


def test_errors_that_are_no_telegram_answer_are_left_to_the_sender() -> None:
    # A bug (or a missing picture file) is not a delivery outcome: the sender logs it and
    # retries the row later instead of recording a made-up status.
    with pytest.raises(FileNotFoundError):
        delivery_for(FileNotFoundError("content/cards/plank.png"))
