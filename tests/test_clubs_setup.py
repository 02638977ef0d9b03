"""The /challenge dialog's answers (typed times and zones, past times, a custom challenge,
lengths and targets, cancel, stale buttons) and the club content's own checks."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_content
from handlers.clubs.challenge_setup import parse_time
from tests.clubs_world import World
from tests.factory import build_engine
from tests.harness import FakeClock


@pytest.fixture
def world(sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> World:
    engine = build_engine(sqlite_db, content, clock=clock)
    return World(engine, clock)


@pytest.mark.parametrize(
    ("typed", "minute"),
    [("7", 420), ("7:30", 450), ("19.05", 1145), ("7pm", 1140), ("12am", 0), ("12:15 pm", 735)],
)
def test_typed_times(typed: str, minute: int) -> None:
    assert parse_time(typed) == minute


@pytest.mark.parametrize("typed", ["25:00", "7:60", "13pm", "soon", "", "0:5"])
def test_not_times(typed: str) -> None:
    assert parse_time(typed) is None


async def test_typed_time_zone_and_past_times(world: World, clock: FakeClock) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    await coach.press("Dead-bug form week")
    await coach.say("Atlantis/Lost")
    assert "I didn't understand “Atlantis/Lost”" in coach.text()
    await coach.say("new york")
    assert "Times are now in America/New_York" in coach.text()
    await coach.press("Today")  # 04:00 in New York on Monday
    assert "06:00" in coach.labels() and "Now" in coach.labels()
    await coach.say("3:30")
    assert "already passed" in coach.text()
    await coach.say("7:45pm")
    await coach.press("1 week")
    await coach.press("Just once")
    await coach.press("Schedule it")
    [challenge] = await world.challenges()
    assert challenge.timezone == "America/New_York"
    assert challenge.starts_at == datetime(2026, 11, 24, 0, 45, tzinfo=UTC)
    assert challenge.target_days == 5 and challenge.days == 7


async def test_a_custom_challenge_with_its_own_target(world: World) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    await coach.press("Write my own")
    assert "short title" in coach.text()
    await coach.say("x" * 61)
    assert "keep the title to 60" in coach.text()
    await coach.say("Bridge week")
    assert "Now the challenge itself" in coach.text()
    await coach.say("hi")
    assert "Please type the challenge" in coach.text()
    await coach.say("x" * 301)
    assert "keep it under 300" in coach.text()
    await coach.say("20 glute bridges and a 30-second side plank each side")
    await coach.press("Tomorrow")
    await coach.press("18:00")
    await coach.press("5 days")
    await coach.say("9")
    assert "from 1 to 5" in coach.text()
    await coach.press("3 days")
    await coach.press("Every week")
    assert "20 glute bridges" in coach.text() and "Goal:** 3 of 5 days" in coach.text()
    await coach.press("Schedule it")
    [challenge] = await world.challenges()
    assert (challenge.template_id, challenge.target_days, challenge.days) == (None, 3, 5)
    assert challenge.title == "Bridge week"
    assert challenge.details == "20 glute bridges and a 30-second side plank each side"
    assert challenge.repeat_weekly and challenge.series_id == challenge.id


async def test_two_weeks_scale_the_goal_and_skip_the_repeat_question(world: World) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    for label in ("Plank ladder: 3 × 45 s daily", "Tomorrow", "07:00", "2 weeks"):
        await coach.press(label)
    assert "Goal:** 10 of 14 days" in coach.text()
    assert coach.labels() == ["Schedule it", "Cancel"]


async def test_cancel_and_stale_buttons_change_nothing(world: World) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    await coach.press("Dead-bug form week")
    stale = coach.button("Tomorrow").payload
    await coach.press("Tomorrow")
    cancel = coach.button("Cancel").payload
    await coach.press_payload(stale)
    assert coach.last_turn is not None and coach.last_turn.asked_again  # the open question
    assert "Cancel" in coach.labels()
    await coach.press_payload(cancel)
    assert "no challenge was set" in coach.text() and coach.dialog is None
    assert await world.challenges() == []


def _content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def test_club_content_problems_name_file_and_line(tmp_path: Path) -> None:
    root = _content_copy(tmp_path)
    ladder = root / "challenges" / "plank_ladder.yaml"
    ladder.write_text(ladder.read_text().replace("cards: [plank]", "cards: [planck]"))
    clubs = root / "clubs.yaml"
    clubs.write_text(clubs.read_text().replace("{code}**", "{coda}**"))
    bundle, problems = load_content(root)
    assert bundle is None
    found = {(p.file.name, p.message) for p in problems}
    assert ("plank_ladder.yaml", "cards: no card 'planck'") in found
    [placeholder] = [p for p in problems if p.file.name == "clubs.yaml"]
    assert "unknown placeholder {coda}" in placeholder.message
    ladder_problem = next(p for p in problems if p.file.name == "plank_ladder.yaml")
    assert ladder.read_text().splitlines()[ladder_problem.line - 1].startswith("cards:")


async def test_a_discord_coach_gets_the_report_once_their_private_chat_is_known(
    world: World, clock: FakeClock
) -> None:
    coach = world.person("dora", group="trail", admin=True, platform="discord")
    await coach.say("/challenge new")
    for label in ("Dead-bug form week", "Today", "Now", "3 days", "Just once", "Start now"):
        await coach.press(label)
    assert "I don't know your private chat yet" in coach.text()
    await world.person("dora", platform="discord").say("/coach")  # learnt here
    clock.advance(days=3)
    delivered = await world.tick()
    assert ("discord", "dm:dora") in {(m.platform, m.chat_id) for m in delivered}


async def test_a_coach_stops_a_running_challenge_from_the_group(
    world: World, clock: FakeClock
) -> None:
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    for label in ("Dead-bug form week", "Tomorrow", "07:00", "1 week", "Every week"):
        await coach.press(label)
    await coach.press("Schedule it")
    await coach.say("/challenge")
    assert "Dead-bug form week**: starts Tue 24 Nov 07:00, repeats weekly" in coach.text()
    member = world.person("mo", group="harriers")
    stop = coach.button("Stop").payload
    await member.press_payload(stop)
    assert "Only a coach" in member.text()
    await coach.press_payload(stop)
    assert "Stopped" in coach.text()
    clock.advance(days=2)
    assert await world.tick() == []
    [challenge] = await world.challenges()
    assert (challenge.status, challenge.repeat_weekly) == ("cancelled", False)
