"""A whole challenge week in simulated time, on both databases: set up by a coach, posted by
the real sweep through the outbox and sender, joins and dones (once per local day, in the
club's time zone), duplicate, forged and replayed taps, the leaderboard, the end summary in
the group, the coach's private report, and the next week of the series."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.engine.engine import Engine
from bot.engine.events import Reply, ReplyIntent
from bot.storage.models import ChallengeDone
from handlers.clubs.challenges import DONE_ACTION
from tests.clubs_world import Member, World, dm_chat, group_chat
from tests.harness import FakeClock

PLANK = "Plank ladder: 3 × 45 s daily"


@pytest.fixture
def world(engine: Engine, clock: FakeClock) -> World:
    return World(engine, clock)


async def set_weekly_plank_ladder(coach: Member) -> None:
    await coach.say("/challenge")
    await coach.press("New challenge")
    await coach.press(PLANK)
    await coach.say("Europe/Berlin")  # the club's zone, typed instead of a day
    assert "Times are now in Europe/Berlin" in coach.text()
    await coach.press("Tomorrow")
    await coach.press("07:00")
    await coach.press("1 week")
    await coach.press("Every week")
    assert "Tue 24 Nov 07:00" in coach.text()  # the preview, in Berlin time
    await coach.press("Schedule it")
    assert "will be posted here on Tue 24 Nov 07:00" in coach.text()
    assert coach.dialog is None


def buttons(post: Reply) -> dict[str, str]:
    return {b.label: b.payload for b in post.flat_buttons()}


async def dones(world: World) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ChallengeDone)) or 0)


async def test_a_challenge_week_from_post_to_summary(world: World, clock: FakeClock) -> None:
    anna = world.person("anna", group="harriers", admin=True, platform="telegram")
    bob = world.person("bob", group="harriers", admin=False, platform="telegram")
    cy = world.person("cy", group="harriers", admin=False, platform="telegram")
    dee = world.person("dee", group="harriers", platform="telegram")
    eve = world.person("eve", group="harriers", platform="telegram")
    await set_weekly_plank_ladder(anna)

    # Monday 09:00 UTC: nothing is due yet.
    assert await world.tick() == []
    [challenge] = await world.challenges()
    assert challenge.status == "scheduled"

    # Tuesday 07:00 Berlin = 06:00 UTC: the sweep posts it once, through the outbox.
    clock.now = clock.now.replace(day=24, hour=6)
    [post_message] = await world.tick()
    assert (post_message.platform, post_message.chat_id) == ("telegram", group_chat("harriers"))
    post = post_message.reply
    assert "Club challenge: Plank ladder" in post.text and "Goal:** 5 of 7 days" in post.text
    assert set(buttons(post)) == {"Join", "Done today"}
    assert await world.tick() == []  # no second post

    join, done = buttons(post)["Join"], buttons(post)["Done today"]
    await bob.press_payload(join)
    assert "You're in" in bob.text() and bob.last().intent is ReplyIntent.PRIVATE
    await bob.press_payload(join)
    assert "already in" in bob.text()
    await bob.press_payload(done)
    assert "Counted for Tue 24 Nov: 1 of 5 days" in bob.text()
    await bob.press_payload(done)  # a double tap
    assert "Already counted for Tue 24 Nov" in bob.text()
    await cy.press_payload(done)  # Done without Join joins as well
    assert "Counted for Tue 24 Nov" in cy.text()
    await dee.press_payload(join)

    # The presser is the actor: eve replaying bob's button counts for eve, never for bob.
    await eve.press_payload(done)
    assert "1 of 5 days" in eve.text()
    # A forged id, and a button of a challenge in another club, change nothing.
    before = await dones(world)
    await eve.press_payload(f"{DONE_ACTION}:99999")
    assert "another chat" in eve.text()
    outsider = world.person("olga", group="tuesday-runners", admin=True, platform="telegram")
    await outsider.say("/challenge new")
    for label in (PLANK, "Today", "Now", "1 week", "Just once", "Start now"):
        await outsider.press(label)
    other = next(c for c in await world.challenges() if c.id != challenge.id)
    await eve.press_payload(f"{DONE_ACTION}:{other.id}")
    assert "another chat" in eve.text()
    assert await dones(world) == before
    await world.tick()  # the other club's post goes out; nothing for harriers

    # 23:30 UTC on Tuesday is already Wednesday in Berlin: a new day for the count.
    clock.now = clock.now.replace(hour=23, minute=30)
    await bob.press_payload(done)
    assert "Counted for Wed 25 Nov: 2 of 5 days" in bob.text()
    clock.advance(hours=10)
    await bob.press_payload(done)
    assert "Already counted for Wed 25 Nov" in bob.text()
    for day in range(5):  # Thursday to Monday
        clock.advance(days=1)
        await bob.press_payload(done)
        if day == 1:
            await cy.press_payload(done)
    assert "7 of 5 days" in bob.text()

    await dee.say("/leaderboard")
    board = dee.text()
    assert board.index("Bob: 7 days") < board.index("Cy: 2 days") < board.index("Eve: 1 day")
    assert "Dee: 0 days" in board and "4 joined" in board and "best streak 7" in board

    # Tuesday 07:00 Berlin: the end. Results to the group, the report to anna privately,
    # and next week's occurrence posted right after.
    clock.now = clock.now.replace(day=1, month=12, hour=6, minute=0)
    delivered = await world.tick()
    to_group = [m.reply.text for m in delivered if m.chat_id == group_chat("harriers")]
    to_anna = [m.reply.text for m in delivered if m.chat_id == dm_chat("telegram", "anna")]
    assert len(to_group) == 2 and len(to_anna) == 1
    summary, next_post = to_group
    assert "4 joined, 3 took part (75 %) and 1 reached the goal" in summary
    assert summary.index("1. Bob: 7 days") < summary.index("2. Cy: 2 days")
    assert "3. Eve: 1 day" in summary
    assert "Longest streak:** Bob, 7 days in a row" in summary
    assert "Club challenge: Plank ladder" in next_post and "Tue 1 Dec 07:00" in next_post
    report = to_anna[0]
    assert "Joined: 4 (of 5 people I've seen in the group)" in report
    assert "Took part: 3 (75 %)" in report and "Dee: 0 days" in report
    assert "Wed 25 Nov: 1" in report and "Thu 26 Nov: 1" in report

    statuses = [(c.status, c.series_id) for c in await world.challenges()]
    assert statuses == [("ended", challenge.id), ("ended", None), ("active", challenge.id)]
    # A tap on the ended week's post is answered politely and not counted.
    before = await dones(world)
    await bob.press_payload(done)
    assert "has ended" in bob.text()
    assert await dones(world) == before
    assert await world.tick() == []  # everything happened exactly once


async def test_leaderboard_shows_only_challenge_activity(world: World, clock: FakeClock) -> None:
    """Members' health notes stay out of the group, whatever else they told the bot."""
    coach = world.person("coach", group="harriers", admin=True)
    sam = world.person("sam", group="harriers")
    sam_private = world.person("sam")
    await sam_private.say("my abs are sore after my long run")  # a private triage begins
    await coach.say("/challenge new")
    for label in ("Dead-bug form week", "Today", "Now", "1 week", "Just once", "Start now"):
        await coach.press(label)
    [post] = await world.tick()
    await sam.press_payload(buttons(post.reply)["Done today"])
    await sam.say("/leaderboard")
    board = sam.text()
    assert "Sam: 1 day" in board
    assert "sore" not in board.casefold() and "abs" not in board.casefold()
    clock.advance(days=7)
    summary = next(m.reply.text for m in await world.tick() if m.chat_id == "group:harriers")
    assert "Sam" in summary and "sore" not in summary.casefold()


async def test_outage_longer_than_the_challenge_never_posts_it_late(
    world: World, clock: FakeClock
) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    for label in ("Dead-bug form week", "Tomorrow", "07:00", "3 days", "Just once"):
        await coach.press(label)
    await coach.press("Schedule it")
    clock.advance(days=5)  # the bot was down the whole time
    assert await world.tick() == []
    [challenge] = await world.challenges()
    assert challenge.status == "missed"
    assert challenge.ends_at - challenge.starts_at == timedelta(days=3)
