"""Telegram updates → the engine's normalised events. Pure functions: no network, no database.

Who is who:
- a person is `Actor(user_id=str(user.id))`; an anonymous group admin (a message from
  GroupAnonymousBot with `sender_chat` = the group) is one shared actor per group,
  `anon:<chat id>`, always a chat admin — its id is deliberately not a number, so nothing can
  mistake it for a private chat to write to;
- a chat is `Place(chat_id=str(chat.id))`, with the forum topic as `thread_id`.

A document (a file sent as a file) is the `/upload` command with the file as its Upload: in a
private chat always, in a group when its caption is `/upload` or mentions the bot, or when it
replies to the bot. The caption, minus `/upload` and the mention, is the command's args (so the
red-flag screen reads it like any text).
"""

from __future__ import annotations

import re

from telegram import CallbackQuery, Chat, Message, User

from bot.adapters.telegram.uploads import upload_of
from bot.engine.commands import parse_command
from bot.engine.events import Actor, Inbound, Place

PLATFORM = "telegram"
# Telegram's fixed user for messages an anonymous group admin posts.
GROUP_ANONYMOUS_BOT_ID = 1087968824
ANONYMOUS_PREFIX = "anon:"

# /start parameters allow [A-Za-z0-9_-] and at most 64 characters. Engine payloads also use
# ":", ".", "+" and "~", so those are escaped with "-" (itself written "--"): reversible, and
# short for the usual `name:arg` actions ("triage:start" → "triage-cstart").
MAX_START_PARAM = 64
_ESCAPES = {"-": "--", ":": "-c", ".": "-d", "+": "-p", "~": "-t"}
_UNESCAPES = {code[1]: char for char, code in _ESCAPES.items()}
_PLAIN = re.compile(r"[A-Za-z0-9_]")
_START_PARAM = re.compile(r"[A-Za-z0-9_-]{1,64}")


def encode_start_param(payload: str) -> str | None:
    """A button payload as a deep-link parameter; None when it cannot fit."""
    out: list[str] = []
    for char in payload:
        if _PLAIN.fullmatch(char):
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        else:
            return None
    encoded = "".join(out)
    return encoded if 0 < len(encoded) <= MAX_START_PARAM else None


def decode_start_param(param: str) -> str | None:
    """The payload behind a deep-link parameter; None for anything we did not encode."""
    if not _START_PARAM.fullmatch(param):
        return None
    out: list[str] = []
    chars = iter(param)
    for char in chars:
        if char != "-":
            out.append(char)
            continue
        code = next(chars, "")
        if code not in _UNESCAPES:
            return None
        out.append(_UNESCAPES[code])
    return "".join(out)


def deep_link(bot_username: str, payload: str | None = None) -> str:
    """Opens the private chat with the bot; with a payload, pressing Start sends it to us."""
    base = f"https://t.me/{bot_username}"
    param = encode_start_param(payload) if payload else None
    return f"{base}?start={param}" if param else base


def is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def place_of(message: Message) -> Place:
    chat = message.chat
    # message_thread_id is also set on plain replies in groups; only forum topics are threads.
    topic = message.message_thread_id if message.is_topic_message else None
    return Place(
        chat_id=str(chat.id),
        is_private=chat.type == Chat.PRIVATE,
        thread_id=str(topic) if topic is not None else "",
        title=chat.title or "",
    )


def actor_of(user: User, *, is_chat_admin: bool | None = None) -> Actor:
    return Actor(
        PLATFORM,
        str(user.id),
        display_name=user.full_name,
        locale=user.language_code,
        is_chat_admin=is_chat_admin,
    )


def is_anonymous_admin(message: Message) -> bool:
    sender = message.sender_chat
    return sender is not None and sender.id == message.chat.id


def anonymous_actor(chat: Chat) -> Actor:
    return Actor(
        PLATFORM, f"{ANONYMOUS_PREFIX}{chat.id}", display_name=chat.title or "", is_chat_admin=True
    )


def private_chat_id(actor: Actor) -> int | None:
    """Where to write to this person privately; None for identities that have no private
    chat (anonymous admins)."""
    uid = actor.user_id
    if not uid.isdigit() or int(uid) == GROUP_ANONYMOUS_BOT_ID:
        return None
    return int(uid)


def needs_admin_check(message: Message, bot_username: str) -> bool:
    """Commands in groups are the only messages whose sender's role may matter."""
    return is_group(message.chat) and parse_command(message.text or "", bot_username) is not None


def _addressed_elsewhere(text: str, bot_username: str) -> bool:
    """`/cmd@otherbot`: a command, but not ours."""
    return parse_command(text) is not None and parse_command(text, bot_username) is None


def _without_mention(text: str, bot_username: str) -> tuple[str, bool]:
    """The text without "@ourbot" (wherever it stands), and whether it was there."""
    pattern = re.compile(rf"(?<![\w@])@{re.escape(bot_username)}(?!\w)", re.IGNORECASE)
    stripped, count = pattern.subn("", text)
    return (stripped.strip(), True) if count else (text, False)


def inbound_from_message(
    message: Message,
    *,
    bot_id: int,
    bot_username: str,
    is_chat_admin: bool | None = None,
) -> Inbound | None:
    """A typed message as an event; None for what the bot must ignore.

    Ignored: commands for other bots; in groups, chatter that neither is a command, nor
    replies to the bot, nor mentions it (with privacy mode off the bot sees everything, and
    a club must not get an answer to every message); automatic forwards from a channel.
    """
    if message.is_automatic_forward:
        return None
    place = place_of(message)
    if is_anonymous_admin(message):
        actor = anonymous_actor(message.chat)
    elif message.from_user is not None and not message.from_user.is_bot:
        actor = actor_of(
            message.from_user, is_chat_admin=None if place.is_private else is_chat_admin
        )
    else:
        return None  # other bots and channels speaking in the group
    text = message.text if message.text is not None else (message.caption or "")
    if text.startswith("/") and _addressed_elsewhere(text, bot_username):
        return None
    if message.document is not None:
        return _upload_event(message, actor, place, text, bot_id=bot_id, bot_username=bot_username)
    if text.startswith("/"):
        command = parse_command(text, bot_username)
        if command is not None:
            name, args = command
            if name == "start" and place.is_private and args:
                payload = decode_start_param(args)
                if payload is not None:
                    # A deep link from a group button: continue what it started, privately.
                    return Inbound(actor, place, payload=payload)
            return Inbound(actor, place, text=text, command=name, args=args)
    text, mentioned = _without_mention(text, bot_username)
    if place.is_private:
        # Stickers, photos without captions and the like: an empty text, which the engine
        # answers (the open dialog re-asks, otherwise the fallback), so nobody is ignored.
        return Inbound(actor, place, text=text)
    if not (mentioned or _replies_to_bot(message, bot_id)):
        return None
    return Inbound(actor, place, text=text)


def _replies_to_bot(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


def _upload_event(
    message: Message, actor: Actor, place: Place, text: str, *, bot_id: int, bot_username: str
) -> Inbound | None:
    """A document as /upload; None for a document in a group that is not addressed to us."""
    document = message.document
    assert document is not None
    command = parse_command(text, bot_username) if text.startswith("/") else None
    if command is not None and command[0] == "upload":
        args, addressed = command[1], True
    else:
        args, mentioned = _without_mention(text, bot_username)
        addressed = mentioned or _replies_to_bot(message, bot_id)
    if not (place.is_private or addressed):
        return None
    return Inbound(actor, place, text=text, command="upload", args=args, upload=upload_of(document))


def inbound_from_callback(
    query: CallbackQuery, *, place: Place | None = None, is_chat_admin: bool | None = None
) -> Inbound | None:
    """A button press; None when there is nothing to act on (inline-mode messages, games).

    `place` overrides where the press counts: a button on a private message that continues a
    group's conversation belongs to that group's dialog.
    """
    message = query.message
    if query.data is None or message is None or not isinstance(message, Message):
        return None
    where = place or place_of(message)
    actor = actor_of(query.from_user, is_chat_admin=None if where.is_private else is_chat_admin)
    return Inbound(actor, where, payload=query.data, message_ref=str(message.message_id))
