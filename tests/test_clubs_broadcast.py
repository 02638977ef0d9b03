"""Coach accounts and broadcasts across platforms: one-time link codes typed in clubs on
Telegram and Discord, a broadcast with a card and a preview, delivered by the real sender
through recording transports, and the delivery report (delivered / failed / unreachable)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.delivery import Delivery, DeliveryStatus
from bot.engine.engine import Engine
from bot.engine.events import ReplyIntent
from bot.storage.models import (
    Broadcast,
    Challenge,
    CoachAccount,
    CoachClub,
    CoachIdentity,
    Outbox,
)
from tests.clubs_world import Member, World, dm_chat, group_chat
from tests.harness import FakeClock

_CODE = re.compile(r"\*\*([A-Z0-9]{8})\*\*")


@pytest.fixture
def world(engine: Engine, clock: FakeClock) -> World:
    return World(engine, clock)


def code_in(person: Member) -> str:
    match = _CODE.search(person.text())
    assert match, person.text()
    return match.group(1)


async def count(world: World, model: type) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_broadcast_to_clubs_on_two_platforms_with_a_delivery_report(
    world: World, clock: FakeClock
) -> None:
    kim_tg = world.person("kim", platform="telegram")
    kim_dc = world.person("kim-d", platform="discord", display="Kim")

    # In a club: /coach link links that club at once and sends a code privately.
    harriers = world.person("kim", group="harriers", admin=True, platform="telegram")
    await harriers.say("/coach link")
    assert "harriers is now linked" in harriers.text()
    assert harriers.last_turn is not None
    public, private = harriers.last_turn.replies
    assert _CODE.search(public.text) is None  # the code never shows in the group
    assert private.intent is ReplyIntent.PRIVATE and _CODE.search(private.text)

    # Kim's Discord identity starts an account of its own by linking its club the same way.
    trail = world.person("kim-d", group="trail-club", admin=True, platform="discord")
    await trail.say("/coach link")
    assert "trail-club is now linked" in trail.text()

    # Privately: a code per club, typed in each club by its coach, on either platform. The
    # Discord identity redeeming a Telegram code merges its account into that one.
    for group, platform, person in (
        ("tuesday-runners", "telegram", "kim"),
        ("ghost-club", "discord", "kim-d"),
    ):
        await kim_tg.say("/coach link")
        code = code_in(kim_tg)
        club = world.person(person, group=group, admin=True, platform=platform)
        await club.say(f"/coach link {code.lower()}")
        assert f"{group} is now linked" in club.text()
        await club.say(f"/coach link {code}")  # a code works once
        assert "That code isn't valid" in club.text()

    # One account now: both identities see (and broadcast to) every club.
    async with world.sessions() as session:
        accounts = set(await session.scalars(select(CoachIdentity.account_id)))
    assert len(accounts) == 1 and await count(world, CoachAccount) == 1
    assert await count(world, CoachClub) == 4
    await world.bot_membership("discord", "ghost-club", member=False)

    await kim_dc.say("/broadcast")
    await kim_dc.say("Long run on Sunday: do your core work on Saturday, not after.")
    await kim_dc.press("An exercise card")
    await kim_dc.press("Plank")
    preview = kim_dc.text()
    assert "goes to 3 clubs" in preview and "I'm no longer in ghost-club (discord)" in preview
    assert "Long run on Sunday" in preview and "Plank" in preview
    send = kim_dc.button("Send to 3 clubs").payload

    # Someone else pressing kim's confirm button sends nothing.
    stranger = world.person("mallory", platform="discord")
    await stranger.press_payload(send)
    assert await count(world, Broadcast) == 0

    world.transports["telegram"].script[group_chat("tuesday-runners")].append(
        Delivery(DeliveryStatus.FAILED, error="chat not found")
    )
    await kim_dc.press_payload(send)
    assert "Sending to 3 clubs now" in kim_dc.text()
    await kim_dc.press_payload(send)  # a replayed confirm: the dialog has ended
    assert await count(world, Broadcast) == 1

    delivered = await world.tick()
    clubs = sorted((m.platform, m.chat_id) for m in delivered)
    assert clubs == [
        ("discord", group_chat("trail-club")),
        ("telegram", group_chat("harriers")),
        ("telegram", group_chat("tuesday-runners")),
    ]
    message = delivered[0].reply
    assert "A message from your coach" in message.text
    assert [b.payload for b in message.flat_buttons()] == ["card:plank"]

    # Every club message has an outcome: the next sweep sends the report to kim's DM
    # on Discord, where kim set the broadcast up.
    [report] = await world.tick()
    assert (report.platform, report.chat_id) == ("discord", dm_chat("discord", "kim-d"))
    assert "Delivered: 2" in report.reply.text
    assert "Failed: 1" in report.reply.text
    assert "Unreachable (I'm no longer in the group): 1" in report.reply.text
    assert await world.tick() == []

    await kim_tg.say("/broadcast status")
    assert "Delivery report" in kim_tg.text() and "Delivered: 2" in kim_tg.text()


async def test_a_broadcast_challenge_starts_in_every_club(world: World, clock: FakeClock) -> None:
    coach = world.person("cat", platform="telegram")
    for group in ("north", "south"):
        await coach.say("/coach link")
        code = code_in(coach)
        await world.person("cat", group=group, admin=True, platform="telegram").say(
            f"/coach link {code}"
        )
    await coach.say("/broadcast Side planks this week, everyone!")
    await coach.press("A challenge")
    await coach.press("Side plank: 3 × 30 s a side")
    await coach.press("Send to 2 clubs")
    posts = await world.tick()
    assert len(posts) == 2
    north = next(m.reply for m in posts if m.chat_id == group_chat("north"))
    assert "Side planks this week" in north.text and "Club challenge: Side plank" in north.text
    runner = world.person("rae", group="north", platform="telegram")
    await runner.press_payload(
        next(b.payload for b in north.flat_buttons() if b.label == "Done today")
    )
    assert "Counted for" in runner.text()
    started = await world.challenges()
    assert [c.status for c in started] == ["active", "active"]
    assert await count(world, Challenge) == 2


async def test_codes_expire_and_need_a_coach_in_the_club(world: World, clock: FakeClock) -> None:
    coach = world.person("ed")
    await coach.say("/coach link")
    code = code_in(coach)
    member = world.person("fay", group="club", admin=False)
    await member.say(f"/coach link {code}")
    assert "Only a coach of this club" in member.text()
    await coach.say(f"/coach link {code}")
    assert "Type the code in the group chat" in coach.text()
    clock.advance(minutes=16)
    admin = world.person("ed", group="club", admin=True)
    await admin.say(f"/coach link {code}")
    assert "That code isn't valid" in admin.text()
    assert await count(world, CoachClub) == 0

    outsider = world.person("gus")
    await outsider.say("/broadcast hello")
    assert "You have no linked clubs yet" in outsider.text() and outsider.dialog is None


async def test_the_report_counts_clubs_that_may_have_got_it_twice(
    world: World, clock: FakeClock
) -> None:
    kim = world.person("kim", platform="telegram")
    for group in ("harriers", "tuesday-runners", "trail-club"):
        await kim.say("/coach link")
        club = world.person("kim", group=group, admin=True, platform="telegram")
        await club.say(f"/coach link {code_in(kim)}")
    await kim.say("/broadcast")
    await kim.say("Core at 7 tonight.")
    await kim.press("No, just the message")
    await kim.press("Send to 3 clubs")
    # What a crash mid-send leaves: an attempt counted, no outcome recorded, lease run out.
    async with world.sessions() as session, session.begin():
        first = await session.scalar(
            select(Outbox).where(Outbox.dedupe_key.startswith("club:broadcast:")).limit(1)
        )
        assert first is not None
        first.attempts, first.claimed_until = 1, clock() - timedelta(seconds=1)
    assert len(await world.tick()) == 3
    [report] = await world.tick()
    assert "Delivered: 3" in report.reply.text
    assert "one club may have got it twice" in report.reply.text
    await kim.say("/broadcast status")  # from the stored figures, once reported
    assert "one club may have got it twice" in kim.text()


async def test_a_clean_delivery_reports_no_repeats(world: World) -> None:
    kim = world.person("kim", platform="telegram")
    club = world.person("kim", group="harriers", admin=True, platform="telegram")
    await club.say("/coach link")
    await kim.say("/broadcast")
    await kim.say("Core at 7 tonight.")
    await kim.press("No, just the message")
    await kim.press("Send to one club")
    await world.tick()
    [report] = await world.tick()
    assert "Delivered: 1" in report.reply.text and "twice" not in report.reply.text
