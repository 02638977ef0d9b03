"""A local fake of Discord (REST API + Gateway) that the *real* discord.py client talks to.

Why: adapter tests should go through discord.py's own network layer (rate-limit handling,
the compressed gateway stream, interaction webhooks, persistent-view routing) instead of
mocks, and they must run offline. The fake serves both the REST API and the gateway
websocket from one aiohttp app on 127.0.0.1 and, while started, points discord.py at it
by patching two process-global class attributes:

* ``discord.http.Route.BASE`` (every REST and webhook call is built from it), and
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a plain ``Client`` never asks
  ``GET /gateway``; it connects straight to this URL. ``AutoShardedClient`` asks
  ``GET /gateway/bot``, which the fake also serves).

Typical use::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Runners")
        general = guild.add_text_channel("general")
        alice = fake.add_user("alice")
        guild.add_member(alice)
        client = MyClient(intents=..., guild_ready_timeout=0.05)
        task = asyncio.create_task(client.start(fake.token))
        ...  # wait for on_ready
        iid = await fake.dispatch_interaction(fake.slash(alice, general, "ping"))
        [callback] = await fake.wait_for_interaction_responses(iid)
        assert callback.json["data"]["content"] == "pong"

Only one FakeDiscord can be started at a time because the patched attributes are global.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import re
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, ClassVar, Final, Protocol, Self

import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

__all__ = [
    "ChannelType",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "Intent",
    "MessageFlag",
    "OptionValue",
    "Overwrite",
    "Perm",
    "RecordedFile",
    "RecordedRequest",
    "World",
]

Json = dict[str, Any]
log = logging.getLogger(__name__)

API_VERSION: Final = 10
DISCORD_EPOCH_MS: Final = 1_420_070_400_000


class Perm:
    """Permission bits used by the fake (plain ints: the world model must not need discord.py)."""

    CREATE_INSTANT_INVITE: Final = 1 << 0
    KICK_MEMBERS: Final = 1 << 1
    BAN_MEMBERS: Final = 1 << 2
    ADMINISTRATOR: Final = 1 << 3
    MANAGE_CHANNELS: Final = 1 << 4
    MANAGE_GUILD: Final = 1 << 5
    ADD_REACTIONS: Final = 1 << 6
    VIEW_CHANNEL: Final = 1 << 10
    SEND_MESSAGES: Final = 1 << 11
    MANAGE_MESSAGES: Final = 1 << 13
    EMBED_LINKS: Final = 1 << 14
    ATTACH_FILES: Final = 1 << 15
    READ_MESSAGE_HISTORY: Final = 1 << 16
    MENTION_EVERYONE: Final = 1 << 17
    USE_EXTERNAL_EMOJIS: Final = 1 << 18
    MANAGE_ROLES: Final = 1 << 28
    USE_APPLICATION_COMMANDS: Final = 1 << 31
    SEND_MESSAGES_IN_THREADS: Final = 1 << 38

    ALL: Final = (1 << 51) - 1
    # What a fresh guild's @everyone role grants.
    DEFAULT_EVERYONE: Final = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | USE_APPLICATION_COMMANDS
        | SEND_MESSAGES_IN_THREADS
    )
    # What Discord reports as app_permissions in a bot DM.
    DM: Final = (
        ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
    )


class Intent:
    GUILDS: Final = 1 << 0
    GUILD_MEMBERS: Final = 1 << 1
    GUILD_PRESENCES: Final = 1 << 8
    GUILD_MESSAGES: Final = 1 << 9
    DIRECT_MESSAGES: Final = 1 << 12
    MESSAGE_CONTENT: Final = 1 << 15
    PRIVILEGED: Final = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


class MessageFlag:
    SUPPRESS_EMBEDS: Final = 1 << 2
    EPHEMERAL: Final = 1 << 6
    LOADING: Final = 1 << 7
    SUPPRESS_NOTIFICATIONS: Final = 1 << 12
    # Flags a bot may set itself on a message it creates.
    SETTABLE: Final = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS


class ChannelType:
    GUILD_TEXT: Final = 0
    DM: Final = 1


# Discord limits the fake enforces (400 + code 50035 "Invalid Form Body" when exceeded).
MAX_CONTENT: Final = 2000
MAX_EMBEDS: Final = 10
MAX_EMBED_TITLE: Final = 256
MAX_EMBED_DESCRIPTION: Final = 4096
MAX_EMBED_FIELDS: Final = 25
MAX_EMBED_FIELD_NAME: Final = 256
MAX_EMBED_FIELD_VALUE: Final = 1024
MAX_EMBED_FOOTER: Final = 2048
MAX_EMBED_AUTHOR: Final = 256
MAX_EMBED_TOTAL: Final = 6000
MAX_ACTION_ROWS: Final = 5
MAX_ROW_BUTTONS: Final = 5
MAX_CUSTOM_ID: Final = 100
MAX_BUTTON_LABEL: Final = 80
MAX_SELECT_OPTIONS: Final = 25
MAX_SELECT_PLACEHOLDER: Final = 150
MAX_CHOICES: Final = 25
MAX_CHOICE_NAME: Final = 100
MAX_MODAL_TITLE: Final = 45
MAX_TEXT_INPUT_LABEL: Final = 45
MAX_TEXT_INPUT_VALUE: Final = 4000
MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024

# Which callback types each interaction type accepts (1 PING is HTTP-only, never here).
_ALLOWED_CALLBACKS: Final[Mapping[int, frozenset[int]]] = {
    2: frozenset({4, 5, 9}),  # application command
    3: frozenset({4, 5, 6, 7, 9}),  # message component
    4: frozenset({8}),  # autocomplete
    5: frozenset({4, 5, 6, 7}),  # modal submit
}


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class _Snowflakes:
    """Real-looking, strictly increasing snowflakes (discord.py derives created_at from them)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(now, self._last + 1)
        return self._last


# --------------------------------------------------------------------------------------
# World model
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    # False models "allow DMs from server members" switched off: bot DMs get 403/50007.
    accepts_dms: bool = True

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass(eq=False)
class Overwrite:
    """A channel permission overwrite; type 0 = role (the guild id is @everyone), 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(eq=False)
class FakeChannel:
    id: int
    type: int
    name: str | None = None
    guild: FakeGuild | None = field(default=None, repr=False)
    recipient: FakeUser | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    position: int = 0
    topic: str | None = None
    last_message_id: int | None = None

    @property
    def guild_id(self) -> int | None:
        return self.guild.id if self.guild is not None else None

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    def payload(self) -> Json:
        last = str(self.last_message_id) if self.last_message_id else None
        if self.type == ChannelType.DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": last,
                "flags": 0,
                "recipients": [self.recipient.payload()],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "topic": self.topic,
            "nsfw": False,
            "parent_id": None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild: FakeGuild = field(repr=False)
    roles: list[FakeRole] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_now_iso)
    # Forces the computed permissions (for setups the role model cannot express).
    permissions_override: int | None = None

    @property
    def id(self) -> int:
        return self.user.id

    def base_permissions(self) -> int:
        if self.guild.owner_id == self.user.id:
            return Perm.ALL
        perms = self.guild.everyone.permissions
        for role in self.roles:
            perms |= role.permissions
        return Perm.ALL if perms & Perm.ADMINISTRATOR else perms

    def permissions_in(self, channel: FakeChannel | None = None) -> int:
        """Discord's algorithm: base, then @everyone, role and member overwrites, in that order."""
        if self.permissions_override is not None:
            return self.permissions_override
        perms = self.base_permissions()
        if channel is None or perms & Perm.ADMINISTRATOR:
            return perms
        role_ids = {r.id for r in self.roles}
        for ow in channel.overwrites:
            if ow.type == 0 and ow.id == self.guild.id:
                perms = (perms & ~ow.deny) | ow.allow
        allow = deny = 0
        for ow in channel.overwrites:
            if ow.type == 0 and ow.id in role_ids:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        for ow in channel.overwrites:
            if ow.type == 1 and ow.id == self.user.id:
                perms = (perms & ~ow.deny) | ow.allow
        # Without VIEW_CHANNEL nothing else applies in that channel.
        return perms if perms & Perm.VIEW_CHANNEL else 0

    def payload(
        self, *, channel: FakeChannel | None = None, with_permissions: bool = False
    ) -> Json:
        data: Json = {
            "user": self.user.payload(),
            "roles": [str(r.id) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions:
            # Interactions carry the member's resolved permissions in the channel.
            data["permissions"] = str(self.permissions_in(channel))
        return data


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    world: World = field(repr=False)
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)
    locale: str = "en-US"

    @property
    def everyone(self) -> FakeRole:
        return self.roles[0]

    @property
    def me(self) -> FakeMember:
        return self.members[self.world.bot.id]

    def add_role(self, name: str, permissions: int = 0, *, position: int | None = None) -> FakeRole:
        role = FakeRole(
            id=self.world.ids.next(),
            name=name,
            permissions=permissions,
            position=len(self.roles) if position is None else position,
        )
        self.roles.append(role)
        return role

    def add_text_channel(
        self, name: str, *, overwrites: Iterable[Overwrite] = (), topic: str | None = None
    ) -> FakeChannel:
        channel = FakeChannel(
            id=self.world.ids.next(),
            type=ChannelType.GUILD_TEXT,
            name=name,
            guild=self,
            overwrites=list(overwrites),
            position=len(self.channels),
            topic=topic,
        )
        self.channels.append(channel)
        self.world.channels[channel.id] = channel
        return channel

    def add_member(
        self,
        user: FakeUser,
        *,
        roles: Iterable[FakeRole] = (),
        nick: str | None = None,
        permissions: int | None = None,
    ) -> FakeMember:
        member = FakeMember(
            user=user, guild=self, roles=list(roles), nick=nick, permissions_override=permissions
        )
        self.members[user.id] = member
        return member

    def member(self, user: FakeUser | int) -> FakeMember:
        uid = user if isinstance(user, int) else user.id
        try:
            return self.members[uid]
        except KeyError:
            raise KeyError(f"user {uid} is not a member of guild {self.name!r}") from None

    def payload(self) -> Json:
        """The full GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "features": [],
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels],
            "threads": [],
            "members": [m.payload() for m in self.members.values()],
            "member_count": len(self.members),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "unavailable": False,
            "joined_at": self.me.joined_at,
            "premium_progress_bar_enabled": False,
        }


class World:
    """Everything the fake Discord knows: users, guilds, channels and messages."""

    def __init__(self, *, bot_name: str = "Core Coach") -> None:
        self.ids = _Snowflakes()
        self.bot = FakeUser(id=self.ids.next(), username=bot_name, bot=True)
        self.app_owner = FakeUser(id=self.ids.next(), username="app_owner")
        self.users: dict[int, FakeUser] = {u.id: u for u in (self.bot, self.app_owner)}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        # Insertion order is creation order; values are full message payloads.
        self.messages: dict[int, Json] = {}
        self.nonces: dict[tuple[int, str], int] = {}  # (channel, nonce) -> first message id
        self._dms: dict[int, FakeChannel] = {}

    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        accepts_dms: bool = True,
    ) -> FakeUser:
        user = FakeUser(
            id=self.ids.next(),
            username=username,
            global_name=global_name,
            bot=bot,
            accepts_dms=accepts_dms,
        )
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: FakeUser | None = None,
        everyone_permissions: int = Perm.DEFAULT_EVERYONE,
        bot_permissions: int = Perm.DEFAULT_EVERYONE | Perm.MANAGE_MESSAGES,
    ) -> FakeGuild:
        """A guild the bot is in. The bot gets a managed integration role, as when a bot is
        invited with a permissions integer."""
        owner = owner or self.add_user(f"{name.lower().replace(' ', '_')}_owner")
        gid = self.ids.next()
        guild = FakeGuild(id=gid, name=name, owner_id=owner.id, world=self)
        # The @everyone role shares the guild's id.
        guild.roles.append(FakeRole(id=gid, name="@everyone", permissions=everyone_permissions))
        bot_role = guild.add_role(self.bot.username, bot_permissions)
        bot_role.managed = True
        guild.add_member(self.bot, roles=[bot_role])
        guild.add_member(owner)
        self.guilds[gid] = guild
        return guild

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The (stable) DM channel between the bot and ``user``."""
        channel = self._dms.get(user.id)
        if channel is None:
            channel = FakeChannel(id=self.ids.next(), type=ChannelType.DM, recipient=user)
            self._dms[user.id] = channel
            self.channels[channel.id] = channel
        return channel


# --------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------


@dataclass
class RecordedFile:
    field: str  # multipart field name, e.g. "files[0]"
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class FakeAttachment:
    """A file a person gives a slash command's attachment option (`/upload file:`)."""

    filename: str
    data: bytes = field(repr=False)
    content_type: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/1/messages"
    route: str  # matched template, e.g. "POST /channels/{channel_id}/messages"; "UNKNOWN"
    params: dict[str, str]  # values captured by the route template
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # JSON body, or the parsed payload_json of a multipart body
    files: list[RecordedFile] = field(default_factory=list)
    status: int = 0
    response: Any = None
    at: float = 0.0  # time.monotonic() when the response was produced

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


# --------------------------------------------------------------------------------------
# Errors and validation
# --------------------------------------------------------------------------------------


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> Json:
        body: Json = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


_Path = tuple[str | int, ...]
_Err = tuple[_Path, str, str]


def _form_error(errors: Sequence[_Err]) -> _ApiError:
    """Discord's nested error shape: {"content": {"_errors": [{"code", "message"}]}}."""
    root: Json = {}
    for path, code, message in errors:
        node = root
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return _ApiError(400, 50035, "Invalid Form Body", root)


def _max_len(errors: list[_Err], path: _Path, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.append((path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."))


def _bad_len(errors: list[_Err], path: _Path, value: Any, low: int, high: int) -> None:
    if value is None and low > 0:
        errors.append((path, "BASE_TYPE_REQUIRED", "This field is required"))
    elif not isinstance(value, str | list) or not low <= len(value) <= high:
        errors.append(
            (path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
        )


def _validate_embeds(embeds: Any, path: _Path) -> list[_Err]:
    errors: list[_Err] = []
    if not isinstance(embeds, list):
        return [(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")]
    if len(embeds) > MAX_EMBEDS:
        errors.append((path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        p: _Path = (*path, i)
        for key, limit in (("title", MAX_EMBED_TITLE), ("description", MAX_EMBED_DESCRIPTION)):
            value = embed.get(key)
            _max_len(errors, (*p, key), value, limit)
            total += len(value or "")
        footer = (embed.get("footer") or {}).get("text")
        _max_len(errors, (*p, "footer", "text"), footer, MAX_EMBED_FOOTER)
        author = (embed.get("author") or {}).get("name")
        _max_len(errors, (*p, "author", "name"), author, MAX_EMBED_AUTHOR)
        total += len(footer or "") + len(author or "")
        fields = embed.get("fields") or []
        if len(fields) > MAX_EMBED_FIELDS:
            errors.append(
                ((*p, "fields"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBED_FIELDS} or fewer.")
            )
        for j, fld in enumerate(fields):
            _bad_len(errors, (*p, "fields", j, "name"), fld.get("name"), 1, MAX_EMBED_FIELD_NAME)
            _bad_len(errors, (*p, "fields", j, "value"), fld.get("value"), 1, MAX_EMBED_FIELD_VALUE)
            total += len(fld.get("name") or "") + len(fld.get("value") or "")
    if total > MAX_EMBED_TOTAL:
        errors.append(
            (
                path,
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
            )
        )
    return errors


def _validate_leaf(component: Json, path: _Path, errors: list[_Err], seen: set[str]) -> None:
    ctype = component.get("type")
    custom_id = component.get("custom_id")
    if ctype == 2:  # button
        _max_len(errors, (*path, "label"), component.get("label"), MAX_BUTTON_LABEL)
        style = component.get("style")
        if style == 5:
            if not component.get("url"):
                errors.append(((*path, "url"), "BASE_TYPE_REQUIRED", "This field is required"))
        elif style != 6:
            _bad_len(errors, (*path, "custom_id"), custom_id, 1, MAX_CUSTOM_ID)
    elif ctype in (3, 5, 6, 7, 8):  # select menus
        _bad_len(errors, (*path, "custom_id"), custom_id, 1, MAX_CUSTOM_ID)
        placeholder = component.get("placeholder")
        _max_len(errors, (*path, "placeholder"), placeholder, MAX_SELECT_PLACEHOLDER)
        if ctype == 3:
            options = component.get("options")
            _bad_len(errors, (*path, "options"), options, 1, MAX_SELECT_OPTIONS)
            for k, opt in enumerate(options or []):
                _bad_len(errors, (*path, "options", k, "label"), opt.get("label"), 1, 100)
                _bad_len(errors, (*path, "options", k, "value"), opt.get("value"), 1, 100)
                _max_len(errors, (*path, "options", k, "description"), opt.get("description"), 100)
    elif ctype == 4:  # text input (modals)
        _bad_len(errors, (*path, "custom_id"), custom_id, 1, MAX_CUSTOM_ID)
        _max_len(errors, (*path, "label"), component.get("label"), MAX_TEXT_INPUT_LABEL)
        _max_len(errors, (*path, "value"), component.get("value"), MAX_TEXT_INPUT_VALUE)
        _max_len(errors, (*path, "placeholder"), component.get("placeholder"), 100)
    if isinstance(custom_id, str):
        if custom_id in seen:
            errors.append(
                (
                    (*path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            )
        seen.add(custom_id)


def _walk_components(
    components: Sequence[Json], path: _Path, errors: list[_Err], seen: set[str]
) -> int:
    """Validate a modal's component tree; returns how many components it holds."""
    count = 0
    for i, component in enumerate(components):
        p: _Path = (*path, i)
        count += 1
        _validate_leaf(component, p, errors, seen)
        children = component.get("components")
        if isinstance(children, list):
            count += _walk_components(children, (*p, "components"), errors, seen)
    return count


def _validate_components(components: Any, path: _Path) -> list[_Err]:
    """Action rows of buttons and selects (the bot never sends components v2)."""
    errors: list[_Err] = []
    if not isinstance(components, list):
        return [(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")]
    seen: set[str] = set()
    if len(components) > MAX_ACTION_ROWS:
        errors.append(
            (path, "BASE_TYPE_BAD_LENGTH", f"Must be between 0 and {MAX_ACTION_ROWS} in length.")
        )
    for i, row in enumerate(components):
        p: _Path = (*path, i)
        if row.get("type") != 1:
            errors.append(((*p, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1}."))
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= MAX_ROW_BUTTONS:
            errors.append(
                (
                    (*p, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between 1 and {MAX_ROW_BUTTONS} in length.",
                )
            )
        elif len(children) > 1 and any(c.get("type") != 2 for c in children):
            errors.append(
                (
                    (*p, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
            )
        for j, child in enumerate(children):
            _validate_leaf(child, (*p, "components", j), errors, seen)
    return errors


def _validate_message(body: Mapping[str, Any], base: _Path = ()) -> list[_Err]:
    errors: list[_Err] = []
    content = body.get("content")
    _max_len(errors, (*base, "content"), content, MAX_CONTENT)
    embeds = body.get("embeds")
    if embeds is not None:
        errors += _validate_embeds(embeds, (*base, "embeds"))
    components = body.get("components")
    if components is not None:
        errors += _validate_components(components, (*base, "components"))
    return errors


def _is_empty_message(body: Mapping[str, Any], files: Sequence[RecordedFile]) -> bool:
    keys = ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
    return not files and not any(body.get(k) for k in keys)


def _check_message(
    body: Mapping[str, Any], files: Sequence[RecordedFile], *, creating: bool, base: _Path = ()
) -> None:
    errors = _validate_message(body, base)
    if errors:
        raise _form_error(errors)
    if creating and _is_empty_message(body, files):
        raise _ApiError(400, 50006, "Cannot send an empty message")
    if sum(len(f.data) for f in files) > MAX_UPLOAD_BYTES:
        raise _ApiError(413, 40005, "Request entity too large")


def _json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Exactly ``application/json`` without a charset: discord.py's json_or_text compares the
    header verbatim and otherwise hands the body back as a *string*."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)


# --------------------------------------------------------------------------------------
# Gateway
# --------------------------------------------------------------------------------------


class _Encoder(Protocol):
    def encode(self, text: str) -> bytes: ...


class _ZlibStream:
    """One zlib stream per connection, each message ending in a Z_SYNC_FLUSH marker: what
    discord.py's _ZlibDecompressionContext buffers for."""

    def __init__(self) -> None:
        self._c = zlib.compressobj()

    def encode(self, text: str) -> bytes:
        return self._c.compress(text.encode()) + self._c.flush(zlib.Z_SYNC_FLUSH)


def _make_encoder(compress: str | None) -> _Encoder | None:
    if compress is None:
        return None
    if compress == "zlib-stream":
        return _ZlibStream()
    raise ValueError(f"unsupported gateway compression {compress!r}")


@dataclass(eq=False)
class _SessionState:
    """What survives a disconnect and can be RESUMEd."""

    session_id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    history: list[Json] = field(default_factory=list)


@dataclass(eq=False)
class GatewaySession:
    """One websocket connection from a client."""

    ws: web.WebSocketResponse
    compression: str | None
    encoder: _Encoder | None = field(default=None, repr=False)
    state: _SessionState | None = None
    identified: bool = False  # READY (or RESUMED) sent and initial guilds delivered
    resumed: bool = False
    heartbeats: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def intents(self) -> int:
        return self.state.intents if self.state else 0

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def send(self, payload: Json) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        # Compression contexts are stateful: compress+send must not interleave.
        async with self.lock:
            if self.ws.closed:
                return
            if self.encoder is not None:
                await self.ws.send_bytes(self.encoder.encode(text))
            else:
                await self.ws.send_str(text)


# --------------------------------------------------------------------------------------
# Interactions and faults
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Interaction:
    id: int
    token: str
    type: int
    payload: Json
    channel: FakeChannel
    user: FakeUser
    component_message_id: int | None = None
    dispatched_at: float | None = None
    response_type: int | None = None
    original_id: int | None = None
    loading: bool = False  # a "thinking…" message waiting for its first follow-up/edit
    ephemeral: bool = False


@dataclass
class _Fault:
    substring: str
    method: str | None
    status: int
    retry_after: float
    remaining: int
    is_global: bool
    body: Any

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and self.substring in path
            and (self.method is None or self.method == method)
        )


@dataclass
class _Ctx:
    """What a REST handler sees."""

    method: str
    path: str
    params: dict[str, str]
    query: Mapping[str, str]
    json: Any
    files: list[RecordedFile]

    @property
    def body(self) -> Json:
        return self.json if isinstance(self.json, dict) else {}


_Handler = Callable[[_Ctx], Awaitable[tuple[int, Any]]]
OptionValue = (
    str | int | float | bool | FakeUser | FakeMember | FakeChannel | FakeRole | FakeAttachment
)


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: _Handler
    auth: bool


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(
        r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
    )
    return re.compile(f"^{pattern}$")


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeDiscord:
    """Fake Discord REST API + Gateway on 127.0.0.1 (random port)."""

    _active: ClassVar[FakeDiscord | None] = None

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "Core Coach",
        install: bool = True,
        privileged_intents: int = Intent.PRIVILEGED,
        heartbeat_interval_ms: int = 41_250,
        ack_deadline: float | None = 3.0,
        echo_own_messages: bool = True,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.token = token
        self.world = World(bot_name=bot_name)
        self.application_id = self.world.bot.id  # modern apps: application id == bot user id
        self.application_flags = 0
        self.install = install
        # Privileged intents enabled "in the developer portal"; others → close 4014.
        self.privileged_intents = privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms
        # Discord gives 3 s to acknowledge an interaction; None disables the check.
        self.ack_deadline = ack_deadline
        self.ack_heartbeats = True
        self.echo_own_messages = echo_own_messages
        self.max_upload_bytes = max_upload_bytes
        self.shard_count = 1

        self.requests: list[RecordedRequest] = []
        self.gateway_received: list[Json] = []  # frames clients sent (identify, heartbeats, …)
        self.gateway_sent: list[Json] = []
        self.sessions: list[GatewaySession] = []  # currently open connections
        self.commands: dict[int | None, list[Json]] = {}  # None = global scope
        self.presence: Json | None = None
        self.internal_errors: list[BaseException] = []

        self._session_states: dict[str, _SessionState] = {}
        self._interactions: dict[int, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._message_token: dict[int, str] = {}  # message id → interaction token that made it
        self._attachment_data: dict[int, bytes] = {}
        self.cdn_downloads: list[int] = []  # attachment ids the client fetched from the CDN
        self._faults: list[_Fault] = []
        self._routes = self._build_routes()
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None
        self._saved: tuple[str, yarl.URL] | None = None
        self.http_url = ""
        self.gateway_url = ""

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        if self.install and FakeDiscord._active is not None:
            raise RuntimeError("another FakeDiscord is installed (discord.py's URLs are global)")
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=8 * MAX_UPLOAD_BYTES)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.http_url = f"http://127.0.0.1:{port}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        if self.install:
            self._saved = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
            discord.http.Route.BASE = f"{self.http_url}/api/v{API_VERSION}"
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
            FakeDiscord._active = self

    async def stop(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None
            FakeDiscord._active = None
        for session in list(self.sessions):
            await session.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        # A bug in the fake must not masquerade as a passing (or oddly failing) test.
        if exc is None and self.internal_errors:
            raise RuntimeError("FakeDiscord handler crashed") from self.internal_errors[0]

    # ---- world shortcuts --------------------------------------------------------------

    @property
    def bot(self) -> FakeUser:
        return self.world.bot

    def add_user(self, username: str, **kwargs: Any) -> FakeUser:
        return self.world.add_user(username, **kwargs)

    def add_guild(self, name: str, **kwargs: Any) -> FakeGuild:
        return self.world.add_guild(name, **kwargs)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        return self.world.dm_channel(user)

    def sent_messages(self, channel: FakeChannel | int | None = None) -> list[Json]:
        """Messages currently existing that the bot authored, oldest first."""
        cid = channel.id if isinstance(channel, FakeChannel) else channel
        return [
            m
            for m in self.world.messages.values()
            if m["author"]["id"] == str(self.bot.id)
            and (cid is None or m["channel_id"] == str(cid))
        ]

    # ---- fault injection --------------------------------------------------------------

    def fail_next(
        self,
        route_substring: str,
        status: int = 429,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        method: str | None = None,
        is_global: bool = False,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` requests whose path contains ``route_substring`` with
        ``status`` (429 comes with Discord's rate-limit headers and JSON; 5xx with a generic
        body unless ``body`` is given)."""
        self._faults.append(
            _Fault(route_substring, method, status, retry_after, times, is_global, body)
        )

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    @staticmethod
    def _bucket(route: str) -> str:
        return hashlib.sha1(route.encode()).hexdigest()[:16]

    def _ok_headers(self, route: str) -> dict[str, str]:
        # A roomy bucket so discord.py never pre-emptively sleeps.
        return {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": self._bucket(route),
        }

    def _fault_response(self, fault: _Fault, route: str) -> tuple[web.Response, Any]:
        """The injected response and the body to record."""
        if fault.status == 429:
            ra = fault.retry_after
            # discord.py treats a 429 without "Via" as a Cloudflare ban and gives up.
            headers = {"Via": "1.1 google", "Retry-After": str(max(1, math.ceil(ra)))}
            if fault.is_global:
                headers |= {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            else:
                headers |= {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + ra:.3f}",
                    "X-RateLimit-Reset-After": f"{ra:.3f}",
                    "X-RateLimit-Bucket": self._bucket(route),
                    "X-RateLimit-Scope": "user",
                }
            body = fault.body or {
                "message": "You are being rate limited.",
                "retry_after": ra,
                "global": fault.is_global,
                "code": 0,
            }
            return _json_response(body, status=429, headers=headers), body
        if fault.body is not None:
            if isinstance(fault.body, str):
                html = web.Response(status=fault.status, text=fault.body, content_type="text/html")
                return html, fault.body
            return _json_response(fault.body, status=fault.status), fault.body
        if fault.status in (502, 503, 504, 524):
            # Cloudflare-style HTML; discord.py must cope with a non-JSON error body.
            text = f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>"
            return web.Response(status=fault.status, text=text, content_type="text/html"), text
        try:
            reason = HTTPStatus(fault.status).phrase
        except ValueError:
            reason = "Error"
        body = {"message": f"{fault.status}: {reason}", "code": 0}
        return _json_response(body, status=fault.status), body

    # ---- waiting ----------------------------------------------------------------------

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    async def _wait_until(
        self,
        check: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 - a plain timeout reads best in tests
        what: str,
    ) -> None:
        assert self._changed is not None, "FakeDiscord not started"
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(check)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        *,
        timeout: float = 2.0,  # noqa: ASYNC109
        count: int = 1,
    ) -> RecordedRequest:
        """The ``count``-th recorded request (past or future) matching ``predicate``."""

        def matches() -> list[RecordedRequest]:
            return [r for r in self.requests if predicate(r)]

        try:
            await self._wait_until(lambda: len(matches()) >= count, timeout, "a request")
        except TimeoutError as e:
            seen = "\n  ".join(f"{r.route} -> {r.status}" for r in self.requests) or "(none)"
            raise TimeoutError(f"{e}; recorded so far:\n  {seen}") from None
        return matches()[count - 1]

    async def wait_for_gateway(
        self,
        predicate: Callable[[Json], bool],
        *,
        timeout: float = 2.0,  # noqa: ASYNC109
    ) -> Json:
        """The first frame a client sent over the gateway matching ``predicate``."""

        def first() -> Json | None:
            return next((f for f in self.gateway_received if predicate(f)), None)

        await self._wait_until(lambda: first() is not None, timeout, "a gateway frame")
        frame = first()
        assert frame is not None
        return frame

    async def wait_for_session(self, *, timeout: float = 2.0) -> GatewaySession:  # noqa: ASYNC109
        """The newest connection that has identified (or resumed)."""

        def ready() -> list[GatewaySession]:
            return [s for s in self.sessions if s.identified and s.open]

        await self._wait_until(lambda: bool(ready()), timeout, "an identified gateway session")
        return ready()[-1]

    def interaction_responses(self, interaction_id: int) -> list[RecordedRequest]:
        """Successful callback + webhook (follow-up / @original) requests, in order."""
        it = self._interactions[interaction_id]
        return [
            r
            for r in self.requests
            if r.ok
            and (
                r.params.get("interaction_id") == str(interaction_id)
                or r.params.get("token") == it.token
            )
        ]

    async def wait_for_interaction_responses(
        self,
        interaction_id: int,
        *,
        count: int = 1,
        timeout: float = 2.0,  # noqa: ASYNC109
    ) -> list[RecordedRequest]:
        await self._wait_until(
            lambda: len(self.interaction_responses(interaction_id)) >= count,
            timeout,
            f"{count} response(s) to interaction {interaction_id}",
        )
        return self.interaction_responses(interaction_id)

    # ---- payload builders -------------------------------------------------------------

    def _option(self, name: str, value: OptionValue, resolved: Json, channel: FakeChannel) -> Json:
        guild = channel.guild
        if isinstance(value, FakeAttachment):
            file = RecordedFile("files[0]", value.filename, value.content_type, value.data)
            attachment = self._attachment(channel, file, None, {})
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return {"name": name, "type": 11, "value": attachment["id"]}
        # bool before int: bool is an int subclass.
        if isinstance(value, bool):
            return {"name": name, "type": 5, "value": value}
        if isinstance(value, int):
            return {"name": name, "type": 4, "value": value}
        if isinstance(value, float):
            return {"name": name, "type": 10, "value": value}
        if isinstance(value, str):
            return {"name": name, "type": 3, "value": value}
        if isinstance(value, FakeMember | FakeUser):
            user = value.user if isinstance(value, FakeMember) else value
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            if guild is not None and user.id in guild.members:
                member = guild.members[user.id].payload()
                member.pop("user")
                resolved.setdefault("members", {})[str(user.id)] = member
            return {"name": name, "type": 6, "value": str(user.id)}
        if isinstance(value, FakeChannel):
            ch = value.payload() | {"permissions": str(Perm.DEFAULT_EVERYONE)}
            resolved.setdefault("channels", {})[str(value.id)] = ch
            return {"name": name, "type": 7, "value": str(value.id)}
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return {"name": name, "type": 8, "value": str(value.id)}

    def _options(
        self,
        options: Mapping[str, OptionValue] | Sequence[Json] | None,
        channel: FakeChannel,
        resolved: Json,
    ) -> list[Json]:
        if options is None:
            return []
        if isinstance(options, Mapping):
            return [self._option(k, v, resolved, channel) for k, v in options.items()]
        return [dict(o) for o in options]

    def _find_command(self, name: str, guild: FakeGuild | None) -> tuple[int, int | None]:
        """(command id, guild id if guild-scoped). Unsynced commands get a made-up id, so tests
        need not sync first (discord.py routes by name)."""
        scopes: list[int | None] = [guild.id] if guild is not None else []
        for scope in [*scopes, None]:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    return int(cmd["id"]), scope
        return self.world.ids.next(), None

    def _interaction(
        self,
        itype: int,
        user: FakeUser,
        channel: FakeChannel,
        data: Json | None,
        *,
        locale: str,
        message: Json | None = None,
    ) -> Json:
        iid = self.world.ids.next()
        token = secrets.token_urlsafe(48)
        channel_payload = channel.payload()
        payload: Json = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.max_upload_bytes,
            "channel_id": str(channel.id),
            "channel": channel_payload,
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = message
        guild = channel.guild
        if guild is not None:
            member = guild.member(user)
            channel_payload["permissions"] = str(member.permissions_in(channel))
            payload |= {
                "guild_id": str(guild.id),
                "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
                "guild_locale": guild.locale,
                "member": member.payload(channel=channel, with_permissions=True),
                "app_permissions": str(guild.me.permissions_in(channel)),
                "context": 0,
                "authorizing_integration_owners": {"0": str(guild.id)},
            }
        else:
            if channel.recipient is not user:
                raise ValueError("a DM interaction must come from the DM channel's recipient")
            payload |= {
                "user": user.payload(),
                "app_permissions": str(Perm.DM),
                "context": 1,
                "authorizing_integration_owners": {"0": "0"},
            }
        it = _Interaction(
            id=iid, token=token, type=itype, payload=payload, channel=channel, user=user
        )
        if message is not None:
            it.component_message_id = int(message["id"])
        self._interactions[iid] = it
        self._by_token[token] = it
        return payload

    def _command_data(
        self,
        channel: FakeChannel,
        name: str,
        options: list[Json],
        resolved: Json,
        subcommand: str | None,
        group: str | None,
    ) -> Json:
        if subcommand is not None:
            options = [{"type": 1, "name": subcommand, "options": options}]
            if group is not None:
                options = [{"type": 2, "name": group, "options": options}]
        cmd_id, scope = self._find_command(name, channel.guild)
        data: Json = {"id": str(cmd_id), "name": name, "type": 1, "options": options}
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            # discord.py looks guild commands up by data.guild_id.
            data["guild_id"] = str(scope)
        return data

    def slash(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        options: Mapping[str, OptionValue] | Sequence[Json] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        locale: str = "en-US",
    ) -> Json:
        """INTERACTION_CREATE payload for ``/name`` (type 2). Option types are inferred:
        str→3, int→4, bool→5, FakeUser/FakeMember→6, FakeChannel→7, FakeRole→8, float→10,
        FakeAttachment→11 (resolved, and served at its URL like a message's attachment)."""
        resolved: Json = {}
        opts = self._options(options, channel, resolved)
        data = self._command_data(channel, name, opts, resolved, subcommand, group)
        return self._interaction(2, user, channel, data, locale=locale)

    def autocomplete(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        focused: str,
        value: str,
        options: Mapping[str, OptionValue] | Sequence[Json] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        locale: str = "en-US",
    ) -> Json:
        """Autocomplete (type 4) while the user types ``value`` into option ``focused``."""
        resolved: Json = {}
        opts = [o for o in self._options(options, channel, resolved) if o["name"] != focused]
        # Discord sends the partial input as a string, whatever the option's type.
        opts.append({"name": focused, "type": 3, "value": value, "focused": True})
        data = self._command_data(channel, name, opts, resolved, subcommand, group)
        return self._interaction(4, user, channel, data, locale=locale)

    def _component_message(self, channel: FakeChannel, message_id: int, custom_id: str) -> Json:
        stored = self.world.messages.get(message_id)
        if stored is None:
            # A message from "before" this fake existed (e.g. posted by a previous process):
            # synthesize one from the bot holding just this button.
            return {
                "id": str(message_id),
                "channel_id": str(channel.id),
                "author": self.bot.payload(),
                "content": "",
                "timestamp": _now_iso(),
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
                "flags": 0,
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "label": "…", "custom_id": custom_id}
                        ],
                    }
                ],
            }
        found: list[str] = []
        _collect_custom_ids(stored.get("components") or [], found)
        if custom_id not in found:
            raise ValueError(f"message {message_id} has no component {custom_id!r} (has {found})")
        return _snapshot(stored)  # a copy, like a real payload

    def button(
        self,
        user: FakeUser,
        channel: FakeChannel,
        message_id: int,
        custom_id: str,
        *,
        component_type: int = 2,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> Json:
        """A component interaction (type 3): a button press, or a select when ``values``."""
        message = self._component_message(channel, message_id, custom_id)
        data: Json = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return self._interaction(3, user, channel, data, locale=locale, message=message)

    def select(
        self,
        user: FakeUser,
        channel: FakeChannel,
        message_id: int,
        custom_id: str,
        values: Sequence[str],
    ) -> Json:
        return self.button(user, channel, message_id, custom_id, component_type=3, values=values)

    def modal_submit(
        self,
        user: FakeUser,
        channel: FakeChannel,
        custom_id: str,
        values: Mapping[str, str],
        *,
        message_id: int | None = None,
        locale: str = "en-US",
    ) -> Json:
        """A modal submission (type 5); ``values`` maps text-input custom_id → text."""
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()
        ]
        data: Json = {"custom_id": custom_id, "components": rows}
        message = None
        if message_id is not None and message_id in self.world.messages:
            message = _snapshot(self.world.messages[message_id])
        return self._interaction(5, user, channel, data, locale=locale, message=message)

    def message(
        self,
        author: FakeUser,
        channel: FakeChannel,
        content: str,
        *,
        attachments: Mapping[str, bytes] | None = None,
        reply_to: int | None = None,
    ) -> Json:
        """A MESSAGE_CREATE payload from ``author`` (stored, not yet dispatched)."""
        files = [
            RecordedFile(f"files[{i}]", name, None, data)
            for i, (name, data) in enumerate((attachments or {}).items())
        ]
        body: Json = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"message_id": str(reply_to)}
        if channel.guild is not None:
            channel.guild.member(author)  # raises if not a member
        return self._store_message(channel, author, body, files)

    # ---- gateway control --------------------------------------------------------------

    async def dispatch(self, event: str, data: Json) -> int:
        """Send a DISPATCH (op 0) to every identified connection that should get it (intents,
        shard). Returns how many connections it went to."""
        targets = [s for s in self.sessions if s.identified and s.open]
        if not targets:
            raise RuntimeError("no identified gateway session; is the client connected?")
        if event == "INTERACTION_CREATE":
            it = self._interactions.get(int(data["id"]))
            if it is None:
                raise ValueError("build interactions with slash()/autocomplete()/button()/…")
            it.dispatched_at = time.monotonic()  # the 3 s acknowledgement clock starts
        elif event == "MESSAGE_CREATE":
            self.world.messages.setdefault(int(data["id"]), data)
        sent = 0
        for session in targets:
            if self._wants(session, event, data):
                await self._send_dispatch(session, event, self._shape(session, event, data))
                sent += 1
        return sent

    async def dispatch_interaction(self, payload: Json) -> int:
        """Dispatch INTERACTION_CREATE; returns the interaction id (for the waiters)."""
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def reconnect(self) -> None:
        """Ask clients to reconnect (op 7); discord.py then RESUMEs."""
        for session in [s for s in self.sessions if s.open]:
            await session.send({"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        for session in [s for s in self.sessions if s.open]:
            await session.send({"op": 9, "d": resumable, "s": None, "t": None})

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every websocket server-side (4000 = "unknown error", resumable)."""
        for session in list(self.sessions):
            await session.ws.close(code=code, message=b"dropped by test")

    def _wants(self, session: GatewaySession, event: str, data: Json) -> bool:
        guild_id = data.get("guild_id") if event != "GUILD_CREATE" else data.get("id")
        state = session.state
        assert state is not None
        shard_id, shard_count = state.shard
        if shard_count > 1:
            home = (int(guild_id) >> 22) % shard_count if guild_id else 0
            if home != shard_id:
                return False
        if event.startswith("MESSAGE_"):
            needed = Intent.GUILD_MESSAGES if guild_id else Intent.DIRECT_MESSAGES
            return bool(state.intents & needed)
        if event.startswith("GUILD_") and event != "GUILD_MEMBERS_CHUNK":
            return bool(state.intents & Intent.GUILDS)
        return True

    def _shape(self, session: GatewaySession, event: str, data: Json) -> Json:
        """Without MESSAGE_CONTENT, guild messages arrive emptied (unless they mention the bot
        or are the bot's own) — the classic "my bot sees empty messages" trap."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or not data.get("guild_id"):
            return data
        if session.intents & Intent.MESSAGE_CONTENT:
            return data
        bot_id = str(self.bot.id)
        author = (data.get("author") or {}).get("id")
        if author == bot_id or any(m.get("id") == bot_id for m in data.get("mentions", [])):
            return data
        return data | {"content": "", "embeds": [], "attachments": [], "components": []}

    async def _send_dispatch(self, session: GatewaySession, event: str, data: Json) -> None:
        state = session.state
        assert state is not None
        state.seq += 1
        frame: Json = {"op": 0, "t": event, "s": state.seq, "d": data}
        state.history.append(frame)
        self.gateway_sent.append(frame)
        await session.send(frame)

    async def _echo(self, event: str, data: Json) -> None:
        """Real Discord also dispatches the bot's own REST-created messages over the gateway."""
        if not self.echo_own_messages:
            return
        for session in [s for s in self.sessions if s.identified and s.open]:
            if self._wants(session, event, data):
                # The client may be mid-close; the REST call must still succeed.
                with contextlib.suppress(ConnectionError):
                    await self._send_dispatch(session, event, self._shape(session, event, data))

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        try:
            encoder = _make_encoder(compress)
        except (ValueError, ImportError):
            await ws.close(code=4000, message=b"unsupported compression")
            return ws
        session = GatewaySession(ws=ws, compression=compress, encoder=encoder)
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"Error while decoding payload.")
            return ws
        self.sessions.append(session)
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-gateway"]}
            await session.send({"op": 10, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    frame = json.loads(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    frame = json.loads(msg.data.decode())
                else:
                    break
                self.gateway_received.append(frame)
                await self._on_frame(session, frame)
                await self._notify()
        except Exception as e:  # a crash here would otherwise look like a flaky client
            self.internal_errors.append(e)
            log.exception("fake gateway crashed")
        finally:
            self.sessions.remove(session)
            await self._notify()
        return ws

    async def _on_frame(self, session: GatewaySession, frame: Json) -> None:
        op = frame.get("op")
        d = frame.get("d")
        if op == 1:
            session.heartbeats += 1
            if self.ack_heartbeats:
                await session.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(session, d or {})
        elif op == 6:
            await self._resume(session, d or {})
        elif session.state is None:
            await session.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 3:
            self.presence = d
        elif op == 4:
            pass  # voice state: nothing to do for a text bot
        elif op == 8:
            await self._request_members(session, d or {})
        else:
            await session.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, session: GatewaySession, d: Json) -> None:
        if session.state is not None:
            await session.ws.close(code=4005, message=b"Already authenticated.")
            return
        if d.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        if "intents" not in d:
            await session.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        intents = int(d["intents"])
        if intents & Intent.PRIVILEGED & ~self.privileged_intents:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard_list = d.get("shard") or [0, self.shard_count]
        shard = (int(shard_list[0]), int(shard_list[1]))
        if not 0 <= shard[0] < shard[1]:
            await session.ws.close(code=4010, message=b"Invalid shard.")
            return
        state = _SessionState(session_id=secrets.token_hex(16), intents=intents, shard=shard)
        self._session_states[state.session_id] = state
        session.state = state
        guilds = [
            g
            for g in self.world.guilds.values()
            if shard[1] == 1 or (g.id >> 22) % shard[1] == shard[0]
        ]
        ready: Json = {
            "v": API_VERSION,
            "user": self.bot.payload() | {"verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": state.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["fake-gateway"],
        }
        if d.get("shard") is not None:
            ready["shard"] = list(shard)
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            if intents & Intent.GUILDS:
                await self._send_dispatch(session, "GUILD_CREATE", guild.payload())
        session.identified = True

    async def _resume(self, session: GatewaySession, d: Json) -> None:
        state = self._session_states.get(str(d.get("session_id")))
        if state is None or d.get("token") != self.token:
            await session.send({"op": 9, "d": False, "s": None, "t": None})
            return
        session.state = state
        session.resumed = True
        last_seen = int(d.get("seq") or 0)
        for frame in [f for f in state.history if f["s"] > last_seen]:
            await session.send(frame)  # replay what the client missed
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})
        session.identified = True

    async def _request_members(self, session: GatewaySession, d: Json) -> None:
        guild = self.world.guilds.get(int(d.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        if d.get("user_ids"):
            ids = {int(u) for u in d["user_ids"]}
            members = [m for m in members if m.id in ids]
        elif d.get("query"):
            members = [m for m in members if m.user.username.startswith(str(d["query"]))]
        if d.get("limit"):
            members = members[: int(d["limit"])]
        chunk: Json = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # ---- REST plumbing ----------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", "/gateway", self._h_gateway, False),
            ("GET", "/gateway/bot", self._h_gateway_bot, True),
            ("GET", "/users/@me", self._h_me, True),
            ("GET", "/oauth2/applications/@me", self._h_application, True),
            ("GET", "/applications/@me", self._h_application, True),
            ("POST", "/users/@me/channels", self._h_open_dm, True),
            ("GET", "/users/{user_id}", self._h_user, True),
            ("GET", "/applications/{app_id}/commands", self._h_commands_list, True),
            ("PUT", "/applications/{app_id}/commands", self._h_commands_put, True),
            ("POST", "/applications/{app_id}/commands", self._h_command_upsert, True),
            ("GET", "/applications/{app_id}/commands/{command_id}", self._h_command, True),
            ("PATCH", "/applications/{app_id}/commands/{command_id}", self._h_command, True),
            ("DELETE", "/applications/{app_id}/commands/{command_id}", self._h_command, True),
            (
                "GET",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_commands_list,
                True,
            ),
            (
                "PUT",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_commands_put,
                True,
            ),
            (
                "POST",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_command_upsert,
                True,
            ),
            (
                "GET",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self._h_command,
                True,
            ),
            (
                "PATCH",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self._h_command,
                True,
            ),
            (
                "DELETE",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self._h_command,
                True,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._h_callback, False),
            ("POST", "/webhooks/{app_id}/{token}", self._h_followup, False),
            ("GET", "/webhooks/{app_id}/{token}/messages/@original", self._h_original, False),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/@original", self._h_original, False),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/@original", self._h_original, False),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._h_webhook_msg, False),
            (
                "PATCH",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._h_webhook_msg,
                False,
            ),
            (
                "DELETE",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._h_webhook_msg,
                False,
            ),
            ("GET", "/channels/{channel_id}", self._h_channel, True),
            ("POST", "/channels/{channel_id}/typing", self._h_typing, True),
            ("GET", "/channels/{channel_id}/messages", self._h_history, True),
            ("POST", "/channels/{channel_id}/messages", self._h_send, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._h_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._h_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._h_message, True),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._h_reaction,
                True,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._h_reaction,
                True,
            ),
            ("GET", "/guilds/{guild_id}", self._h_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self._h_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self._h_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._h_member, True),
        ]
        return [_Route(m, t, _compile(t), h, a) for m, t, h, a in table]

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route in self._routes:
            if route.method == method:
                m = route.regex.match(path)
                if m:
                    return route, m.groupdict()
        return None, {}

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
        if request.content_type == "multipart/form-data":
            payload: Any = None
            files: list[RecordedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                data = bytes(await part.read())
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    ctype = part.headers.get("Content-Type")
                    files.append(RecordedFile(part.name or "", part.filename, ctype, data))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            raise _ApiError(400, 50109, "The request body contains invalid JSON.") from None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        path = "/" + request.match_info["tail"]
        route, params = self._match(method, path)
        template = f"{method} {route.template}" if route else "UNKNOWN"
        rec = RecordedRequest(
            method=method,
            path=path,
            route=template,
            params=params,
            query=dict(request.query),
            headers=dict(request.headers),
            json=None,
        )
        response: web.Response
        try:
            rec.json, rec.files = await self._read_body(request)
            authorized = request.headers.get("Authorization") == f"Bot {self.token}"
            if route is not None and route.auth and not authorized:
                raise _ApiError(401, 0, "401: Unauthorized")
            fault = self._take_fault(method, path)
            if fault is not None:
                response, rec.response = self._fault_response(fault, template)
                rec.status = fault.status
            elif route is None:
                raise _ApiError(404, 0, "404: Not Found")
            else:
                ctx = _Ctx(method, path, params, request.query, rec.json, rec.files)
                status, body = await route.handler(ctx)
                rec.status, rec.response = status, body
                headers = self._ok_headers(template)
                if status == 204:
                    response = web.Response(status=204, headers=headers)
                else:
                    response = _json_response(body, status=status, headers=headers)
        except _ApiError as e:
            rec.status, rec.response = e.status, e.body()
            response = _json_response(e.body(), status=e.status)
        except Exception as e:
            self.internal_errors.append(e)
            log.exception("fake Discord handler crashed on %s %s", method, path)
            rec.status = 500
            rec.response = {"message": "500: Internal Server Error", "code": 0}
            response = _json_response(rec.response, status=500)
        rec.at = time.monotonic()
        self.requests.append(rec)
        await self._notify()
        return response

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        attachment_id = int(request.match_info["attachment_id"])
        data = self._attachment_data.get(attachment_id)
        if data is None:
            raise web.HTTPNotFound()
        self.cdn_downloads.append(attachment_id)
        return web.Response(body=data)

    # ---- lookups ----------------------------------------------------------------------

    def _channel(self, channel_id: str) -> FakeChannel:
        channel = self.world.channels.get(int(channel_id))
        if channel is None:
            raise _ApiError(404, 10003, "Unknown Channel")
        return channel

    def _guild(self, guild_id: str) -> FakeGuild:
        guild = self.world.guilds.get(int(guild_id))
        if guild is None:
            raise _ApiError(403, 50001, "Missing Access")  # what a bot not in the guild gets
        return guild

    def _channel_message(self, channel: FakeChannel, message_id: str) -> Json:
        msg = self.world.messages.get(int(message_id))
        if msg is None or msg["channel_id"] != str(channel.id):
            raise _ApiError(404, 10008, "Unknown Message")
        return msg

    def _check_app(self, app_id: str) -> None:
        if app_id != str(self.application_id):
            raise _ApiError(
                403, 20012, "You are not authorized to perform this action on this application"
            )

    def _check_send(self, channel: FakeChannel, files: Sequence[RecordedFile]) -> None:
        if channel.recipient is not None:
            if channel.recipient.bot or not channel.recipient.accepts_dms:
                raise _ApiError(403, 50007, "Cannot send messages to this user")
            return
        assert channel.guild is not None
        perms = channel.guild.me.permissions_in(channel)
        if not perms & Perm.VIEW_CHANNEL:
            raise _ApiError(403, 50001, "Missing Access")
        if not perms & Perm.SEND_MESSAGES or (files and not perms & Perm.ATTACH_FILES):
            raise _ApiError(403, 50013, "Missing Permissions")

    # ---- messages ---------------------------------------------------------------------

    def _attachments(
        self,
        channel: FakeChannel,
        body: Mapping[str, Any],
        files: Sequence[RecordedFile],
        existing: Sequence[Json],
    ) -> list[Json]:
        by_index: dict[int, RecordedFile] = {}
        for f in files:
            m = re.fullmatch(r"files\[(\d+)\]", f.field)
            if m:
                by_index[int(m[1])] = f
        kept = {a["id"]: a for a in existing}
        out: list[Json] = []
        used: set[int] = set()
        for entry in body.get("attachments") or []:
            aid = str(entry.get("id"))
            if aid in kept:
                out.append(kept[aid])
            elif aid.isdigit() and int(aid) in by_index:
                used.add(int(aid))
                f = by_index[int(aid)]
                out.append(self._attachment(channel, f, entry.get("filename"), entry))
        for index, f in sorted(by_index.items()):
            if index not in used:  # files sent without an "attachments" entry
                out.append(self._attachment(channel, f, None, {}))
        return out

    def _attachment(
        self, channel: FakeChannel, f: RecordedFile, filename: str | None, entry: Mapping[str, Any]
    ) -> Json:
        aid = self.world.ids.next()
        name = filename or f.filename or "file"
        self._attachment_data[aid] = f.data
        url = f"{self.http_url}/attachments/{channel.id}/{aid}/{name}"
        return {
            "id": str(aid),
            "filename": name,
            "description": entry.get("description"),
            "content_type": f.content_type,
            "size": len(f.data),
            "url": url,
            "proxy_url": url,
            "flags": 0,
        }

    def _mentions(self, content: str) -> list[Json]:
        ids = {int(x) for x in re.findall(r"<@!?(\d+)>", content)}
        return [self.world.users[i].payload() for i in ids if i in self.world.users]

    def _store_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: Mapping[str, Any],
        files: Sequence[RecordedFile],
        *,
        flags: int = 0,
        msg_type: int = 0,
        interaction: _Interaction | None = None,
        message_id: int | None = None,
    ) -> Json:
        mid = message_id or self.world.ids.next()
        content = str(body.get("content") or "")
        msg: Json = {
            "id": str(mid),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": self._mentions(content),
            "mention_roles": [],
            "attachments": self._attachments(channel, body, files, []),
            "embeds": [e | {"type": e.get("type", "rich")} for e in body.get("embeds") or []],
            "pinned": False,
            "type": msg_type,
            "flags": flags,
            "components": list(body.get("components") or []),
        }
        if channel.guild is not None:
            msg["guild_id"] = str(channel.guild.id)
            member = channel.guild.members.get(author.id)
            if member is not None:
                partial = member.payload()
                partial.pop("user")
                msg["member"] = partial
        ref = body.get("message_reference")
        if ref:
            msg["message_reference"] = {"type": 0, "channel_id": str(channel.id)} | ref
            msg["type"] = 19 if msg_type == 0 else msg_type
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            msg["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
            self._message_token[mid] = interaction.token
        self.world.messages[mid] = msg
        channel.last_message_id = mid
        return msg

    def _edit_message(
        self, msg: Json, body: Mapping[str, Any], files: Sequence[RecordedFile]
    ) -> Json:
        channel = self.world.channels[int(msg["channel_id"])]
        new = dict(msg)  # edit a copy so a rejected edit leaves the message untouched
        if "content" in body:
            new["content"] = str(body.get("content") or "")
            new["mentions"] = self._mentions(new["content"])
        if "embeds" in body:
            new["embeds"] = [e | {"type": e.get("type", "rich")} for e in body["embeds"] or []]
        if "components" in body:
            new["components"] = list(body["components"] or [])
        if "attachments" in body or files:
            new["attachments"] = self._attachments(channel, body, files, msg["attachments"])
        if "flags" in body and body["flags"] is not None:
            # Only "suppress embeds" can be toggled; ephemeral is fixed at creation.
            keep = msg["flags"] & ~MessageFlag.SUPPRESS_EMBEDS
            new["flags"] = keep | (int(body["flags"]) & MessageFlag.SUPPRESS_EMBEDS)
        new["flags"] &= ~MessageFlag.LOADING
        new["edited_timestamp"] = _now_iso()
        if _is_empty_message(new, []):
            raise _ApiError(400, 50006, "Cannot send an empty message")
        msg.update(new)
        return msg

    # ---- REST handlers: identity ------------------------------------------------------

    async def _h_gateway(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _h_gateway_bot(self, ctx: _Ctx) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return 200, {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": limit,
        }

    async def _h_me(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, self.bot.payload() | {"verified": True, "mfa_enabled": False, "email": None}

    async def _h_application(self, ctx: _Ctx) -> tuple[int, Any]:
        owner = self.world.app_owner
        return 200, {
            "id": str(self.application_id),
            "name": self.bot.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": owner.payload(),
            "team": None,
            "bot": self.bot.payload(),
            "interactions_endpoint_url": None,  # non-null would divert interactions from the WS
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": len(self.world.guilds),
        }

    async def _h_user(self, ctx: _Ctx) -> tuple[int, Any]:
        user = self.world.users.get(int(ctx.params["user_id"]))
        if user is None:
            raise _ApiError(404, 10013, "Unknown User")
        return 200, user.payload()

    async def _h_open_dm(self, ctx: _Ctx) -> tuple[int, Any]:
        raw = ctx.body.get("recipient_id")
        user = self.world.users.get(int(raw)) if raw is not None else None
        if user is None:
            raise _form_error(
                [(("recipient_id",), "NUMBER_TYPE_COERCE", "Value is not snowflake.")]
            )
        return 200, self.world.dm_channel(user).payload()

    # ---- REST handlers: guilds/channels -----------------------------------------------

    async def _h_guild(self, ctx: _Ctx) -> tuple[int, Any]:
        payload = self._guild(ctx.params["guild_id"]).payload()
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            payload.pop(key, None)
        return 200, payload

    async def _h_guild_channels(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, [c.payload() for c in self._guild(ctx.params["guild_id"]).channels]

    async def _h_guild_roles(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, [r.payload() for r in self._guild(ctx.params["guild_id"]).roles]

    async def _h_member(self, ctx: _Ctx) -> tuple[int, Any]:
        guild = self._guild(ctx.params["guild_id"])
        member = guild.members.get(int(ctx.params["user_id"]))
        if member is None:
            raise _ApiError(404, 10007, "Unknown Member")
        return 200, member.payload()

    async def _h_channel(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, self._channel(ctx.params["channel_id"]).payload()

    async def _h_typing(self, ctx: _Ctx) -> tuple[int, Any]:
        self._channel(ctx.params["channel_id"])
        return 204, None

    async def _h_history(self, ctx: _Ctx) -> tuple[int, Any]:
        channel = self._channel(ctx.params["channel_id"])
        limit = int(ctx.query.get("limit", "50"))
        msgs = [m for m in self.world.messages.values() if m["channel_id"] == str(channel.id)]
        return 200, list(reversed(msgs))[:limit]  # newest first, like Discord

    async def _h_send(self, ctx: _Ctx) -> tuple[int, Any]:
        channel = self._channel(ctx.params["channel_id"])
        self._check_send(channel, ctx.files)
        _check_message(ctx.body, ctx.files, creating=True)
        # enforce_nonce: a second send with a nonce this author used in this channel returns
        # the first message instead of posting again (Discord keeps nonces a few minutes).
        nonce = ctx.body.get("nonce")
        key = (channel.id, str(nonce))
        if nonce is not None and ctx.body.get("enforce_nonce") and key in self.world.nonces:
            first = self.world.messages.get(self.world.nonces[key])
            if first is not None:
                return 200, first
        flags = int(ctx.body.get("flags") or 0) & MessageFlag.SETTABLE
        msg = self._store_message(channel, self.bot, ctx.body, ctx.files, flags=flags)
        if nonce is not None:
            self.world.nonces[key] = int(msg["id"])
        await self._echo("MESSAGE_CREATE", msg)
        return 200, msg

    async def _h_message(self, ctx: _Ctx) -> tuple[int, Any]:
        channel = self._channel(ctx.params["channel_id"])
        msg = self._channel_message(channel, ctx.params["message_id"])
        own = msg["author"]["id"] == str(self.bot.id)
        if ctx.method == "GET":
            return 200, msg
        if ctx.method == "PATCH":
            if not own:
                raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
            _check_message(ctx.body, ctx.files, creating=False)
            self._edit_message(msg, ctx.body, ctx.files)
            await self._echo("MESSAGE_UPDATE", msg)
            return 200, msg
        guild = channel.guild
        if (
            not own
            and guild is not None
            and not guild.me.permissions_in(channel) & Perm.MANAGE_MESSAGES
        ):
            raise _ApiError(403, 50013, "Missing Permissions")
        del self.world.messages[int(msg["id"])]
        event: Json = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if "guild_id" in msg:
            event["guild_id"] = msg["guild_id"]
        await self._echo("MESSAGE_DELETE", event)
        return 204, None

    async def _h_reaction(self, ctx: _Ctx) -> tuple[int, Any]:
        channel = self._channel(ctx.params["channel_id"])
        self._channel_message(channel, ctx.params["message_id"])
        return 204, None

    # ---- REST handlers: application commands ------------------------------------------

    def _scope(self, ctx: _Ctx) -> int | None:
        self._check_app(ctx.params["app_id"])
        if "guild_id" in ctx.params:
            return self._guild(ctx.params["guild_id"]).id
        return None

    def _normalize_command(self, scope: int | None, data: Json, old: Json | None) -> Json:
        ctype = int(data.get("type", 1))
        errors: list[_Err] = []
        name = data.get("name")
        if ctype == 1:
            if not isinstance(name, str) or not re.fullmatch(r"[-_\w]{1,32}", name):
                errors.append((("name",), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name"))
            elif name != name.lower():
                errors.append((("name",), "APPLICATION_COMMAND_INVALID_NAME", "Must be lowercase"))
            _bad_len(errors, ("description",), data.get("description"), 1, 100)
        else:
            _bad_len(errors, ("name",), name, 1, 32)
        if len(data.get("options") or []) > 25:
            errors.append((("options",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        if errors:
            raise _form_error(errors)
        cmd: Json = {
            "id": old["id"] if old else str(self.world.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.world.ids.next()),
            "type": ctype,
            "name": name,
            "description": data.get("description", ""),
            "options": data.get("options") or [],
            "default_member_permissions": data.get("default_member_permissions"),
            "nsfw": bool(data.get("nsfw", False)),
            "name_localizations": data.get("name_localizations"),
            "description_localizations": data.get("description_localizations"),
            "contexts": data.get("contexts"),
            "integration_types": data.get("integration_types", [0]),
        }
        if scope is not None:
            cmd["guild_id"] = str(scope)
        else:
            cmd["dm_permission"] = data.get("dm_permission", True)
        return cmd

    async def _h_commands_list(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, self.commands.get(self._scope(ctx), [])

    async def _h_commands_put(self, ctx: _Ctx) -> tuple[int, Any]:
        scope = self._scope(ctx)
        if not isinstance(ctx.json, list):
            raise _form_error([((), "LIST_TYPE_CONVERT", "Only iterables may be used")])
        keys = [(c.get("name"), int(c.get("type", 1))) for c in ctx.json]
        if len(keys) != len(set(keys)):
            raise _form_error(
                [
                    (
                        (),
                        "APPLICATION_COMMANDS_DUPLICATE_NAME",
                        "Application command names must be unique",
                    )
                ]
            )
        old = {(c["name"], c["type"]): c for c in self.commands.get(scope, [])}
        # Bulk overwrite keeps ids for commands that still exist, like Discord.
        new = [
            self._normalize_command(scope, c, old.get(k))
            for c, k in zip(ctx.json, keys, strict=True)
        ]
        self.commands[scope] = new
        return 200, new

    async def _h_command_upsert(self, ctx: _Ctx) -> tuple[int, Any]:
        scope = self._scope(ctx)
        current = self.commands.setdefault(scope, [])
        key = (ctx.body.get("name"), int(ctx.body.get("type", 1)))
        old = next((c for c in current if (c["name"], c["type"]) == key), None)
        cmd = self._normalize_command(scope, ctx.body, old)
        if old is not None:
            current[current.index(old)] = cmd
            return 200, cmd
        current.append(cmd)
        return 201, cmd

    async def _h_command(self, ctx: _Ctx) -> tuple[int, Any]:
        scope = self._scope(ctx)
        current = self.commands.setdefault(scope, [])
        cmd = next((c for c in current if c["id"] == ctx.params["command_id"]), None)
        if cmd is None:
            raise _ApiError(404, 10063, "Unknown application command")
        if ctx.method == "GET":
            return 200, cmd
        if ctx.method == "DELETE":
            current.remove(cmd)
            return 204, None
        merged = self._normalize_command(scope, cmd | ctx.body, cmd)
        current[current.index(cmd)] = merged
        return 200, merged

    # ---- REST handlers: interactions --------------------------------------------------

    def _callback_response(self, it: _Interaction, rtype: int, msg: Json | None) -> Json:
        data: Json = {
            "interaction": {
                "id": str(it.id),
                "type": it.type,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": it.ephemeral,
            }
        }
        if msg is not None:
            data["interaction"]["response_message_id"] = msg["id"]
            data["resource"] = {"type": rtype, "message": msg}
        return data

    async def _h_callback(self, ctx: _Ctx) -> tuple[int, Any]:
        it = self._interactions.get(int(ctx.params["interaction_id"]))
        if it is None or it.token != ctx.params["token"] or it.dispatched_at is None:
            raise _ApiError(404, 10062, "Unknown interaction")
        late = self.ack_deadline is not None and (
            time.monotonic() - it.dispatched_at > self.ack_deadline
        )
        if late:
            raise _ApiError(404, 10062, "Unknown interaction")
        if it.response_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        rtype = ctx.body.get("type")
        data = ctx.body.get("data") or {}
        if rtype not in _ALLOWED_CALLBACKS[it.type]:
            allowed = ", ".join(str(t) for t in sorted(_ALLOWED_CALLBACKS[it.type]))
            raise _form_error(
                [(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {{{allowed}}}.")]
            )
        msg: Json | None = None
        flags = int(data.get("flags") or 0)
        it.ephemeral = bool(flags & MessageFlag.EPHEMERAL)
        if rtype == 4:
            _check_message(data, ctx.files, creating=True, base=("data",))
            keep = flags & (MessageFlag.SETTABLE | MessageFlag.EPHEMERAL)
            msg_type = 20 if it.type == 2 else 0  # 20 = CHAT_INPUT_COMMAND
            msg = self._store_message(
                it.channel, self.bot, data, ctx.files, flags=keep, msg_type=msg_type, interaction=it
            )
            it.original_id = int(msg["id"])
        elif rtype == 5:
            # The "<bot> is thinking…" placeholder; its ephemerality is fixed from now on.
            keep = MessageFlag.LOADING | (flags & MessageFlag.EPHEMERAL)
            msg_type = 20 if it.type == 2 else 0
            msg = self._store_message(
                it.channel, self.bot, {}, [], flags=keep, msg_type=msg_type, interaction=it
            )
            it.original_id = int(msg["id"])
            it.loading = True
        elif rtype == 6:
            it.ephemeral = False
        elif rtype == 7:
            _check_message(data, ctx.files, creating=False, base=("data",))
            target = self.world.messages.get(it.component_message_id or 0)
            if target is None:
                raise _ApiError(404, 10008, "Unknown Message")
            msg = self._edit_message(target, data, ctx.files)
            await self._echo("MESSAGE_UPDATE", msg)
        elif rtype == 8:
            errors: list[_Err] = []
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > MAX_CHOICES:
                errors.append(
                    (
                        ("data", "choices"),
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {MAX_CHOICES} or fewer in length.",
                    )
                )
            for i, choice in enumerate(choices or []):
                p: _Path = ("data", "choices", i)
                _bad_len(errors, (*p, "name"), choice.get("name"), 1, MAX_CHOICE_NAME)
                _max_len(errors, (*p, "value"), choice.get("value"), 100)
            if errors:
                raise _form_error(errors)
        elif rtype == 9:
            errors = []
            _bad_len(errors, ("data", "title"), data.get("title"), 1, MAX_MODAL_TITLE)
            _bad_len(errors, ("data", "custom_id"), data.get("custom_id"), 1, MAX_CUSTOM_ID)
            components = data.get("components")
            _bad_len(errors, ("data", "components"), components, 1, 5)
            _walk_components(components or [], ("data", "components"), errors, set())
            if errors:
                raise _form_error(errors)
        it.response_type = rtype
        return 200, self._callback_response(it, rtype, msg)

    def _webhook_interaction(self, ctx: _Ctx) -> _Interaction:
        it = self._by_token.get(ctx.params["token"])
        if (
            ctx.params["app_id"] != str(self.application_id)
            or it is None
            or it.response_type is None
        ):
            # Follow-ups before the interaction was acknowledged hit an unknown webhook.
            raise _ApiError(404, 10015, "Unknown Webhook")
        return it

    def _original_target(self, it: _Interaction) -> Json:
        mid = it.original_id
        if mid is None and it.response_type in (6, 7):
            mid = it.component_message_id  # @original is the component's message then
        msg = self.world.messages.get(mid or 0)
        if msg is None:
            raise _ApiError(404, 10008, "Unknown Message")
        return msg

    async def _h_followup(self, ctx: _Ctx) -> tuple[int, Any]:
        it = self._webhook_interaction(ctx)
        _check_message(ctx.body, ctx.files, creating=True)
        if it.loading and it.original_id in self.world.messages:
            # The first follow-up after a "thinking" defer replaces the loading message and
            # keeps the defer's ephemerality, whatever its own flags say (Discord docs).
            it.loading = False
            msg = self._edit_message(self.world.messages[it.original_id], ctx.body, ctx.files)
            msg["edited_timestamp"] = None
            return 200, msg
        flags = int(ctx.body.get("flags") or 0) & (MessageFlag.SETTABLE | MessageFlag.EPHEMERAL)
        msg = self._store_message(
            it.channel, self.bot, ctx.body, ctx.files, flags=flags, interaction=it
        )
        if not flags & MessageFlag.EPHEMERAL:
            await self._echo("MESSAGE_CREATE", msg)
        return 200, msg

    async def _h_original(self, ctx: _Ctx) -> tuple[int, Any]:
        it = self._webhook_interaction(ctx)
        msg = self._original_target(it)
        return await self._webhook_message_op(ctx, it, msg)

    async def _h_webhook_msg(self, ctx: _Ctx) -> tuple[int, Any]:
        it = self._webhook_interaction(ctx)
        mid = int(ctx.params["message_id"])
        msg = self.world.messages.get(mid)
        if msg is None or self._message_token.get(mid) != it.token:
            raise _ApiError(404, 10008, "Unknown Message")
        return await self._webhook_message_op(ctx, it, msg)

    async def _webhook_message_op(self, ctx: _Ctx, it: _Interaction, msg: Json) -> tuple[int, Any]:
        if ctx.method == "GET":
            return 200, msg
        if ctx.method == "DELETE":
            del self.world.messages[int(msg["id"])]
            return 204, None
        _check_message(ctx.body, ctx.files, creating=False)
        if int(msg["id"]) == it.original_id:
            it.loading = False
        self._edit_message(msg, ctx.body, ctx.files)
        return 200, msg


def _snapshot(payload: Json) -> Json:
    copied: Json = json.loads(json.dumps(payload))
    return copied


def _collect_custom_ids(components: Sequence[Json], out: list[str]) -> None:
    for component in components:
        if isinstance(component.get("custom_id"), str):
            out.append(component["custom_id"])
        _collect_custom_ids(component.get("components") or [], out)
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                _collect_custom_ids([component[key]], out)
