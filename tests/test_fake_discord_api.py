"""The fake Discord works with the real discord.py 2.x client, end to end, offline.

No mocks: each test runs a real ``discord.Client`` (HTTP via aiohttp, the zlib-stream
gateway websocket, CommandTree, persistent views) against FakeDiscord on 127.0.0.1.
Besides proving the fake, these tests pin down discord.py behaviour an adapter relies on:

* on_ready fires ``guild_ready_timeout`` (default 2 s) after the last GUILD_CREATE; tests
  pass ``guild_ready_timeout=0.05``.
* Persistent views survive a restart only if re-registered (``add_view`` in setup_hook) with
  the same custom_ids; DynamicItem templates route *any* matching custom_id and need the
  interaction's message to contain that component.
* A 429 needs a ``Via`` header or discord.py treats it as a Cloudflare ban; it sleeps the
  JSON ``retry_after`` and retries. 5xx are retried after 1 + 2·attempt seconds.
* The first follow-up after ``defer(thinking=True)`` replaces the "thinking…" message and
  inherits the defer's ephemerality.
* Without the message_content intent, guild messages arrive with empty content (DMs and
  mentions of the bot excepted). discord.py checks no length limits itself: the fake's 400s
  (code 50035) surface as ``discord.HTTPException``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes.discord_api import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeUser,
    Intent,
    MessageFlag,
    Perm,
)

CARDS = ["plank", "side_plank", "dead_bug", "bird_dog", "glute_bridge"]
DONE_ID = "corecoach:done"  # a fixed custom_id: what makes a View persistent


@dataclass
class Log:
    """What the bot's callbacks saw, shared across client rebuilds."""

    events: list[str] = field(default_factory=list)
    messages: list[discord.Message] = field(default_factory=list)


class DoneView(discord.ui.View):
    def __init__(self, log: Log) -> None:
        super().__init__(timeout=None)
        self.log = log

    @discord.ui.button(label="Done", style=discord.ButtonStyle.success, custom_id=DONE_ID)
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.log.events.append(f"done:{interaction.user.id}")
        await interaction.response.send_message("Logged!", ephemeral=True)


class CardDone(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"card:(?P<card>[a-z_]+):done",
):
    """A button whose custom_id carries state; routed by regex, even after a restart."""

    def __init__(self, card: str, log: Log | None = None) -> None:
        super().__init__(discord.ui.Button(label="Done", custom_id=f"card:{card}:done"))
        self.card = card
        self.log = log

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CardDone:
        client = interaction.client
        assert isinstance(client, CoachClient)
        return cls(match["card"], client.log)

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.log is not None
        self.log.events.append(f"card-done:{self.card}")
        await interaction.response.edit_message(content=f"{self.card} done", view=None)


class RpeModal(discord.ui.Modal, title="How hard was it?"):
    score: discord.ui.TextInput[RpeModal] = discord.ui.TextInput(
        label="RPE 1-10", custom_id="rpe_score", max_length=2
    )

    def __init__(self, log: Log) -> None:
        super().__init__(custom_id="rpe_modal")
        self.log = log

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.log.events.append(f"rpe:{self.score.value}")
        await interaction.response.send_message(f"RPE {self.score.value} saved", ephemeral=True)


class CoachClient(discord.Client):
    def __init__(self, log: Log, *, intents: discord.Intents | None = None) -> None:
        super().__init__(intents=intents or discord.Intents.default(), guild_ready_timeout=0.05)
        self.log = log
        self.ready = asyncio.Event()
        self.tree = app_commands.CommandTree(self)
        self._add_commands()

    def _add_commands(self) -> None:
        @self.tree.command(description="Check the bot is alive")
        async def ping(interaction: discord.Interaction) -> None:
            perms = interaction.permissions
            await interaction.response.send_message(f"pong admin={perms.administrator}")

        @self.tree.command(description="Show a core card")
        async def card(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"Card: {name}", ephemeral=True)

        @card.autocomplete("name")
        async def card_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=c, value=c) for c in CARDS if current in c]

        @self.tree.command(description="Think, then answer")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("first")
            await interaction.followup.send("second", ephemeral=True)

        @self.tree.command(description="Today's plan, as a file")
        async def plan(interaction: discord.Interaction) -> None:
            embed = discord.Embed(title="Core plan", description="3 rounds")
            file = discord.File(io.BytesIO(b"plank 45s\nbird dog 10/side\n"), "plan.txt")
            await interaction.response.send_message("Here you go", embed=embed, file=file)
            await interaction.edit_original_response(content="Here you go (edited)")

        @self.tree.command(description="Rate your effort")
        async def rpe(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(RpeModal(self.log))

    async def setup_hook(self) -> None:
        # Re-registering at every start is what makes old buttons work after a restart.
        self.add_view(DoneView(self.log))
        self.add_dynamic_items(CardDone)

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        self.log.messages.append(message)


@dataclass
class World:
    guild: FakeGuild
    general: FakeChannel
    alice: FakeUser
    admin: FakeUser


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def world(fake: FakeDiscord) -> World:
    guild = fake.add_guild("Runners")
    general = guild.add_text_channel("general")
    alice = fake.add_user("alice")
    guild.add_member(alice)
    admin = fake.add_user("coachadmin")
    guild.add_member(admin, roles=[guild.add_role("Admins", Perm.ADMINISTRATOR)])
    return World(guild, general, alice, admin)


@contextlib.asynccontextmanager
async def running(client: CoachClient, fake: FakeDiscord) -> AsyncIterator[CoachClient]:
    """Start the client for real (login + gateway) and close it cleanly afterwards."""
    task = asyncio.create_task(client.start(fake.token))
    ready = asyncio.create_task(client.ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=2, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()  # surfaces login / gateway errors
        assert ready in done, "client never reached on_ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(task, timeout=2)


async def test_connects_through_gateway_and_reaches_ready(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake) as client:
        assert client.user is not None and client.user.id == fake.bot.id
        assert client.application_id == fake.application_id
        guild = client.get_guild(world.guild.id)
        assert guild is not None and guild.get_channel(world.general.id) is not None
        session = await fake.wait_for_session()
        # discord.py picks zlib-stream unless zstandard is importable.
        expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
        assert session.compression == expected
        identify = await fake.wait_for_gateway(lambda f: f["op"] == 2)
        assert identify["d"]["intents"] == discord.Intents.default().value
        await fake.wait_for_gateway(lambda f: f["op"] == 1)  # first heartbeat, acked
        routes = [r.route for r in fake.requests]
        assert routes[:2] == ["GET /users/@me", "GET /oauth2/applications/@me"]


async def test_slash_command_reply_is_recorded(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake):
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "ping"))
        [callback] = await fake.wait_for_interaction_responses(iid)
        assert callback.route == "POST /interactions/{interaction_id}/{token}/callback"
        assert callback.json["type"] == 4
        assert callback.json["data"]["content"] == "pong admin=False"
        assert callback.query == {"with_response": "1"}

        # Interactions carry member.permissions resolved from roles.
        iid = await fake.dispatch_interaction(fake.slash(world.admin, world.general, "ping"))
        [callback] = await fake.wait_for_interaction_responses(iid)
        assert callback.json["data"]["content"] == "pong admin=True"
        assert [m["content"] for m in fake.sent_messages(world.general)] == [
            "pong admin=False",
            "pong admin=True",
        ]


async def test_autocomplete_returns_choices(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake):
        payload = fake.autocomplete(world.alice, world.general, "card", focused="name", value="pl")
        iid = await fake.dispatch_interaction(payload)
        [callback] = await fake.wait_for_interaction_responses(iid)
        assert callback.json["type"] == 8
        names = [c["name"] for c in callback.json["data"]["choices"]]
        assert names == ["plank", "side_plank"]


async def test_ephemeral_reply_has_flag_64(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake):
        payload = fake.slash(world.alice, world.general, "card", {"name": "dead_bug"})
        iid = await fake.dispatch_interaction(payload)
        [callback] = await fake.wait_for_interaction_responses(iid)
        assert callback.json["data"]["content"] == "Card: dead_bug"
        assert callback.json["data"]["flags"] == MessageFlag.EPHEMERAL


async def test_deferred_response_then_followups(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake):
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "slow"))
        defer, first, second = await fake.wait_for_interaction_responses(iid, count=3)
        assert defer.json == {"type": 5}
        assert first.route == second.route == "POST /webhooks/{app_id}/{token}"
        # The first follow-up replaced the "thinking…" message; the second is a new one.
        original_id = defer.response["resource"]["message"]["id"]
        assert first.response["id"] == original_id
        assert first.response["flags"] & MessageFlag.LOADING == 0
        assert second.response["id"] != original_id
        assert second.json["flags"] == MessageFlag.EPHEMERAL


async def test_persistent_view_and_dynamic_item_survive_a_restart(
    fake: FakeDiscord, world: World
) -> None:
    log = Log()
    async with running(CoachClient(log), fake) as first:
        channel = first.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        done_msg = await channel.send("Plank done?", view=DoneView(log))
        card_view = discord.ui.View(timeout=None)
        card_view.add_item(CardDone("plank"))
        card_msg = await channel.send("Card: plank", view=card_view)

    # A brand-new Client object, as after a process restart.
    async with running(CoachClient(log), fake):
        payload = fake.button(world.alice, world.general, done_msg.id, DONE_ID)
        iid = await fake.dispatch_interaction(payload)
        [callback] = await fake.wait_for_interaction_responses(iid)
        assert callback.json["data"]["content"] == "Logged!"
        assert callback.json["data"]["flags"] == MessageFlag.EPHEMERAL
        assert log.events == [f"done:{world.alice.id}"]

        payload = fake.button(world.alice, world.general, card_msg.id, "card:plank:done")
        iid = await fake.dispatch_interaction(payload)
        [update] = await fake.wait_for_interaction_responses(iid)
        assert update.json["type"] == 7  # UPDATE_MESSAGE edits the card in place
        assert fake.world.messages[card_msg.id]["content"] == "plank done"
        assert fake.world.messages[card_msg.id]["components"] == []
        assert log.events[-1] == "card-done:plank"


async def test_tree_sync_hits_command_routes(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake) as client:
        synced = await client.tree.sync()
        put = await fake.wait_for(lambda r: r.route == "PUT /applications/{app_id}/commands")
        names = ["card", "ping", "plan", "rpe", "slow"]
        assert sorted(c["name"] for c in put.json) == names
        assert sorted(c.name for c in synced) == names
        card = next(c for c in synced if c.name == "card")
        option = card.options[0]
        assert isinstance(option, app_commands.Argument) and option.autocomplete

        guild = discord.Object(world.guild.id)
        client.tree.copy_global_to(guild=guild)
        await client.tree.sync(guild=guild)
        assert fake.commands[world.guild.id][0]["guild_id"] == str(world.guild.id)

        # Invocations now carry the synced id and guild_id; discord.py still routes them.
        payload = fake.slash(world.alice, world.general, "ping")
        assert payload["data"]["guild_id"] == str(world.guild.id)
        iid = await fake.dispatch_interaction(payload)
        await fake.wait_for_interaction_responses(iid)


async def test_files_and_embeds_go_multipart(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake) as client:
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "plan"))
        callback, edit = await fake.wait_for_interaction_responses(iid, count=2)
        assert callback.json["type"] == 4
        assert callback.json["data"]["embeds"][0]["title"] == "Core plan"
        [upload] = callback.files
        assert (upload.field, upload.filename) == ("files[0]", "plan.txt")
        assert upload.data.startswith(b"plank 45s")
        assert edit.route == "PATCH /webhooks/{app_id}/{token}/messages/@original"
        original = fake.world.messages[int(callback.response["resource"]["message"]["id"])]
        assert original["content"] == "Here you go (edited)"
        assert [a["filename"] for a in original["attachments"]] == ["plan.txt"]  # kept

        channel = client.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        file = discord.File(io.BytesIO(b"km,min\n5,27\n"), "run.csv")
        sent = await channel.send("log", file=file, embed=discord.Embed(title="Run"))
        assert await sent.attachments[0].read() == b"km,min\n5,27\n"  # served by the fake
        await sent.edit(content="log (edited)")
        patch = await fake.wait_for(lambda r: r.route.startswith("PATCH /channels/"))
        assert patch.json["content"] == "log (edited)"
        assert fake.world.messages[sent.id]["embeds"][0]["title"] == "Run"


async def test_modal_roundtrip(fake: FakeDiscord, world: World) -> None:
    log = Log()
    async with running(CoachClient(log), fake):
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "rpe"))
        [modal] = await fake.wait_for_interaction_responses(iid)
        assert modal.json["type"] == 9
        assert modal.json["data"]["custom_id"] == "rpe_modal"
        submit = fake.modal_submit(world.alice, world.general, "rpe_modal", {"rpe_score": "7"})
        iid = await fake.dispatch_interaction(submit)
        [reply] = await fake.wait_for_interaction_responses(iid)
        assert reply.json["data"]["content"] == "RPE 7 saved"
        assert log.events == ["rpe:7"]


@pytest.mark.parametrize("is_global", [False, True])
async def test_429_on_channel_send_is_retried_once(
    fake: FakeDiscord, world: World, is_global: bool
) -> None:
    async with running(CoachClient(Log()), fake) as client:
        channel = client.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        fake.fail_next(
            f"/channels/{world.general.id}/messages", 429, retry_after=0.2, is_global=is_global
        )
        started = time.monotonic()
        await channel.send("ten minutes of core today")
        assert time.monotonic() - started >= 0.2
        sends = [r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]
        assert [r.status for r in sends] == [429, 200]
        assert sends[0].response["retry_after"] == 0.2
        assert [m["content"] for m in fake.sent_messages(world.general)] == [
            "ten minutes of core today"
        ]


async def test_429_on_interaction_followup_is_retried(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake):
        fake.fail_next("/webhooks/", 429, retry_after=0.1, method="POST")
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "slow"))
        _, first, second = await fake.wait_for_interaction_responses(iid, count=3)
        assert (first.response["content"], second.response["content"]) == ("first", "second")
        assert [r.status for r in fake.requests if r.route.startswith("POST /webhooks")] == [
            429,
            200,
            200,
        ]


async def test_5xx_is_retried(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake) as client:
        channel = client.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        fake.fail_next("/messages", 502)  # HTML body, like Cloudflare
        await channel.send("still here")  # discord.py sleeps 1 s, then retries
        sends = [r.status for r in fake.requests if r.method == "POST"]
        assert sends == [502, 200]


async def test_limits_are_enforced_with_discord_errors(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake) as client:
        channel = client.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.status == 400 and too_long.value.code == 50035
        assert "content" in too_long.value.text and "2000" in too_long.value.text

        with pytest.raises(discord.HTTPException) as big_embed:
            await channel.send(embed=discord.Embed(description="y" * 4097))
        assert "embeds.0.description" in big_embed.value.text

        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="z" * 81, custom_id="c" * 101))
        with pytest.raises(discord.HTTPException) as bad_button:
            await channel.send("pick", view=view)
        text = bad_button.value.text
        assert "components.0.components.0.label" in text and "custom_id" in text

        embeds = [discord.Embed(description="e" * 4000) for _ in range(2)]
        with pytest.raises(discord.HTTPException, match="6000"):
            await channel.send(embeds=embeds)
        assert fake.sent_messages() == []


async def test_dm_open_send_and_closed_dms(fake: FakeDiscord, world: World) -> None:
    bob = fake.add_user("bob", accepts_dms=False)
    world.guild.add_member(bob)
    async with running(CoachClient(Log()), fake) as client:
        alice = await client.fetch_user(world.alice.id)
        await alice.send("Time for your core session")
        dm = fake.dm_channel(world.alice)
        assert [m["content"] for m in fake.sent_messages(dm)] == ["Time for your core session"]
        assert await fake.wait_for(lambda r: r.route == "POST /users/@me/channels")

        guild = client.get_guild(world.guild.id)
        assert guild is not None
        member = await guild.fetch_member(bob.id)  # GET /guilds/{id}/members/{user_id}
        with pytest.raises(discord.Forbidden) as closed:
            await member.send("hello")
        assert closed.value.code == 50007


async def test_message_content_needs_the_intent(fake: FakeDiscord, world: World) -> None:
    log = Log()
    async with running(CoachClient(log), fake):
        await fake.dispatch("MESSAGE_CREATE", fake.message(world.alice, world.general, "hi coach"))
        dm = fake.dm_channel(world.alice)
        await fake.dispatch("MESSAGE_CREATE", fake.message(world.alice, dm, "hi in DM"))
        await _until(lambda: len(log.messages) == 2)
        assert [m.content for m in log.messages] == ["", "hi in DM"]

    log = Log()
    intents = discord.Intents.default()
    intents.message_content = True
    async with running(CoachClient(log, intents=intents), fake):
        await fake.dispatch("MESSAGE_CREATE", fake.message(world.alice, world.general, "hi coach"))
        await _until(lambda: len(log.messages) == 1)
        assert log.messages[0].content == "hi coach"
        assert isinstance(log.messages[0].author, discord.Member)


async def test_disallowed_privileged_intent_closes_4014(fake: FakeDiscord, world: World) -> None:
    fake.privileged_intents = 0
    client = CoachClient(Log(), intents=discord.Intents.all())
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(fake.token), timeout=2)
    finally:
        await client.close()
    assert fake.gateway_received[0]["op"] in (1, 2)


async def test_slow_handler_misses_the_ack_deadline(fake: FakeDiscord, world: World) -> None:
    fake.ack_deadline = 0.0  # everything is "too late": Discord's 3 s rule, compressed
    async with running(CoachClient(Log()), fake):
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "ping"))
        rec = await fake.wait_for(lambda r: r.params.get("interaction_id") == str(iid))
        assert rec.status == 404 and rec.response["code"] == 10062
        assert fake.interaction_responses(iid) == []


async def test_reconnect_resumes_the_session(fake: FakeDiscord, world: World) -> None:
    async with running(CoachClient(Log()), fake):
        first = await fake.wait_for_session()
        await fake.reconnect()
        resume = await fake.wait_for_gateway(lambda f: f["op"] == 6)
        assert first.state is not None
        assert resume["d"]["session_id"] == first.state.session_id
        await _until(lambda: any(s.resumed and s.identified for s in fake.sessions))
        iid = await fake.dispatch_interaction(fake.slash(world.alice, world.general, "ping"))
        await fake.wait_for_interaction_responses(iid)


async def test_bad_token_is_a_login_failure(fake: FakeDiscord) -> None:
    client = CoachClient(Log())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("wrong-token")
    finally:
        await client.close()
    assert fake.requests[0].status == 401


async def _until(check: Callable[[], bool], timeout: float = 2.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


def test_intent_constants_match_discord_py() -> None:
    intents = discord.Intents.none()
    intents.guilds = intents.guild_messages = intents.dm_messages = True
    intents.message_content = intents.members = intents.presences = True
    ours = (
        Intent.GUILDS
        | Intent.GUILD_MESSAGES
        | Intent.DIRECT_MESSAGES
        | Intent.MESSAGE_CONTENT
        | Intent.GUILD_MEMBERS
        | Intent.GUILD_PRESENCES
    )
    assert intents.value == ours
    assert discord.Permissions(Perm.DEFAULT_EVERYONE).send_messages
    assert discord.Permissions(Perm.ADMINISTRATOR).administrator
