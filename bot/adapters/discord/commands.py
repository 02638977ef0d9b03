"""Slash commands generated from the engine's router, and their explicit sync.

Every listed router command becomes `/name`; a command with an args_hint takes one optional
text option named after the hint (`/card name:`), and a command that reads a file
(Command.file_bytes) one required attachment option instead (`/upload file:`). Nothing here
runs a command: callbacks hand the interaction to the client (client.DiscordBot.on_command).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands

from bot.content.bundle import ContentBundle
from bot.content.text import normalise
from bot.engine.feature import Command
from bot.engine.router import Router

MAX_DESCRIPTION = 100  # Discord's limit for command and option descriptions
MAX_CHOICES = 25
MAX_CHOICE = 100
_OPTION_NAME = re.compile(r"[^a-z0-9_-]+")
_COMMAND_NAME = re.compile(r"[-_a-z0-9]{1,32}")

# (interaction, command name, its text, its attached file)
OnCommand = Callable[[discord.Interaction, str, str, discord.Attachment | None], Awaitable[None]]


def option_name(args_hint: str) -> str:
    """`NAME` → `name`, `[DAYS] TIME` → `days_time`: a valid Discord option name."""
    name = _OPTION_NAME.sub("_", args_hint.casefold()).strip("_")[:32]
    return name or "text"


def _description(text: str) -> str:
    text = " ".join(text.split()) or "-"
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def card_choices(content: ContentBundle, current: str) -> list[app_commands.Choice[str]]:
    """Cards whose name (or another name the card answers to) contains what was typed."""
    typed = normalise(current)
    found = [
        card
        for card in sorted(content.cards.values(), key=lambda c: c.name)
        if not typed or any(typed in normalise(n) for n in card.lookup_names())
    ]
    return [
        app_commands.Choice(name=card.name[:MAX_CHOICE], value=card.name[:MAX_CHOICE])
        for card in found[:MAX_CHOICES]
    ]


# Options whose values come from content, by command name: a short, explicit list.
Completer = Callable[[ContentBundle, str], list[app_commands.Choice[str]]]
COMPLETERS: dict[str, Completer] = {"card": card_choices}


def build_commands(
    router: Router, on_command: OnCommand, content: Callable[[], ContentBundle]
) -> list[app_commands.Command[Any, ..., None]]:
    """One slash command per listed router command with a name Discord accepts."""
    built = []
    for command in router.listed_commands():
        if _COMMAND_NAME.fullmatch(command.name):
            built.append(_slash(command, on_command, content))
    return built


def _slash(
    command: Command, on_command: OnCommand, content: Callable[[], ContentBundle]
) -> app_commands.Command[Any, ..., None]:
    name = command.name
    if command.file_bytes:

        async def with_file(interaction: discord.Interaction, file: discord.Attachment) -> None:
            await on_command(interaction, name, "", file)

        app_commands.describe(file="The file to read")(with_file)
        return app_commands.Command(
            name=name, description=_description(command.help), callback=with_file
        )
    if not command.args_hint:

        async def plain(interaction: discord.Interaction) -> None:
            await on_command(interaction, name, "", None)

        return app_commands.Command(
            name=name, description=_description(command.help), callback=plain
        )

    async def with_text(interaction: discord.Interaction, text: str | None = None) -> None:
        await on_command(interaction, name, text or "", None)

    # The Python parameter is always `text`; Discord shows the hint's name.
    app_commands.rename(text=option_name(command.args_hint))(with_text)
    app_commands.describe(text=_description(command.args_hint))(with_text)
    slash: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=name, description=_description(command.help), callback=with_text
    )
    completer = COMPLETERS.get(name)
    if completer is not None:

        async def complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return completer(content(), current)

        slash.autocomplete("text")(complete)
    return slash


async def sync(
    tree: app_commands.CommandTree[Any], guild_ids: Sequence[int] = ()
) -> dict[int | None, list[str]]:
    """PUT the commands to Discord: to each listed guild (instant; for testing or a
    single-club bot), else globally. Returns the synced names per scope (None = global)."""
    synced: dict[int | None, list[str]] = {}
    if not guild_ids:
        synced[None] = [c.name for c in await tree.sync()]
        return synced
    for guild_id in guild_ids:
        guild = discord.Object(guild_id)
        tree.copy_global_to(guild=guild)
        synced[guild_id] = [c.name for c in await tree.sync(guild=guild)]
    return synced
