"""Sending a turn's replies back through the interaction that caused it, or to a channel.

Who sees what, in a guild channel:
- ReplyIntent.PRIVATE is always ephemeral (only the person who acted sees it), so health
  conversations never appear as public messages;
- a slash command is answered where its "thinking…" message was deferred: ephemerally,
  except the public club commands (client.answers_publicly);
- a button press answers in public, unless the button asked for privacy (Button.opens_private)
  or was itself on an ephemeral message, which keeps the conversation private;
- ReplyIntent.EDIT on a press replaces the pressed message, unless that would put a private
  answer into a public message; then it becomes an ephemeral message.
In a DM everything is simply a message in the DM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import discord

from bot.adapters.discord.countdown import Countdowns, Editable
from bot.adapters.discord.render import Part, render
from bot.engine.events import Reply, ReplyIntent
from bot.logsafe import hashed

log = logging.getLogger("corecoach.discord")


class Target(StrEnum):
    PUBLIC = "public"  # a normal message where the person acted (in a DM: the DM)
    EPHEMERAL = "ephemeral"  # seen only by the person who acted
    SOURCE = "source"  # replaces the message whose button was pressed


@dataclass(frozen=True)
class Situation:
    in_guild: bool
    is_press: bool
    # Commands: how the "thinking…" message was deferred. Presses: the press is private.
    private: bool
    source_ephemeral: bool = False  # presses: the pressed message is ephemeral


def plan(replies: list[Reply], situation: Situation) -> list[tuple[Part, Target]]:
    """Every message to send, with where it goes, in the engine's order."""
    private = Target.EPHEMERAL if situation.in_guild else Target.PUBLIC
    default = private if situation.private else Target.PUBLIC
    planned: list[tuple[Part, Target]] = []
    edited = False
    for reply in replies:
        parts = render(reply)
        if reply.intent is ReplyIntent.PRIVATE:
            targets = [private] * len(parts)
        elif (
            reply.intent is ReplyIntent.EDIT
            and situation.is_press
            and not edited
            # Private answers never go into a public message.
            and (not situation.private or situation.source_ephemeral or not situation.in_guild)
        ):
            edited = True
            source_side = private if situation.source_ephemeral else Target.PUBLIC
            targets = [Target.SOURCE] + [source_side] * (len(parts) - 1)
        else:
            targets = [default] * len(parts)
        planned.extend(zip(parts, targets, strict=True))
    return planned


async def answer_command(
    interaction: discord.Interaction,
    replies: list[Reply],
    situation: Situation,
    countdowns: Countdowns | None = None,
) -> None:
    """After defer(thinking=True): the first message meant for the deferred side replaces
    the "thinking…" message (edit_original_response; a follow-up would also, but keeps the
    defer's visibility whatever it asks for); the rest are follow-ups with their own."""
    planned = plan(replies, situation)
    deferred = Target.EPHEMERAL if situation.private and situation.in_guild else Target.PUBLIC
    first = next((i for i, (_, target) in enumerate(planned) if target is deferred), None)
    try:
        if first is None:
            await interaction.delete_original_response()
        else:
            part = planned[first][0]
            _count_down(countdowns, await _edit_original(interaction, part), part)
        for index, (part, target) in enumerate(planned):
            if index != first:
                sent = await _followup(interaction, part, ephemeral=target is Target.EPHEMERAL)
                _count_down(countdowns, sent, part)
    except discord.HTTPException as exc:
        _log_failure(interaction, exc)


async def answer_press(
    interaction: discord.Interaction,
    replies: list[Reply],
    situation: Situation,
    countdowns: Countdowns | None = None,
) -> None:
    """After a deferred update (no message of its own), each message goes where it belongs."""
    try:
        for part, target in plan(replies, situation):
            if target is Target.SOURCE:
                if countdowns is not None and interaction.message is not None:
                    countdowns.cancel(interaction.message.id)  # never two writers on one message
                sent: Editable = await _edit_original(interaction, part)
            else:
                sent = await _followup(interaction, part, ephemeral=target is Target.EPHEMERAL)
            _count_down(countdowns, sent, part)
    except discord.HTTPException as exc:
        _log_failure(interaction, exc)


async def send_to_channel(
    channel: discord.abc.Messageable, replies: list[Reply], countdowns: Countdowns | None = None
) -> None:
    """Without an interaction (DM messages): every reply is a new message in the channel."""
    for reply in replies:
        for part in render(reply):
            _count_down(countdowns, await channel.send(**message_kwargs(part)), part)


def message_kwargs(part: Part) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"content": part.shown_content(), "embeds": part.embeds}
    files = part.discord_files()
    if files:
        kwargs["files"] = files
    view = part.view()
    if view is not None:
        kwargs["view"] = view
    return kwargs


def _count_down(countdowns: Countdowns | None, sent: Editable, part: Part) -> None:
    if countdowns is not None and part.countdown is not None:
        countdowns.start(sent, part.content, part.countdown)


async def _edit_original(interaction: discord.Interaction, part: Part) -> Editable:
    message: Editable = await interaction.edit_original_response(
        content=part.shown_content(),
        embeds=part.embeds,
        # Replacing the message replaces its files too (an edited card keeps no old picture).
        attachments=part.discord_files(),
        view=part.view(),
    )
    return message


async def _followup(interaction: discord.Interaction, part: Part, *, ephemeral: bool) -> Editable:
    message: Editable = await interaction.followup.send(
        **message_kwargs(part), ephemeral=ephemeral, wait=True
    )
    return message


def _log_failure(interaction: discord.Interaction, exc: discord.HTTPException) -> None:
    log.warning(
        "discord.reply_failed",
        extra={
            "who": hashed(str(interaction.user.id)),
            "status": exc.status,
            "code": exc.code,
        },
    )
