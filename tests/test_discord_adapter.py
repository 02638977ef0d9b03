"""The Discord adapter end to end: the real discord.py client (HTTP, zlib gateway, CommandTree,
dynamic items) against FakeDiscord, the real engine and handlers, a real database.

Covers a soreness check through buttons in a DM and from a guild channel (which must stay
ephemeral), cards with autocomplete, a button pressed after a restart, two members in one
channel, a slow turn still acknowledged in time, DM text, mentions, guild membership,
sharding and a clean shutdown.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters import StartFailed
from bot.adapters.discord import make_bot, run_discord
from bot.adapters.discord.client import ShardedDiscordBot
from bot.adapters.discord.countdown import Countdowns
from bot.app import App, build_app
from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.engine.engine import FOREIGN_BUTTON, Engine
from bot.runner import run_platforms
from bot.storage.db import make_sessionmaker
from bot.storage.models import Chat, DialogState, TriageReport
from tests.discord_harness import (
    SLOW_SECONDS,
    act,
    adapter_router,
    buttons,
    clubhouse,
    is_ephemeral,
    messages,
    mild_outcome,
    outcome_title,
    press,
    running,
    text_of,
    walk_triage,
)
from tests.factory import build_engine
from tests.fakes.discord_api import FakeDiscord, MessageFlag
from tests.manual_clock import ManualClock, eventually


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def engine(sqlite_db: AsyncEngine, content: ContentBundle) -> Engine:
    return build_engine(sqlite_db, content, router=adapter_router())


async def test_full_triage_through_buttons_in_a_dm(
    fake: FakeDiscord, engine: Engine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    tree = content.triage
    async with running(fake, engine) as bot:
        [ack, first] = await act(fake, bot, fake.slash(club.alice, dm, "sore"))
        assert ack.json == {"type": 5}  # deferred, not ephemeral: a DM is private anyway
        assert first.route.startswith("PATCH /webhooks/") and "@original" in first.path
        outcome = await walk_triage(fake, bot, club.alice, dm, content)

    assert outcome_title(tree, outcome) == mild_outcome(tree)
    assert tree.texts.seek_help_heading in text_of(outcome)
    assert not any(is_ephemeral(m) for m in messages(fake, dm))
    # Every press was acknowledged as a deferred update (type 6), then answered.
    callbacks = [r for r in fake.requests if r.route.endswith("/callback")]
    assert {c.json["type"] for c in callbacks[1:]} == {6}
    async with engine.sessions() as session:
        [report] = (await session.scalars(select(TriageReport))).all()
        assert tree.outcomes[report.outcome].title == mild_outcome(tree)
        assert report.area == "abs"
        assert (await session.scalars(select(DialogState))).all() == []


async def test_triage_started_in_a_guild_channel_stays_ephemeral(
    fake: FakeDiscord, engine: Engine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    tree = content.triage
    async with running(fake, engine) as bot:
        [ack, _] = await act(fake, bot, fake.slash(club.alice, club.general, "sore"))
        assert ack.json["data"]["flags"] == MessageFlag.EPHEMERAL
        redirect = messages(fake, club.general)[-1]
        assert [b["label"] for b in buttons(redirect)] == [tree.texts.group_button]
        await press(fake, bot, club.alice, club.general, label=tree.texts.group_button)
        outcome = await walk_triage(fake, bot, club.alice, club.general, content)

    assert outcome_title(tree, outcome) == mild_outcome(tree)
    in_guild = messages(fake, club.general)
    # the redirect, consent, five questions and the outcome: the whole conversation happened
    # in this channel...
    assert len(in_guild) >= 8
    public = [text_of(m) for m in in_guild if not is_ephemeral(m)]
    assert public == []  # ...and nobody else saw any of it
    # No card buttons under an outcome in a guild: they would post in public.
    assert list(buttons(outcome)) == []


async def test_card_by_slash_command_with_autocomplete(
    fake: FakeDiscord, engine: Engine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    async with running(fake, engine) as bot:
        typed = fake.autocomplete(club.alice, club.general, "card", focused="name", value="pla")
        [choices] = await act(fake, bot, typed)
        assert choices.json["type"] == 8
        names = [c["name"] for c in choices.json["data"]["choices"]]
        expected = sorted(
            c.name
            for c in content.cards.values()
            if any("pla" in name.casefold() for name in c.lookup_names())
        )
        assert names == expected and "Plank" in names and "Side plank" in names

        await act(fake, bot, fake.slash(club.alice, dm, "card", {"name": "Side plank"}))
        [card] = messages(fake, dm)[-1]["embeds"]
        assert card["title"] == "Side plank"
        assert content.cards["side_plank"].summary in card["description"]
        assert "**Dose:**" in card["description"]  # our bold passes through as markdown

        # The "All cards" button under the card lists every card as buttons.
        await press(fake, bot, club.alice, dm, label="All cards")
        listed = [b["label"] for b in buttons(messages(fake, dm)[-1])]
        assert sorted(listed) == sorted(c.name for c in content.cards.values())


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
async def test_buttons_still_work_after_a_restart(
    fake: FakeDiscord, db: AsyncEngine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    before = build_engine(db, content)
    async with running(fake, before) as bot:
        await act(fake, bot, fake.slash(club.alice, dm, "cards"))
        await act(fake, bot, fake.slash(club.alice, dm, "sore"))  # consent question, open dialog

    # A new process: new engine, new client, same database, same old messages.
    after = build_engine(db, content)
    async with running(fake, after) as bot:
        await press(fake, bot, club.alice, dm, label="Dead bug")
        assert messages(fake, dm)[-1]["embeds"][0]["title"] == "Dead bug"
        await press(fake, bot, club.alice, dm, value="yes")  # the dialog goes on
        assert content.triage.texts.consent_saved in text_of(messages(fake, dm)[-1])


async def test_two_members_in_one_channel_do_not_share_a_dialog(
    fake: FakeDiscord, engine: Engine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    tree = content.triage
    async with running(fake, engine) as bot:
        for who in (club.alice, club.bob):
            await act(fake, bot, fake.slash(who, club.general, "sore"))
            await press(fake, bot, who, club.general, label=tree.texts.group_button)
        # Each has a consent question of their own, seen only by them.
        consent = {
            m["interaction_metadata"]["user"]["id"]: m
            for m in messages(fake, club.general)
            if any(str(b["custom_id"]).startswith("~") for b in buttons(m))
        }
        assert set(consent) == {str(club.alice.id), str(club.bob.id)}
        assert all(is_ephemeral(m) for m in consent.values())
        alice_consent = consent[str(club.alice.id)]
        alice_msg = int(alice_consent["id"])
        alice_yes = next(
            str(b["custom_id"]) for b in buttons(alice_consent) if b["custom_id"].endswith(".yes")
        )

        # Bob presses Alice's button (a forged or replayed payload): refused, nothing moves.
        await act(fake, bot, fake.button(club.bob, club.general, alice_msg, alice_yes))
        refusal = messages(fake, club.general)[-1]
        assert text_of(refusal) == FOREIGN_BUTTON and is_ephemeral(refusal)

        # Alice's own press still works, and moves only her dialog.
        await act(fake, bot, fake.button(club.alice, club.general, alice_msg, alice_yes))
        assert tree.texts.consent_saved in text_of(messages(fake, club.general)[-1])
    async with engine.sessions() as session:
        steps = {row.step for row in await session.scalars(select(DialogState))}
    assert steps == {0, 1}  # Bob still at consent, Alice one answer further


async def test_a_slow_turn_is_acknowledged_in_time(fake: FakeDiscord, engine: Engine) -> None:
    # Discord's 3 s rule, compressed: the fake refuses callbacks later than 0.3 s, and the
    # turn takes twice that. Deferring before the engine runs is what makes this pass.
    fake.ack_deadline = SLOW_SECONDS / 2
    club = clubhouse(fake)
    async with running(fake, engine) as bot:
        payload = fake.slash(club.alice, club.general, "slow")
        [ack, answer] = await act(fake, bot, payload)
        assert ack.ok and ack.json["type"] == 5
        assert answer.at - ack.at >= SLOW_SECONDS * 0.9  # the answer came after the wait
        assert messages(fake, club.general)[-1]["content"] == "Thanks for waiting."


async def test_private_buttons_answer_ephemerally_and_edits_stay_honest(
    fake: FakeDiscord, engine: Engine
) -> None:
    club = clubhouse(fake)
    async with running(fake, engine) as bot:
        await act(fake, bot, fake.slash(club.admin, club.general, "clubpost"))
        post = messages(fake, club.general)[-1]
        assert not is_ephemeral(post) and "plank ladder" in text_of(post)

        # A plain button answers in public; a private one (opens_private) only to the presser.
        await press(fake, bot, club.alice, club.general, label="Peek")
        peek = messages(fake, club.general)[-1]
        assert text_of(peek) == "Peek for alice" and is_ephemeral(peek)

        # A private press never writes into the public message it came from.
        await press(fake, bot, club.alice, club.general, label="Flip for me")
        mine = messages(fake, club.general)[-1]
        assert text_of(mine) == "Flipped by alice" and is_ephemeral(mine)
        assert fake.world.messages[int(post["id"])]["content"] == post["content"]

        # EDIT replaces the pressed message, in place, for everyone.
        [_, edit] = await press(fake, bot, club.bob, club.general, label="Flip")
        assert edit.route == "PATCH /webhooks/{app_id}/{token}/messages/@original"
        assert fake.world.messages[int(post["id"])]["content"] == "Flipped by bob"
        assert fake.world.messages[int(post["id"])]["components"] == []


async def test_a_timed_step_counts_down_by_editing_its_message(
    fake: FakeDiscord, engine: Engine
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    clock = ManualClock()
    async with running(fake, engine, countdowns=Countdowns(clock=clock)) as bot:
        [_, answer] = await act(fake, bot, fake.slash(club.alice, dm, "hold", {"seconds": "15"}))
        assert answer.json["content"] == "Plank: hold it!\n\n⏱ 0:15 left"
        original = int(answer.response["id"])
        # One edit every 5 s, each shown before the clock moves on.
        for left in ("0:10 left", "0:05 left", "Time!"):
            await clock.next_tick()
            await _shows(fake, original, f"Plank: hold it!\n\n⏱ {left}")
        await eventually(lambda: bot.countdowns.running == 0, "the countdown to end")
        assert clock.sleeping == 0
    ticks = [r for r in fake.requests if r.path.endswith("/@original") and r.method == "PATCH"]
    assert [t.json["content"] for t in ticks] == [
        f"Plank: hold it!\n\n⏱ {left}" for left in ("0:15 left", "0:10 left", "0:05 left", "Time!")
    ]
    # Ticks change the text only: buttons and embeds stay as they were.
    assert not any({"components", "embeds", "attachments"} & set(t.json) for t in ticks[1:])
    assert list(buttons(fake.world.messages[original]))


async def _shows(fake: FakeDiscord, message_id: int, content: str) -> None:
    await eventually(lambda: fake.world.messages[message_id]["content"] == content, content)


async def test_pressing_a_button_stops_the_countdown_it_replaces(
    fake: FakeDiscord, engine: Engine
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    clock = ManualClock()
    async with running(fake, engine, countdowns=Countdowns(clock=clock)) as bot:
        await act(fake, bot, fake.slash(club.alice, dm, "hold", {"seconds": "30"}))
        assert bot.countdowns.running == 1
        await eventually(lambda: clock.sleeping == 1, "the countdown waiting for its tick")
        await press(fake, bot, club.alice, dm, label="Done")  # EDIT: replaces the message
        assert bot.countdowns.running == 0
        await eventually(lambda: clock.sleeping == 0, "the stopped countdown to let go")
        clock.advance(60)  # past every tick it had: none comes
        [message] = messages(fake, dm)
        assert fake.world.messages[int(message["id"])]["content"] == "Flipped by alice"


async def test_dm_text_is_answered_and_guild_messages_are_ignored(
    fake: FakeDiscord, engine: Engine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    async with running(fake, engine) as bot:
        await fake.dispatch("MESSAGE_CREATE", fake.message(club.alice, club.general, "plank"))
        await fake.dispatch("MESSAGE_CREATE", fake.message(club.alice, dm, "my abs are sore"))
        sent = await fake.wait_for(lambda r: r.route == "POST /channels/{channel_id}/messages")
        assert await bot.drain(5)
    assert sent.params["channel_id"] == str(dm.id)
    answer = messages(fake, dm)[-1]
    assert {b["custom_id"].rsplit(".", 1)[-1] for b in buttons(answer)} == {"yes", "no"}
    assert content.triage.texts.consent_yes in [b["label"] for b in buttons(answer)]
    assert [r for r in fake.requests if str(club.general.id) in r.path] == []


async def test_nothing_the_bot_says_pings_anyone(fake: FakeDiscord, engine: Engine) -> None:
    club = clubhouse(fake)
    async with running(fake, engine) as bot:
        [_, answer] = await act(fake, bot, fake.slash(club.alice, club.general, "shout"))
    assert answer.json["allowed_mentions"] == {"parse": []}
    assert answer.json["content"].startswith("@everyone time for **core**")


async def test_guild_join_and_removal_are_recorded(fake: FakeDiscord, engine: Engine) -> None:
    clubhouse(fake)
    async with running(fake, engine):
        guild = fake.add_guild("Night Owls")
        track = guild.add_text_channel("track")
        # A join: Discord leaves "unavailable" out (it is there when an outage ends).
        joined = {k: v for k, v in guild.payload().items() if k != "unavailable"}
        await fake.dispatch("GUILD_CREATE", joined)
        await _until_membership(engine, str(track.id), True)
        await fake.dispatch("GUILD_DELETE", {"id": str(guild.id), "unavailable": False})
        await _until_membership(engine, str(track.id), False)


async def _until_membership(engine: Engine, chat_id: str, member: bool) -> None:
    for _ in range(200):
        async with engine.sessions() as session:
            chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == chat_id))
        if chat is not None and chat.bot_is_member is member:
            assert chat.title == "Night Owls / #track" and not chat.is_private
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"chat {chat_id} never became bot_is_member={member}")


class QuickShards(ShardedDiscordBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py waits 5 s between shard logins (Discord's identify limit)


async def test_sharded_client_answers_in_every_shard(fake: FakeDiscord, engine: Engine) -> None:
    fake.shard_count = 2
    club = clubhouse(fake)
    second = fake.add_guild("Trail Crew")
    trail = second.add_text_channel("trail")
    second.add_member(club.alice)
    bot = QuickShards(engine, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(fake.token))
    try:
        await asyncio.wait_for(bot.ready.wait(), 3)
        assert bot.shard_count == 2
        for channel in (club.general, trail):
            [_, answer] = await act(fake, bot, fake.slash(club.alice, channel, "privacy"))
            assert answer.ok and answer.json["content"]
    finally:
        await bot.close()
        await asyncio.wait_for(task, 3)


async def test_run_discord_finishes_turns_in_flight_then_stops(
    fake: FakeDiscord, sqlite_db: AsyncEngine, engine: Engine, content: ContentBundle
) -> None:
    club = clubhouse(fake)
    settings = Settings(discord_token=fake.token, content_dir=Path(content.root))
    app = App(settings, sqlite_db, make_sessionmaker(sqlite_db), content, engine)
    bot = make_bot(app, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    run = asyncio.create_task(run_discord(app, stop, bot))
    await asyncio.wait_for(bot.ready.wait(), 3)
    iid = await fake.dispatch_interaction(fake.slash(club.alice, club.general, "slow"))
    await fake.wait_for_interaction_responses(iid)  # acknowledged, the turn is running
    stop.set()
    await asyncio.wait_for(run, 5)
    assert bot.is_closed()
    [_, answer] = fake.interaction_responses(iid)
    assert answer.json["content"] == "Thanks for waiting."


async def test_corecoach_run_serves_discord_until_sigterm(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}", discord_token=fake.token
    )
    app = await build_app(settings)
    try:
        run = asyncio.create_task(run_platforms(app))
        await fake.wait_for_session(timeout=5)
        iid = await fake.dispatch_interaction(fake.slash(club.alice, dm, "privacy"))
        [_, answer] = await fake.wait_for_interaction_responses(iid, count=2, timeout=5)
        assert answer.ok and answer.json["content"]
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(run, 10)
        assert fake.sessions == []  # disconnected from the gateway
    finally:
        await app.close()


async def test_a_refused_token_stops_the_run_with_a_clear_message(
    fake: FakeDiscord, sqlite_db: AsyncEngine, engine: Engine, content: ContentBundle
) -> None:
    settings = Settings(discord_token="not-the-token")
    app = App(settings, sqlite_db, make_sessionmaker(sqlite_db), content, engine)
    with pytest.raises(StartFailed, match="refused DISCORD_BOT_TOKEN"):
        await run_discord(app, asyncio.Event())
