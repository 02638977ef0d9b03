"""The outbox sender's Discord transport: one message on the wire and an honest status back.
403 (DMs closed, no access) and unknown channels are UNREACHABLE, 429 is retried by
discord.py or handed back as RETRY with its wait, 5xx is RETRY, 400 is FAILED."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord.client import DiscordBot
from bot.content.bundle import ContentBundle
from bot.delivery import DeliveryStatus, OutboundMessage
from bot.engine.engine import Engine
from bot.engine.events import Reply, ReplyIntent
from bot.storage.db import make_sessionmaker
from bot.storage.models import Outbox
from scheduler.outbox import NewMessage, enqueue
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender
from tests.discord_harness import Clubhouse, clubhouse, messages, running
from tests.factory import build_engine
from tests.fakes.discord_api import FakeDiscord, Overwrite, Perm

SENDS = "POST /channels/{channel_id}/messages"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def engine(sqlite_db: AsyncEngine, content: ContentBundle) -> Engine:
    return build_engine(sqlite_db, content)


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[DiscordBot]:
    async with running(fake, engine) as bot:
        yield bot


@pytest.fixture
def club(fake: FakeDiscord) -> Clubhouse:
    return clubhouse(fake)


def outbound(
    chat_id: int | str, text: str = "Time for your core session", **kw: object
) -> OutboundMessage:
    reply = Reply(text, **kw)  # type: ignore[arg-type]
    return OutboundMessage(
        outbox_id=7, platform="discord", chat_id=str(chat_id), thread_id="", reply=reply
    )


async def test_a_reminder_reaches_a_dm(fake: FakeDiscord, club: Clubhouse, bot: DiscordBot) -> None:
    dm = fake.dm_channel(club.alice)
    delivery = await bot.transport.deliver(outbound(dm.id))
    assert delivery.status is DeliveryStatus.SENT
    [sent] = messages(fake, dm)
    assert delivery.message_ref == sent["id"] and sent["content"] == "Time for your core session"
    [request] = [r for r in fake.requests if r.route == SENDS]
    # The outbox id as nonce lets Discord drop a resend after a crash (enforce_nonce).
    assert (request.json["nonce"], request.json["enforce_nonce"]) == ("o7.0", True)
    assert request.json["allowed_mentions"] == {"parse": []}


async def test_a_resend_after_a_crash_is_dropped_by_discord(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    """The sender's at-least-once window: a message sent, then sent again because its outcome
    was never recorded. The outbox id as nonce, with enforce_nonce, makes it one message."""
    dm = fake.dm_channel(club.alice)
    first = await bot.transport.deliver(outbound(dm.id))
    again = await bot.transport.deliver(outbound(dm.id))
    assert first.status is again.status is DeliveryStatus.SENT
    assert first.message_ref == again.message_ref
    assert len(messages(fake, dm)) == 1
    other = await bot.transport.deliver(
        OutboundMessage(8, "discord", str(dm.id), "", Reply("Another one"))
    )
    assert other.status is DeliveryStatus.SENT and len(messages(fake, dm)) == 2


async def test_closed_dms_are_unreachable(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    shy = fake.add_user("shy", accepts_dms=False)
    club.guild.add_member(shy)
    delivery = await bot.transport.deliver(outbound(fake.dm_channel(shy).id))
    assert (delivery.status, delivery.error) == (DeliveryStatus.UNREACHABLE, "discord 403/50007")


async def test_a_channel_the_bot_may_not_post_in_is_unreachable(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    muted = club.guild.add_text_channel(
        "announcements", overwrites=[Overwrite(club.guild.id, 0, deny=Perm.SEND_MESSAGES)]
    )
    delivery = await bot.transport.deliver(outbound(muted.id))
    assert (delivery.status, delivery.error) == (DeliveryStatus.UNREACHABLE, "discord 403/50013")
    gone = await bot.transport.deliver(outbound(club.guild.id + 12345))
    assert (gone.status, gone.error) == (DeliveryStatus.UNREACHABLE, "discord 404/10003")


async def test_a_short_429_is_waited_out_by_discord_py(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    fake.fail_next(f"/channels/{club.general.id}/messages", 429, retry_after=0.1)
    delivery = await bot.transport.deliver(outbound(club.general.id))
    assert delivery.status is DeliveryStatus.SENT
    assert [r.status for r in fake.requests if r.route == SENDS] == [429, 200]


async def test_a_long_429_comes_back_as_retry_at_once(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    fake.fail_next(f"/channels/{club.general.id}/messages", 429, retry_after=45.0)
    started = time.monotonic()
    delivery = await bot.transport.deliver(outbound(club.general.id))
    assert time.monotonic() - started < 5  # no sleeping inside the sender's lease
    assert (delivery.status, delivery.retry_after) == (DeliveryStatus.RETRY, 45.0)


async def test_server_errors_retry_and_bad_requests_fail(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    fake.fail_next("/messages", 503)
    delivery = await bot.transport.deliver(outbound(club.general.id))
    assert (delivery.status, delivery.error) == (DeliveryStatus.RETRY, "discord 503/0")
    fake.fail_next("/messages", 400, body={"message": "Invalid Form Body", "code": 50035})
    delivery = await bot.transport.deliver(outbound(club.general.id))
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "discord 400/50035")
    assert messages(fake, club.general) == []


async def test_long_messages_go_in_parts_with_their_own_nonces(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    text = "\n\n".join(f"Plank ladder, day {n}: " + "hold " * 150 for n in range(6))
    delivery = await bot.transport.deliver(outbound(club.general.id, text))
    assert delivery.status is DeliveryStatus.SENT
    sent = messages(fake, club.general)
    assert len(sent) == 3 and delivery.message_ref == sent[0]["id"]
    nonces = [r.json["nonce"] for r in fake.requests if r.route == SENDS]
    assert nonces == ["o7.0", "o7.1", "o7.2"]


async def test_thread_id_wins_and_missing_files_fail(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot, tmp_path: Path
) -> None:
    thread = club.guild.add_text_channel("plank-ladder")  # stands in for a thread's channel id
    message = OutboundMessage(1, "discord", str(club.general.id), str(thread.id), Reply("Day 3!"))
    assert (await bot.transport.deliver(message)).status is DeliveryStatus.SENT
    assert [m["content"] for m in messages(fake, thread)] == ["Day 3!"]
    missing = outbound(club.general.id, image=tmp_path / "gone.png")
    assert (await bot.transport.deliver(missing)).status is DeliveryStatus.FAILED


async def test_not_connected_is_a_retry(fake: FakeDiscord, engine: Engine, club: Clubhouse) -> None:
    idle = DiscordBot(engine)
    delivery = await idle.transport.deliver(outbound(club.general.id))
    assert delivery.status is DeliveryStatus.RETRY and delivery.retry_after
    await idle.close()


async def test_the_outbox_sender_delivers_through_the_transport(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot, sqlite_db: AsyncEngine
) -> None:
    sessions = make_sessionmaker(sqlite_db)
    shy = fake.add_user("shy", accepts_dms=False)
    club.guild.add_member(shy)
    async with sessions() as session, session.begin():
        now = bot.engine.clock()
        await enqueue(
            session,
            [
                NewMessage(
                    "club:1",
                    "discord",
                    str(club.general.id),
                    Reply("Week 2 starts now!"),
                    is_private=False,
                ),
                NewMessage("remind:1", "discord", str(fake.dm_channel(shy).id), Reply("Core time")),
            ],
            now=now,
        )
    sender = Sender(sessions, bot.transport, pacing=PacingPolicy.discord())
    assert await sender.drain_once() == 2
    async with sessions() as session:
        statuses = {r.dedupe_key: r.status for r in await session.scalars(select(Outbox))}
    assert statuses == {"club:1": "sent", "remind:1": "unreachable"}
    assert [m["content"] for m in messages(fake, club.general)] == ["Week 2 starts now!"]


async def test_a_private_reply_is_never_posted_in_a_server_channel(
    fake: FakeDiscord, club: Clubhouse, bot: DiscordBot
) -> None:
    secret = outbound(club.general.id, "Your soreness check", intent=ReplyIntent.PRIVATE)
    delivery = await bot.transport.deliver(secret)
    assert delivery.status is DeliveryStatus.FAILED
    assert messages(fake, club.general) == []
    dm = fake.dm_channel(club.alice)
    private = outbound(dm.id, "Your soreness check", intent=ReplyIntent.PRIVATE)
    assert (await bot.transport.deliver(private)).status is DeliveryStatus.SENT
