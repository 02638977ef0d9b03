"""The Discord client: slash commands, persistent buttons and DMs in, engine replies out.

Every interaction is acknowledged before the engine runs (Discord allows 3 s, and a turn
waits for the database), then answered by editing the deferred response and following up.
Only non-privileged intents are used: slash commands and buttons need none, and DMs arrive
with their text without the message-content intent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord import commands, respond, translate
from bot.adapters.discord.countdown import Countdowns
from bot.adapters.discord.render import PRIVATE_MARK
from bot.adapters.discord.transport import DiscordTransport
from bot.engine.engine import Engine
from bot.engine.events import MAX_PAYLOAD_BYTES, Actor
from bot.engine.feature import Command
from bot.logsafe import hashed

log = logging.getLogger("corecoach.discord")

# Any custom_id that could be an engine payload, optionally marked private; the engine
# itself rejects what it did not make (payloads.parse), so the shapes live in one place.
BUTTON_TEMPLATE = (
    rf"(?P<private>{re.escape(PRIVATE_MARK)}?)(?P<payload>[~a-z][!-~]{{0,{MAX_PAYLOAD_BYTES - 1}}})"
)
# Seconds to finish answering interactions already in flight when asked to stop.
DRAIN_SECONDS = 10.0
# A 429 asking to wait longer than this raises instead of sleeping (the outbox sender then
# retries later); 30 s is the smallest value discord.py accepts.
MAX_RATELIMIT_WAIT = 30.0


def intents() -> discord.Intents:
    """The defaults minus anything privileged: no message content, members or presences."""
    chosen = discord.Intents.default()
    chosen.message_content = False
    chosen.members = False
    chosen.presences = False
    chosen.typing = False
    chosen.dm_typing = False
    return chosen


class EngineButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=BUTTON_TEMPLATE
):
    """Every button the bot ever sent, routed by its custom_id alone, so a press after a
    restart (or on another process) works like any other."""

    def __init__(self, payload: str, private: bool = False) -> None:
        marker = PRIVATE_MARK if private else ""
        super().__init__(discord.ui.Button(label="·", custom_id=f"{marker}{payload}"))
        self.payload = payload
        self.private = private

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> EngineButton:
        return cls(match["payload"], private=bool(match["private"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        if isinstance(client, DiscordBot):
            await client.on_press(interaction, self.payload, self.private)


class DiscordBot(discord.Client):
    def __init__(
        self,
        engine: Engine,
        *,
        coach_role: str | None = None,
        guild_ids: Sequence[int] = (),
        sync_on_start: bool = False,
        guild_ready_timeout: float = 2.0,
        countdowns: Countdowns | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        super().__init__(
            intents=intents(),
            guild_ready_timeout=guild_ready_timeout,
            # Nothing the bot says may ping anyone, whatever a text contains.
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.engine = engine
        self.coach_role = translate.CoachRole(coach_role)
        self.guild_ids = tuple(guild_ids)
        self.sync_on_start = sync_on_start
        self.tree: app_commands.CommandTree[DiscordBot] = app_commands.CommandTree(self)
        for slash in commands.build_commands(
            engine.router, self.on_command, lambda: self.engine.content
        ):
            self.tree.add_command(slash)
        self.transport = DiscordTransport(self)
        self.countdowns = countdowns or Countdowns()
        self.ready = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def setup_hook(self) -> None:
        # Registered at every start: what makes buttons sent by an earlier run still work.
        self.add_dynamic_items(EngineButton)
        if self.sync_on_start:
            synced = await commands.sync(self.tree, self.guild_ids)
            log.info("discord.synced", extra={"scopes": len(synced)})

    async def on_ready(self) -> None:
        self.ready.set()
        log.info("discord.ready", extra={"guilds": len(self.guilds)})

    # -- interactions ----------------------------------------------------------------------

    async def on_command(
        self,
        interaction: discord.Interaction,
        name: str,
        args: str,
        attachment: discord.Attachment | None = None,
    ) -> None:
        async with self._tracked():
            event = translate.command_event(interaction, name, args, self.coach_role, attachment)
            in_guild = not event.place.is_private
            private = in_guild and not answers_publicly(
                self.engine.router.find_command(name), event.actor
            )
            if not await _acknowledge(interaction, thinking=True, ephemeral=private):
                return
            turn = await self.engine.handle(event)
            situation = respond.Situation(in_guild=in_guild, is_press=False, private=private)
            await respond.answer_command(interaction, turn.replies, situation, self.countdowns)

    async def on_press(self, interaction: discord.Interaction, payload: str, private: bool) -> None:
        async with self._tracked():
            if not await _acknowledge(interaction, thinking=False, ephemeral=False):
                return
            event = translate.press_event(interaction, payload, self.coach_role)
            message = interaction.message
            source_ephemeral = message is not None and message.flags.ephemeral
            turn = await self.engine.handle(event)
            situation = respond.Situation(
                in_guild=not event.place.is_private,
                is_press=True,
                private=private or source_ephemeral,
                source_ephemeral=source_ephemeral,
            )
            await respond.answer_press(interaction, turn.replies, situation, self.countdowns)

    # -- DMs and membership ----------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        event = translate.dm_event(message)
        if event is None:
            return
        async with self._tracked():
            turn = await self.engine.handle(event)
            try:
                await respond.send_to_channel(message.channel, turn.replies, self.countdowns)
            except discord.HTTPException as exc:
                log.warning(
                    "discord.dm_reply_failed",
                    extra={"who": hashed(event.actor.user_id), "status": exc.status},
                )

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._record_guild(guild, bot_is_member=True)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # Its channels' scheduled posts stop (the sweep skips chats the bot is not in).
        await self._record_guild(guild, bot_is_member=False)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if isinstance(channel, discord.TextChannel):
            await self._record(channel, bot_is_member=False)

    async def _record_guild(self, guild: discord.Guild, *, bot_is_member: bool) -> None:
        me = guild.me
        for channel in guild.text_channels:
            if bot_is_member and me is not None and not channel.permissions_for(me).send_messages:
                continue  # a club is a channel the bot can post in
            await self._record(channel, bot_is_member=bot_is_member)

    async def _record(self, channel: discord.TextChannel, *, bot_is_member: bool) -> None:
        place = translate.place(channel, channel.guild)
        try:
            await self.engine.record_membership(
                translate.PLATFORM, place, bot_is_member=bot_is_member
            )
        except Exception:
            log.exception("discord.membership_failed", extra={"chat": hashed(place.chat_id)})

    # -- shutdown --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _tracked(self) -> AsyncIterator[None]:
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def close(self) -> None:
        await self.countdowns.close()
        await super().close()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> bool:  # noqa: ASYNC109
        """Wait (a bounded time) for turns in progress to be answered; False if some were
        still running when the time was up."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


class ShardedDiscordBot(DiscordBot, discord.AutoShardedClient):
    """The same bot on Discord's automatic sharding (DISCORD_SHARDED=1), for bots in many
    guilds (Discord requires shards from 2,500 guilds on)."""


# Commands whose answer in a guild channel is for the whole club (challenge activity only,
# never health data); every other command answers only the person who asked.
PUBLIC_IN_GUILD = frozenset({"leaderboard"})


def answers_publicly(command: Command | None, actor: Actor) -> bool:
    """Slash commands in a guild answer ephemerally (only the person sees the answer), except
    club commands meant for the channel: PUBLIC_IN_GUILD, and coach-only commands run by a
    coach. A refusal or a PRIVATE reply is still ephemeral: see respond.plan."""
    if command is None:
        return False
    return command.name in PUBLIC_IN_GUILD or (command.coach_only and actor.is_chat_admin is True)


async def _acknowledge(
    interaction: discord.Interaction, *, thinking: bool, ephemeral: bool
) -> bool:
    try:
        await interaction.response.defer(thinking=thinking, ephemeral=ephemeral)
    except discord.HTTPException as exc:  # too late (10062) or already acknowledged
        log.warning(
            "discord.ack_failed",
            extra={"who": hashed(str(interaction.user.id)), "code": exc.code},
        )
        return False
    return True
