"""Connecting Strava end to end: /strava in the chat, the fake's authorisation page, the
bot's real callback over HTTP, tokens sealed at rest; and /strava disconnect."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import privacy
from bot.config import ConfigError, Settings
from bot.content.bundle import ContentBundle
from bot.storage.models import (
    StravaActivity,
    StravaAuthState,
    StravaConnection,
    StravaJob,
    User,
)
from handlers.strava.api import configure, setup_from
from handlers.strava.tokens import TokenBox
from tests.harness import ChatHarness, FakeClock
from tests.strava_world import StravaWorld, query_of, start_world, stop_world


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    clock: FakeClock,
    bot: ChatHarness,
) -> AsyncIterator[StravaWorld]:
    built = await start_world(sessions, content, clock, bot)
    yield built
    await stop_world(built)


async def test_connect_seals_tokens_and_confirms_in_the_chat(world: StravaWorld) -> None:
    ann = world.bot.person("ann")
    url = await world.link(ann)
    asked = query_of(url)
    assert url.startswith(world.fake.oauth_base_url + "/authorize")
    assert asked["scope"] == "activity:read"  # private runs only when chosen
    assert asked["redirect_uri"] == world.root + "/strava/callback"
    assert len(asked["state"]) >= 32

    status, page = await world.get(world.fake.authorize(url))
    assert status == 200 and "Strava is connected" in page

    conn = await world.connection()
    assert conn is not None and conn.athlete_id == 1001
    grant = world.fake.live_grants(1001)[0]
    # At rest: ciphertext only, which the key opens (and no other key does).
    assert grant.access_token.encode() not in conn.access_token
    assert grant.refresh_token.encode() not in conn.refresh_token
    assert TokenBox(world.key).open(conn.access_token) == grant.access_token
    assert TokenBox(Fernet.generate_key().decode()).open(conn.access_token) is None
    [told] = await world.outbox()
    assert "Strava is connected" in told.reply["text"] and told.platform_chat_id == "dm:ann"
    # The backfill of the last 4 weeks is waiting for the worker.
    assert await world.count(StravaJob) == 1


async def test_state_is_single_use(world: StravaWorld) -> None:
    ann = world.bot.person("ann")
    url = await world.link(ann)
    callback = world.fake.authorize(url)
    assert (await world.get(callback))[0] == 200
    status, page = await world.get(callback)
    assert status == 410 and "expired" in page
    assert await world.count(StravaAuthState) == 0


async def test_state_expires_after_15_minutes(world: StravaWorld) -> None:
    url = await world.link(world.bot.person("ann"))
    world.clock.advance(minutes=16)
    status, _ = await world.get(world.fake.authorize(url))
    assert status == 410
    assert await world.count(StravaConnection) == 0


async def test_forged_state_is_refused(world: StravaWorld) -> None:
    status, _ = await world.get(world.root + "/strava/callback?state=forged&code=abc&scope=read")
    assert status == 410
    assert await world.count(StravaConnection) == 0


async def test_denied_or_unticked_scope_connects_nothing(world: StravaWorld) -> None:
    ann = world.bot.person("ann")
    status, page = await world.get(world.fake.authorize(await world.link(ann), allow=False))
    assert status == 403 and "not connected" in page
    world.fake.grant_scope = "read"  # the person unticked "View data about your activities"
    status, _ = await world.get(world.fake.authorize(await world.link(ann)))
    assert status == 403
    assert await world.count(StravaConnection) == 0


async def test_private_runs_ask_for_read_all(world: StravaWorld) -> None:
    url = await world.link(world.bot.person("ann"), private=True)
    assert query_of(url)["scope"] == "activity:read_all"
    assert (await world.get(world.fake.authorize(url)))[0] == 200
    conn = await world.connection()
    assert conn is not None and "activity:read_all" in conn.scope


async def test_one_strava_account_connects_once(world: StravaWorld) -> None:
    await world.connect(world.bot.person("ann"))
    bob = world.bot.person("bob")
    status, page = await world.get(world.fake.authorize(await world.link(bob)))
    assert status == 409 and "already connected" in page


async def test_status_and_settings_when_connected(world: StravaWorld) -> None:
    ann = world.bot.person("ann")
    await world.connect(ann)
    await ann.say("/strava")
    assert "You're connected" in ann.text()
    await ann.press("Log all sports")
    conn = await world.connection()
    assert conn is not None and conn.all_sports
    await ann.press("Don't ask after runs")
    conn = await world.connection()
    assert conn is not None and not conn.checkins


async def test_disconnect_deletes_tokens_and_deauthorises(world: StravaWorld) -> None:
    ann = world.bot.person("ann")
    await world.connect(ann)
    await world.sweep()  # the backfill
    await ann.say("/strava disconnect")
    assert "disconnected" in ann.text()
    assert await world.count(StravaConnection) == 0
    await world.sweep()
    assert world.fake.deauthorized == [1001]
    assert world.fake.live_grants(1001) == []
    assert await world.count(StravaJob) == 0
    await ann.say("/strava disconnect")
    assert "not connected" in ann.text()


async def test_in_a_group_the_link_goes_privately(world: StravaWorld) -> None:
    ann = world.bot.person("ann", group="harriers")
    replies = await ann.say("/strava")
    assert replies and all(r.intent.value == "private" for r in replies)


async def test_export_and_forget_cover_strava(world: StravaWorld) -> None:
    ann = world.bot.person("ann")
    await world.connect(ann)
    world.fake.add_activity(1001, km=8)
    await world.sweep()  # the backfill logs it
    async with world.sessions() as session:
        user = (await session.scalars(select(User).where(User.platform_user_id == "ann"))).one()
        copy = await privacy.export(session, user, world.clock())
    assert {"strava_connections", "strava_activities", "runs"} <= set(copy["tables"])
    exported = json.dumps(copy)
    assert all(g.access_token not in exported for g in world.fake.grants)

    await ann.say("/forget")
    await ann.press("Delete everything")
    assert await world.count(StravaConnection) == 0
    assert await world.count(StravaActivity) == 0
    assert await world.count(StravaAuthState) == 0
    # The grant at Strava goes too: the revoke job outlives the erased rows.
    assert world.fake.live_grants(1001) != []
    await world.sweep()
    assert world.fake.deauthorized == [1001]
    assert world.fake.live_grants(1001) == []
    assert await world.count(StravaJob) == 0


def test_settings_name_a_wrong_strava_variable() -> None:
    good = {
        "STRAVA_CLIENT_ID": "12345",
        "STRAVA_CLIENT_SECRET": "0123456789abcdef0123456789abcdef01234567",
        "STRAVA_TOKEN_KEY": Fernet.generate_key().decode(),
        "STRAVA_PUBLIC_URL": "https://coach.example.org",
    }
    setup = setup_from(Settings.from_env(good))
    assert setup is not None
    assert setup.redirect_uri == "https://coach.example.org/strava/callback"
    assert "0123456789abcdef" not in repr(setup) and good["STRAVA_TOKEN_KEY"] not in repr(setup)
    assert setup_from(Settings.from_env({**good, "STRAVA_PUBLIC_URL": ""})) is None
    for name, bad in (("STRAVA_TOKEN_KEY", "not-a-key"), ("STRAVA_CLIENT_ID", "abc")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({**good, name: bad})


async def test_strava_not_set_up_says_so(quick_bot: ChatHarness) -> None:
    configure(None)
    ann = quick_bot.person("ann")
    await ann.say("/strava")
    assert "isn't set up" in ann.text()


async def test_asked_in_a_group_the_runs_talk_in_private(world: StravaWorld) -> None:
    in_group = world.bot.person("ann", group="harriers")
    await in_group.say("/strava")
    await in_group.press("Runs others can see")
    assert "private chat" in in_group.text()  # no private chat with the bot yet: no link
    assert await world.count(StravaAuthState) == 0
    await world.bot.person("ann").say("/start")  # now there is one
    url = await world.link(in_group)
    assert (await world.get(world.fake.authorize(url)))[0] == 200
    [told] = await world.outbox()
    assert told.platform_chat_id == "dm:ann"
