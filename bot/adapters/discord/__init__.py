"""The Discord adapter (discord.py 2): slash commands, persistent buttons, embeds, DMs.

make_bot(app)            the client, with .transport for the outbox sender
run_discord(app, stop)   connect and serve until `stop` is set, then shut down cleanly
sync_commands(app, ids)  `corecoach discord sync`: PUT the slash commands to Discord
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters import StartFailed
from bot.adapters.discord import commands
from bot.adapters.discord.client import DiscordBot, ShardedDiscordBot
from bot.adapters.discord.transport import DiscordTransport

if TYPE_CHECKING:
    from bot.app import App

__all__ = ["DiscordBot", "DiscordTransport", "make_bot", "run_discord", "sync_commands"]

log = logging.getLogger("corecoach.discord")


def make_bot(app: App, *, sync_on_start: bool | None = None, **options: Any) -> DiscordBot:
    settings = app.settings
    cls = ShardedDiscordBot if settings.discord_sharded else DiscordBot
    return cls(
        app.engine,
        coach_role=settings.discord_coach_role,
        guild_ids=settings.discord_guild_ids,
        sync_on_start=settings.discord_sync_on_start if sync_on_start is None else sync_on_start,
        **options,
    )


async def run_discord(app: App, stop: asyncio.Event, bot: DiscordBot | None = None) -> None:
    """Serve Discord until `stop` is set: then finish the turns in flight and disconnect.
    Pass `bot` (from make_bot) when its transport was handed to the outbox sender."""
    token = app.settings.discord_token
    if not token:
        raise RuntimeError("DISCORD_BOT_TOKEN is not set")
    bot = bot or make_bot(app)
    runner = asyncio.create_task(bot.start(token), name="discord")
    stopper = asyncio.create_task(stop.wait(), name="discord-stop")
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            try:
                runner.result()  # a login or gateway failure ends the run with its error
            except discord.LoginFailure:
                raise StartFailed("corecoach: Discord refused DISCORD_BOT_TOKEN") from None
            return
        await bot.drain()
    finally:
        stopper.cancel()
        await bot.close()
        if not runner.done():
            await asyncio.wait({runner}, timeout=5)
        log.info("discord.stopped")


async def sync_commands(app: App, guild_ids: Sequence[int] = ()) -> dict[int | None, list[str]]:
    """Log in over HTTP only (no gateway), PUT the commands, log out."""
    token = app.settings.discord_token
    if not token:
        raise RuntimeError("DISCORD_BOT_TOKEN is not set")
    bot = make_bot(app, sync_on_start=False)
    try:
        await bot.login(token)
        return await commands.sync(bot.tree, guild_ids or app.settings.discord_guild_ids)
    finally:
        await bot.close()
