"""Who may coach a club, checked at each command: chat admins by the platform's word (the
harness's `admin=` stands in for Telegram administrators, creators and anonymous admins, and
for Discord's Manage Server or coach role: the adapters' own tests cover that mapping),
coaches granted with /coach add, and everyone else refused clearly with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.engine.context import TurnContext
from bot.engine.engine import NOT_A_COACH
from bot.engine.feature import Feature
from bot.storage.models import Challenge, ClubMember
from handlers.clubs.challenge_setup import DIALOG
from tests.clubs_world import World
from tests.factory import build_engine
from tests.harness import FakeClock

REFUSAL = "Only a coach of this club can do that"


@pytest.fixture
def world(sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> World:
    engine = build_engine(sqlite_db, content, clock=clock)
    return World(engine, clock)


async def roles(world: World) -> dict[str, str]:
    async with world.sessions() as session:
        rows = await session.execute(select(ClubMember.user_id, ClubMember.role))
        return {str(user_id): role for user_id, role in rows}


@pytest.mark.parametrize(
    ("platform", "admin", "may"),
    [
        ("telegram", True, True),  # creator, administrator, or an anonymous admin
        ("discord", True, True),  # Manage Server or the configured coach role
        ("test", True, True),
        ("telegram", False, False),
        ("discord", False, False),
        ("telegram", None, False),  # the platform could not say: not an admin
    ],
)
async def test_chat_admins_coach_and_members_are_refused(
    world: World, platform: str, admin: bool | None, may: bool
) -> None:
    person = world.person("pat", group="harriers", admin=admin, platform=platform)
    await person.say("/challenge new")
    assert (person.dialog == DIALOG) is may
    assert (REFUSAL in person.text()) is not may


async def test_a_granted_coach_is_a_coach_until_the_role_is_taken_back(world: World) -> None:
    anna = world.person("anna", group="harriers", admin=True)
    bob = world.person("bob", group="harriers", admin=False)
    await anna.say("/coach add @bob")
    assert "haven't seen “@bob” in this group yet" in anna.text()
    await bob.say("/leaderboard")  # now the bot has seen bob here
    await bob.say("/coach add @anna")
    assert REFUSAL in bob.text()

    await anna.say("/coach add @bob")
    assert "Bob is now a coach of this club" in anna.text()
    await anna.say("/coach add Bob")
    assert "already a coach" in anna.text()
    await bob.say("/challenge new")
    assert bob.dialog == DIALOG
    await bob.say("/cancel")
    await anna.say("/coach list")
    assert "Also coaching here: Bob" in anna.text()

    await bob.say("/coach remove anna")  # anna is an admin: no granted role to take back
    assert "no coach role that a coach granted" in bob.text()
    await anna.say("/coach remove bob")
    assert "no longer a coach" in anna.text()
    await bob.say("/challenge new")
    assert REFUSAL in bob.text() and bob.dialog is None


async def test_the_role_is_checked_again_when_the_challenge_is_confirmed(world: World) -> None:
    anna = world.person("anna", group="harriers", admin=True)
    await anna.say("/challenge new")
    for label in ("Dead-bug form week", "Tomorrow", "07:00", "1 week", "Just once"):
        await anna.press(label)
    confirm = anna.button("Schedule it").payload
    anna.admin = False  # demoted in the group's settings meanwhile
    await anna.press_payload(confirm)
    assert REFUSAL in anna.text()
    assert await world.challenges() == []


async def test_names_resolve_among_people_seen_in_this_chat(world: World) -> None:
    anna = world.person("anna", group="harriers", admin=True)
    for user in ("sam1", "sam2"):
        await world.person(user, group="harriers", display="Sam Lee").say("/leaderboard")
    await world.person("kai", group="other-club").say("/leaderboard")
    await anna.say("/leaderboard")
    before = await roles(world)

    await anna.say("/coach add @Sam Lee")
    assert "More than one person here goes by" in anna.text() and "id sam1" in anna.text()
    await anna.say("/coach add kai")  # seen, but in another group
    assert "haven't seen" in anna.text()
    await anna.say("/coach add")
    assert "Who should I add?" in anna.text()
    assert await roles(world) == before

    await anna.say("/coach add sam2")  # the platform id settles it
    assert "Sam Lee is now a coach" in anna.text()


async def test_club_commands_in_a_private_chat_point_to_the_group(world: World) -> None:
    alone = world.person("anna")
    for command in ("/challenge", "/leaderboard", "/coach add bob"):
        await alone.say(command)
        assert "That works in a club's group chat" in alone.text()
    async with world.sessions() as session:
        assert list(await session.scalars(select(Challenge))) == []


async def test_coach_only_commands_accept_the_same_coaches(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    """The engine's `coach_only` flag asks the clubs' check: a granted coach passes, as with
    /challenge, and a plain member is refused before the handler runs."""
    router = build_router()
    ran: list[str] = []
    extra = Feature("club-news")

    @extra.command("clubnews", "Post club news (coaches)", coach_only=True)
    async def clubnews(ctx: TurnContext) -> None:
        ran.append(ctx.user.platform_user_id)
        ctx.say("posted")

    router.include(extra)
    world = World(build_engine(sqlite_db, content, router=router, clock=clock), clock)
    anna = world.person("anna", group="harriers", admin=True)
    bob = world.person("bob", group="harriers", admin=False)
    await bob.say("/leaderboard")
    await bob.say("/clubnews")
    assert NOT_A_COACH.format(name="clubnews") in bob.text()
    await anna.say("/coach add @bob")
    await bob.say("/clubnews")
    assert bob.text().strip() == "posted"
    assert ran == ["bob"]
