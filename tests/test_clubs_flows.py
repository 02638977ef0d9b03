"""/challenge as people meet it: a member sees the current challenge (no refusal first), a
coach sees what is set and a New challenge button (no set-up until pressed); a club runs one
challenge at a time unless the coach replaces it; a custom challenge has a title and a body,
and a coach's asterisks never turn into formatting; buttons say what they do."""

from __future__ import annotations

import re

import discord
import pytest

from bot.adapters.discord.render import escape as discord_escape
from bot.adapters.telegram.render import to_html
from bot.content.text import escape_markup
from bot.engine.engine import Engine
from bot.engine.events import ReplyIntent
from handlers.clubs.challenge_setup import DIALOG
from handlers.clubs.challenges import NEW_ACTION
from tests.clubs_world import Member, World
from tests.harness import FakeClock

PLANK = "Plank ladder: 3 × 45 s daily"
DEAD_BUG = "Dead-bug form week"
REFUSAL = "Only a coach of this club can do that"


@pytest.fixture
def world(engine: Engine, clock: FakeClock) -> World:
    return World(engine, clock)


async def set_challenge(coach: Member, *labels: str) -> None:
    """/challenge, New challenge, then the given answers in order."""
    await coach.say("/challenge")
    await coach.press("New challenge")
    for label in labels:
        await coach.press(label)


async def live(world: World) -> dict[str, str]:
    return {
        c.title: c.status
        for c in await world.challenges()
        if c.status in ("scheduled", "active", "paused")
    }


# --- what /challenge shows ------------------------------------------------------------------


async def test_a_member_sees_the_current_challenge_without_a_refusal(world: World) -> None:
    member = world.person("mo", group="harriers")
    await member.say("/challenge")
    assert member.text().strip() == "There's no challenge running in this club right now."

    coach = world.person("coach", group="harriers", admin=True)
    await set_challenge(coach, DEAD_BUG, "Tomorrow", "07:00", "1 week", "Just once", "Schedule it")
    await member.say("/challenge")
    assert "Next up: **Dead-bug form week**, from Tue 24 Nov 07:00" in member.text()

    await set_challenge(coach, PLANK, "Today", "Now", "1 week", "Just once", "Start now")
    await coach.press("Replace with the new one")
    await member.say("/challenge")
    assert REFUSAL not in member.text() and "Nothing was changed" not in member.text()
    assert member.last_turn is not None
    [shown] = member.last_turn.replies
    assert shown.text.startswith("The current challenge:\n\n**Club challenge: Plank ladder")
    assert member.labels() == ["Join", "Done today"]
    assert member.dialog is None


async def test_a_coach_gets_the_status_and_a_new_challenge_button_not_a_set_up(
    world: World,
) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge")
    assert coach.dialog is None  # no set-up until asked for
    assert "No challenge is set for this club right now." in coach.text()
    assert coach.labels() == ["New challenge"]

    await coach.press("New challenge")
    assert coach.dialog == DIALOG and "Pick one from the library" in coach.text()
    for label in (PLANK, "Tomorrow", "07:00", "1 week", "Every week", "Schedule it"):
        await coach.press(label)

    await coach.say("/challenge")
    assert coach.dialog is None
    assert "**Plank ladder: 3 × 45 s daily**: starts Tue 24 Nov 07:00, repeats weekly." in (
        coach.text()
    )
    assert coach.labels() == ["Stop", "New challenge"]
    assert "I'll ask before anything set now is replaced" in coach.text()


async def test_the_new_challenge_button_is_for_coaches_only(world: World) -> None:
    member = world.person("mo", group="harriers")
    await member.press_payload(f"{NEW_ACTION}:")
    assert REFUSAL in member.text() and member.dialog is None
    assert member.last_turn is not None
    assert all(r.intent is ReplyIntent.PRIVATE for r in member.last_turn.replies)
    await member.say("/challenge new")
    assert REFUSAL in member.text() and member.dialog is None
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")  # the shortcut straight to the set-up
    assert coach.dialog == DIALOG


# --- one challenge at a time ----------------------------------------------------------------


async def test_a_second_challenge_asks_to_replace_or_keep_the_first(world: World) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await set_challenge(coach, PLANK, "Today", "Now", "1 week", "Just once", "Start now")
    [first_post] = await world.tick()
    assert await live(world) == {PLANK: "active"}

    await set_challenge(coach, DEAD_BUG, "Tomorrow", "07:00", "3 days", "Just once")
    await coach.press("Schedule it")
    assert coach.dialog == DIALOG
    assert "**Plank ladder: 3 × 45 s daily** (running until Mon 30 Nov 09:00) is already set" in (
        coach.text()
    )
    assert coach.labels() == ["Replace with the new one", "Keep what's set"]
    await coach.press("Keep what's set")
    assert "nothing was changed" in coach.text() and coach.dialog is None
    assert await live(world) == {PLANK: "active"}

    await set_challenge(coach, DEAD_BUG, "Tomorrow", "07:00", "3 days", "Just once")
    await coach.press("Schedule it")
    await coach.press("Replace with the new one")
    assert "Stopped to make way: **Plank ladder" in coach.text()
    assert "Scheduled: **Dead-bug form week**" in coach.text()
    assert await live(world) == {DEAD_BUG: "scheduled"}
    # The replaced one is over: its buttons count nothing any more.
    member = world.person("mo", group="harriers")
    done = next(b.payload for b in first_post.reply.flat_buttons() if b.label == "Done today")
    await member.press_payload(done)
    assert "has ended" in member.text()


async def test_challenges_one_after_the_other_need_no_question_but_a_series_does(
    world: World,
) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await set_challenge(coach, PLANK, "Today", "Now", "3 days", "Just once", "Start now")
    # Starting on Friday, after Monday's three days are over: no overlap, nothing asked.
    await set_challenge(coach, DEAD_BUG)
    await coach.press(coach.labels()[4])  # the fifth day button: Fri 27
    await coach.press("07:00")
    await coach.press("3 days")
    await coach.press("Just once")
    await coach.press("Schedule it")
    assert "Scheduled: **Dead-bug form week**" in coach.text()
    assert await live(world) == {PLANK: "active", DEAD_BUG: "scheduled"}

    # A weekly series runs until stopped, so it is in the way of anything after it.
    await set_challenge(coach, "Write my own")
    await coach.say("Bridge week")
    await coach.say("Twenty glute bridges a day")
    for label in ("Today", "Now", "5 days", "3 days", "Every week", "Start now"):
        await coach.press(label)
    assert "already set for this club" in coach.text()
    assert "Plank ladder" in coach.text() and "Dead-bug form week" in coach.text()
    assert "Replace them with **Bridge week**" in coach.text()
    await coach.press("Replace with the new one")
    assert await live(world) == {"Bridge week": "active"}


async def test_the_replace_question_is_asked_again_when_what_is_set_changed(
    world: World,
) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    other = world.person("cleo", group="harriers", admin=True)
    await set_challenge(coach, PLANK, "Today", "Now", "1 week", "Just once", "Start now")
    await set_challenge(coach, DEAD_BUG, "Today", "Now", "3 days", "Just once", "Start now")
    replace = coach.button("Replace with the new one").payload
    # Meanwhile another coach stops the plank ladder and sets a custom one.
    await other.say("/challenge")
    await other.press("Stop")
    await set_challenge(other, "Write my own")
    await other.say("Bridge week")
    await other.say("Twenty glute bridges a day")
    for label in ("Today", "Now", "5 days", "3 days", "Just once", "Start now"):
        await other.press(label)
    assert await live(world) == {"Bridge week": "active"}

    await coach.press_payload(replace)
    assert "**Bridge week**" in coach.text() and "already set" in coach.text()
    assert await live(world) == {"Bridge week": "active"}  # not replaced unseen
    await coach.say("hmm")  # typed: the question again
    assert "**Bridge week**" in coach.text() and "already set" in coach.text()
    await other.say("/challenge")
    await other.press("Stop")  # and now nothing is in the way
    await coach.say("hmm")
    assert coach.labels() == ["Start now", "Cancel"]  # back to the preview
    await coach.press("Start now")
    assert await live(world) == {DEAD_BUG: "active"}


async def test_a_broadcast_challenge_asks_about_clubs_that_have_one(
    world: World, clock: FakeClock
) -> None:
    coach = world.person("cat", platform="telegram")
    admins = {
        group: world.person("cat", group=group, admin=True, platform="telegram")
        for group in ("north", "south")
    }
    for admin in admins.values():
        await coach.say("/coach link")
        code = re.search(r"\*\*([A-Z0-9]{8})\*\*", coach.text())
        assert code is not None
        await admin.say(f"/coach link {code.group(1)}")
    await set_challenge(admins["north"], PLANK, "Today", "Now", "1 week", "Just once")
    await admins["north"].press("Start now")

    await coach.say("/broadcast Side planks this week, everyone!")
    await coach.press("A challenge")
    await coach.press("Side plank: 3 × 30 s a side")
    assert "Already set: **Plank ladder: 3 × 45 s daily** in north (telegram)." in coach.text()
    assert coach.labels() == ["Send, replacing theirs", "Send, keeping theirs", "Cancel"]
    await coach.press("Send, keeping theirs")
    statuses = {(c.chat_id, c.title): c.status for c in await world.challenges()}
    assert sorted(statuses.values()) == ["active", "active"]  # north's own, south's new
    assert any(title == PLANK for _, title in statuses)

    await coach.say("/broadcast Side planks, take two")
    await coach.press("A challenge")
    await coach.press("Side plank: 3 × 30 s a side")
    await coach.press("Send, replacing theirs")
    running = [c.title for c in await world.challenges() if c.status == "active"]
    assert sorted(running) == ["Side plank: 3 × 30 s a side"] * 2


# --- a custom challenge's title, body and markup ------------------------------------------------


async def test_a_custom_challenge_has_its_own_title_and_body_and_a_coachs_stars_stay_stars(
    world: World,
) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await set_challenge(coach, "Write my own")
    assert "short title" in coach.text()
    await coach.say("**Core** *week")
    assert "Now the challenge itself" in coach.text()
    await coach.say("Do 3*10 **bridges** daily, then __rest__ `ok`")
    for label in ("Today", "Now", "1 week", "5 days", "Just once"):
        await coach.press(label)
    assert coach.labels() == ["Start now", "Cancel"]
    await coach.press("Start now")
    [post] = await world.tick()
    text = post.reply.text
    title, body = escape_markup("**Core** *week"), escape_markup("Do 3*10 **bridges** daily")
    assert f"**Club challenge: {title}**" in text and body in text
    assert "Core** *week\n" not in text  # the title is not repeated as the body

    # Telegram: bold only where the bot put it; the coach's asterisks are shown as typed.
    html = to_html(text)
    assert re.findall(r"<b>(.*?)</b>", html, re.S)[0] == f"Club challenge: {title}"
    assert "<b>bridges</b>" not in html and "<b>Core</b>" not in html
    assert html.count("<b>") == text.count("**") // 2  # the coach's stars pair with nothing
    assert html.replace("\u2060", "").count("**Core** *week") == 1
    # Discord: the coach's markdown is escaped, the bot's bold kept.
    shown = discord_escape(text)
    assert "**bridges**" not in shown and "__rest__" not in shown
    assert shown.startswith("**Club challenge: ")
    assert discord.utils.remove_markdown(shown).count("Club challenge") == 1


def test_escaping_keeps_the_text_and_is_done_once() -> None:
    raw = "a **b** *c* ***"
    once = escape_markup(raw)
    assert once.replace("\u2060", "") == raw
    assert "**" not in once and escape_markup(once) == once
    assert to_html(f"**{once}**") == f"<b>{once}</b>"


async def test_buttons_say_whether_the_post_goes_now_or_later(world: World) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await set_challenge(coach, DEAD_BUG, "Today", "Now", "1 week", "Just once")
    assert "right away" in coach.text() and coach.labels() == ["Start now", "Cancel"]
    await coach.press("Cancel")
    await set_challenge(coach, DEAD_BUG, "Today", "18:00", "1 week", "Just once")
    assert "on Mon 23 Nov 18:00" in coach.text() and coach.labels() == ["Schedule it", "Cancel"]
