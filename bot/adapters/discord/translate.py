"""Discord objects → the engine's normalised Inbound events. Nothing here talks to Discord."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.adapters.discord.uploads import upload_of
from bot.engine.commands import parse_command
from bot.engine.events import Actor, Inbound, Place

PLATFORM = "discord"


@dataclass(frozen=True)
class CoachRole:
    """The configured coach role (DISCORD_COACH_ROLE): a role id, or a name (any case)."""

    value: str | None = None

    def held_by(self, member: discord.Member) -> bool:
        if not self.value:
            return False
        wanted = self.value.strip()
        if wanted.isdigit() and member.get_role(int(wanted)) is not None:
            return True
        return any(role.name.casefold() == wanted.casefold() for role in member.roles)


def actor(
    user: discord.User | discord.Member,
    *,
    permissions: discord.Permissions | None = None,
    locale: discord.Locale | None = None,
    coach_role: CoachRole | None = None,
) -> Actor:
    """Who acted. In a guild the member's role is decided from what Discord sent with the
    event (resolved permissions in the channel, role ids), so no extra API call is made."""
    is_admin: bool | None = None
    if isinstance(user, discord.Member):
        perms = permissions if permissions is not None else user.guild_permissions
        has_role = coach_role is not None and coach_role.held_by(user)
        is_admin = perms.administrator or perms.manage_guild or has_role
    return Actor(
        PLATFORM,
        str(user.id),
        display_name=user.display_name,
        locale=locale.value if locale is not None else None,
        is_chat_admin=is_admin,
    )


def place(channel: object, guild: discord.Guild | None, *, in_guild: bool | None = None) -> Place:
    """Where: a DM is private; a guild channel is a group chat titled "Guild / #channel";
    a thread is its parent channel with the thread as thread_id."""
    channel_id = str(getattr(channel, "id", ""))
    if not (guild is not None if in_guild is None else in_guild):
        return Place(chat_id=channel_id, is_private=True)
    # Unnamed when Discord sent only the guild's id: still a group, never a private chat.
    server = (guild.name if guild is not None else None) or "Discord server"
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        name = parent.name if parent is not None else channel.name
        return Place(
            chat_id=str(channel.parent_id),
            is_private=False,
            thread_id=channel_id,
            title=f"{server} / #{name}",
        )
    name = getattr(channel, "name", None) or channel_id
    return Place(chat_id=channel_id, is_private=False, title=f"{server} / #{name}")


def _interaction_parts(
    interaction: discord.Interaction, coach_role: CoachRole
) -> tuple[Actor, Place]:
    return (
        actor(
            interaction.user,
            permissions=interaction.permissions if interaction.guild_id else None,
            locale=interaction.locale,
            coach_role=coach_role,
        ),
        place(
            interaction.channel,
            interaction.guild if interaction.guild_id else None,
            in_guild=interaction.guild_id is not None,
        ),
    )


def command_event(
    interaction: discord.Interaction,
    name: str,
    args: str,
    coach_role: CoachRole,
    attachment: discord.Attachment | None = None,
) -> Inbound:
    """A slash command; `attachment` is its file option (`/upload file:`)."""
    who, where = _interaction_parts(interaction, coach_role)
    args = args.strip()
    upload = upload_of(attachment) if attachment is not None else None
    return Inbound(
        who, where, text=f"/{name} {args}".strip(), command=name, args=args, upload=upload
    )


def press_event(interaction: discord.Interaction, payload: str, coach_role: CoachRole) -> Inbound:
    who, where = _interaction_parts(interaction, coach_role)
    message = interaction.message
    return Inbound(
        who, where, payload=payload, message_ref=str(message.id) if message is not None else None
    )


def dm_event(message: discord.Message) -> Inbound | None:
    """A message typed in a DM with the bot; None for anything we do not answer (guild
    messages, other bots, our own messages, empty text without a file).

    A message with a file attached is `/upload` with the (first) file as its Upload, and its
    text, minus a leading `/upload`, as the args (the red-flag screen reads it)."""
    if message.guild is not None or message.author.bot:
        return None
    text = message.content.strip()
    if not text and not message.attachments:
        return None
    who = actor(message.author)
    where = place(message.channel, None)
    command = parse_command(text)
    if message.attachments:
        args = command[1] if command is not None and command[0] == "upload" else text
        upload = upload_of(message.attachments[0])
        return Inbound(who, where, text=text, command="upload", args=args, upload=upload)
    if command is not None:
        return Inbound(who, where, text=text, command=command[0], args=command[1])
    return Inbound(who, where, text=text)
