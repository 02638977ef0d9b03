"""Coach commands check the member's real permissions at the moment of the command: Manage
Server, Administrator or the configured coach role are coaches; everyone else is refused,
privately, and nothing runs. The refusal itself is the engine's, so it holds on every platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.engine import NOT_A_COACH, Engine
from tests.discord_harness import (
    act,
    adapter_router,
    clubhouse,
    is_ephemeral,
    messages,
    running,
    text_of,
)
from tests.factory import build_engine
from tests.fakes.discord_api import FakeDiscord, MessageFlag, Perm
from tests.harness import ChatHarness

REFUSAL = NOT_A_COACH.format(name="clubpost")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def engine(sqlite_db: AsyncEngine, content: ContentBundle) -> Engine:
    return build_engine(sqlite_db, content, router=adapter_router())


async def test_engine_refuses_coach_commands_to_non_admins_in_groups(engine: Engine) -> None:
    harness = ChatHarness(engine)
    for admin in (False, None):  # None: the platform did not say, which is not a yes
        [reply] = await harness.person("ann", group="club", admin=admin).say("/clubpost")
        assert reply.text == REFUSAL
    [reply] = await harness.person("cat", group="club", admin=True).say("/clubpost")
    assert "plank ladder" in reply.text
    # In a private chat the handler decides (a coach addressing linked clubs, later).
    [reply] = await harness.person("ann").say("/clubpost")
    assert "plank ladder" in reply.text


async def test_member_refused_privately_coaches_post_publicly(
    fake: FakeDiscord, engine: Engine
) -> None:
    club = clubhouse(fake)
    async with running(fake, engine) as bot:
        [ack, answer] = await act(fake, bot, fake.slash(club.alice, club.general, "clubpost"))
        assert ack.json["data"]["flags"] == MessageFlag.EPHEMERAL
        refusal = messages(fake, club.general)[-1]
        assert text_of(refusal) == REFUSAL and is_ephemeral(refusal)
        assert answer.route.endswith("/messages/@original")

        for coach in (club.admin, club.coach, fake.world.users[club.guild.owner_id]):
            await act(fake, bot, fake.slash(coach, club.general, "clubpost"))
            post = messages(fake, club.general)[-1]
            assert "plank ladder" in text_of(post) and not is_ephemeral(post)
    public = [m for m in messages(fake, club.general) if not is_ephemeral(m)]
    assert len(public) == 3  # the admin's, the coach-role holder's and the owner's posts


async def test_a_role_given_counts_at_the_next_command(fake: FakeDiscord, engine: Engine) -> None:
    club = clubhouse(fake)
    async with running(fake, engine) as bot:
        await act(fake, bot, fake.slash(club.alice, club.general, "clubpost"))
        assert text_of(messages(fake, club.general)[-1]) == REFUSAL
        # Permissions come with each interaction, so there is no cache to go stale.
        club.guild.member(club.alice).roles.append(
            club.guild.add_role("Captains", Perm.MANAGE_GUILD)
        )
        await act(fake, bot, fake.slash(club.alice, club.general, "clubpost"))
        assert "plank ladder" in text_of(messages(fake, club.general)[-1])


async def test_coach_role_configured_by_id(fake: FakeDiscord, engine: Engine) -> None:
    club = clubhouse(fake)
    pacers = club.guild.add_role("Pacers", 0)
    club.guild.member(club.bob).roles.append(pacers)
    async with running(fake, engine, coach_role=str(pacers.id)) as bot:
        await act(fake, bot, fake.slash(club.bob, club.general, "clubpost"))
        assert "plank ladder" in text_of(messages(fake, club.general)[-1])
        # The role named "Coach" is not the configured one now.
        await act(fake, bot, fake.slash(club.coach, club.general, "clubpost"))
        assert text_of(messages(fake, club.general)[-1]) == REFUSAL


async def test_the_leaderboard_is_for_the_whole_channel(fake: FakeDiscord, engine: Engine) -> None:
    club = clubhouse(fake)
    async with running(fake, engine) as bot:
        [ack, _] = await act(fake, bot, fake.slash(club.alice, club.general, "leaderboard"))
        assert "data" not in ack.json  # deferred in public
        board = messages(fake, club.general)[-1]
        assert text_of(board) and not is_ephemeral(board)
        [ack, _] = await act(fake, bot, fake.slash(club.alice, club.general, "cards"))
        assert ack.json["data"]["flags"] == MessageFlag.EPHEMERAL  # the rest: only to you
