"""A local fake of the Telegram Bot API for end-to-end tests.

The real python-telegram-bot (PTB) talks to it over real HTTP: point the bot at
``base_url=fake.base_url`` and ``base_file_url=fake.base_file_url``. The fake keeps a
tiny world model (users, chats, memberships, blocked users, message history), lets
tests act as users (``user_sends``, ``user_presses``, ...), records everything the bot
does (``sent``, ``calls``, ``callback_answers``) and can inject faults (429, 5xx,
delays) or enforce Telegram's flood limits.

Fidelity notes (where the fake deliberately mirrors Telegram, because bots get it wrong):

* PTB sends every request as form data (urlencoded, or multipart when uploading);
  non-string values are JSON-encoded strings. JSON bodies are accepted too.
* Responses use the exact envelopes PTB parses: ``{"ok": true, "result": ...}`` and
  ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``.
* Update confirmation is by ``offset`` only, as on Telegram: returning updates from
  ``getUpdates`` does not consume them, so a long poll abandoned by a cancelled client
  loses nothing.
* Text lengths are counted in UTF-16 code units after entity parsing (stricter than
  code points, so a bot that passes here does not trip Telegram's limit).
* Anything delayed with ``delay_next`` still takes effect after the delay even if the
  client already timed out - exactly the "message sent twice after TimedOut" trap.

Webhook URLs are not required to be HTTPS, unlike on Telegram, so that PTB's
``run_webhook`` can be tested on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, Self

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "GROUP_ANONYMOUS_BOT_ID",
    "SEND_METHODS",
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "ChatAction",
    "FakeChat",
    "FakeTelegramAPI",
    "FakeUser",
    "MemberStatus",
    "RateLimitConfig",
    "RateViolation",
    "SentRecord",
    "UploadedFile",
    "WebhookDelivery",
    "parse_html",
    "utf16_len",
]

JSONDict = dict[str, Any]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
ChatType = Literal["private", "group", "supergroup"]

DEFAULT_TOKEN: Final = "123456789:AAFakeTokenForCoreCoachTests_0123456"
# Telegram's fixed user id for "Group" (anonymous group administrators).
GROUP_ANONYMOUS_BOT_ID: Final = 1087968824
MAX_MESSAGE_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
# The largest file getFile hands a bot (Telegram's "20 MB", as PTB's FileSizeLimit spells it).
MAX_DOWNLOAD_BYTES: Final = 20_000_000
# Methods that deliver a message to a chat; the default set for flood limits.
SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendAnimation", "sendDocument"})
# Telegram only sends these update types when explicitly listed in allowed_updates.
_OPT_IN_UPDATE_TYPES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_SCOPES: Final = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Form values arrive as strings; these are decoded to the types Telegram documents.
_JSON_PARAMS: Final = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
    }
)
_INT_PARAMS: Final = frozenset(
    {
        "message_id",
        "user_id",
        "offset",
        "limit",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "max_connections",
    }
)
_FLOAT_PARAMS: Final = frozenset({"timeout"})
_BOOL_PARAMS: Final = frozenset(
    {
        "show_alert",
        "disable_notification",
        "drop_pending_updates",
        "protect_content",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
    }
)
_NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_BOT_COMMAND_RE: Final = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_COMMAND_NAME_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """A Bot API error response; raised inside handlers and rendered as Telegram JSON."""

    def __init__(
        self,
        status: int,
        description: str,
        parameters: JSONDict | None = None,
        raw_body: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.raw_body = raw_body

    def response(self) -> web.Response:
        if self.raw_body is not None:
            return web.Response(status=self.status, text=self.raw_body, content_type="text/html")
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status)


def _bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def _forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


def _too_many_requests(retry_after: float) -> ApiError:
    value: float = int(retry_after) if float(retry_after).is_integer() else retry_after
    return ApiError(429, f"Too Many Requests: retry after {value}", {"retry_after": value})


_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# --------------------------------------------------------------------------- formatting


class _EntityBuilder:
    """Accumulates plain text and entities with UTF-16 offsets while a parser walks markup."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0  # current length in UTF-16 units
        self.entities: list[JSONDict] = []

    def add_text(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.pos += utf16_len(text)

    def add_entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def finish(self) -> tuple[str, list[JSONDict]]:
        return _trim("".join(self.parts), self.entities)


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace like Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out: list[JSONDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    out.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, out


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entity_error(message: str) -> ApiError:
    return _bad_request(f"can't parse entities: {message}")


_HTML_TAG_ENTITY: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE: Final = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_HTML_ATTR_RE: Final = re.compile(
    r"""\s*([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)


def _html_unescape(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        # Telegram leaves unsupported named entities (e.g. &nbsp;) untouched.
        return _HTML_NAMED_ENTITIES.get(name, match.group(0))

    return _HTML_ENTITY_RE.sub(repl, text)


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML subset into (plain text, entities); raise ApiError 400 like
    Telegram for unknown tags (``<br>``, ``<p>``...), stray ``<`` and unbalanced tags."""
    out = _EntityBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    i = 0
    n = len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            out.add_text(_html_unescape(text[i:]))
            break
        out.add_text(_html_unescape(text[i:lt]))
        gt = text.find(">", lt)
        if gt < 0:
            raise _entity_error(f"Unclosed start tag at byte offset {_byte_offset(text, lt)}")
        inner = text[lt + 1 : gt]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {_byte_offset(text, lt)}")
            open_name, start, attrs = stack.pop()
            if name != open_name:
                raise _entity_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, lt)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            _close_html_entity(out, stack, open_name, start, attrs)
        else:
            match = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", inner)
            name = match.group(0).lower() if match else ""
            if name not in _HTML_TAG_ENTITY:
                raise _entity_error(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, lt)}'
                )
            attrs = {
                m.group(1).lower(): _html_unescape(
                    next((g for g in m.groups()[1:] if g is not None), "")
                )
                for m in _HTML_ATTR_RE.finditer(inner[len(name) :])
            }
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _entity_error(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, lt)}"
                )
            stack.append((name, out.pos, attrs))
        i = gt + 1
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.finish()


def _close_html_entity(
    out: _EntityBuilder,
    stack: list[tuple[str, int, dict[str, str]]],
    name: str,
    start: int,
    attrs: dict[str, str],
) -> None:
    kind = _HTML_TAG_ENTITY[name]
    if name == "a":
        href = attrs.get("href")
        if href:
            out.add_entity("text_link", start, url=href)
        return
    if name == "code" and stack and stack[-1][0] == "pre" and stack[-1][1] == start:
        # <pre><code class="language-x"> is one pre entity with a language.
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
            return
    if name == "pre" and attrs.get("language"):
        out.add_entity("pre", start, language=attrs["language"])
        return
    if name == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    if name == "tg-emoji":
        out.add_entity(kind, start, custom_emoji_id=attrs.get("emoji-id", ""))
        return
    out.add_entity(kind, start)


def _render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSONDict]]:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode:  # the bot sends HTML only: Markdown modes are not faked
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
    if entities is not None and not isinstance(entities, list):
        raise _bad_request("can't parse entities JSON object")
    return _trim(text, list(entities or []))


# --------------------------------------------------------------------------- records


@dataclass
class FakeUser:
    """A Telegram user (or bot). ``blocked_bot``/``started_bot`` drive 403 answers."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False
    blocked_bot: bool = False
    started_bot: bool = True

    def __hash__(self) -> int:
        # Hashable so users can key membership mappings; ids never change.
        return hash(self.id)

    def to_api(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class FakeChat:
    """A chat; ``members`` maps user id to status and includes the bot for groups."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: dict[int, MemberStatus] = field(default_factory=dict)
    messages: dict[int, JSONDict] = field(default_factory=dict, repr=False)
    next_message_id: int = 1

    def to_api(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


# Where a chat is expected, a FakeUser stands for their private chat with the bot.
ChatRef = FakeChat | FakeUser | int


@dataclass
class UploadedFile:
    """A file the bot uploaded (multipart) or referenced by file_id/URL."""

    field_name: str
    filename: str | None
    content_type: str | None
    size: int
    data: bytes = field(repr=False)
    file_id: str = ""
    file_unique_id: str = ""
    file_path: str = ""
    url: str | None = None


@dataclass
class ApiCall:
    """Every request that reached the fake, including failed and injected-failure ones."""

    method: str
    params: JSONDict
    files: dict[str, UploadedFile]
    timestamp: float
    status: int = 0  # 0 while still being handled
    error: str | None = None


@dataclass
class SentRecord:
    """A successful outgoing bot action visible to users (send or edit)."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # as sent by the bot, markup included
    parse_mode: str | None
    reply_markup: JSONDict | None
    timestamp: float
    plain_text: str | None = None  # what the user sees, after entity parsing
    entities: list[JSONDict] = field(default_factory=list)
    caption: str | None = None
    file: UploadedFile | None = None
    params: JSONDict = field(default_factory=dict, repr=False)


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    timestamp: float


@dataclass
class ChatAction:
    chat_id: int
    action: str
    timestamp: float


@dataclass
class RateViolation:
    method: str
    chat_id: int | str | None
    scope: str  # "global", "private" or "group"
    retry_after: int
    timestamp: float


@dataclass
class WebhookDelivery:
    update_id: int | None
    url: str
    status: int | None  # None when the connection failed
    error: str | None
    timestamp: float


@dataclass
class RateLimitConfig:
    """Flood limits as leaky buckets (the algorithm aiolimiter/AIORateLimiter uses).

    ``*_burst`` is the bucket capacity: how many messages may go out back to back before
    the sustained rate applies. Telegram documents ~30 msg/s overall, ~1 msg/s per
    private chat ("short bursts" tolerated) and 20 msg/min per group.

    ``jitter_tolerance`` (seconds) adds ``rate * jitter_tolerance`` to every capacity. A
    client limiter admits requests at exactly the allowed rate, but they reach the server
    with varying latency; without slack two back-to-back arrivals would count as a
    violation although the client never exceeded the limit. Set 0 for exact accounting.
    """

    enabled: bool = False
    global_per_second: float = 30.0
    global_burst: float = 30.0
    private_per_second: float = 1.0
    private_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    jitter_tolerance: float = 0.25
    methods: frozenset[str] = SEND_METHODS


class _LeakyBucket:
    __slots__ = ("capacity", "last", "level", "rate")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.level = 0.0
        self.last = now

    def wait_time(self, now: float) -> float:
        """Seconds until one more message fits (0 if it fits now)."""
        self.level = max(0.0, self.level - (now - self.last) * self.rate)
        self.last = now
        excess = self.level + 1 - self.capacity
        return 0.0 if excess <= 1e-9 else excess / self.rate

    def add(self) -> None:
        self.level += 1


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    description: str | None
    raw_body: str | None
    times: int
    chat_id: int | None = None  # None: any chat (and calls without one)


@dataclass
class _Delay:
    seconds: float
    times: int


@dataclass
class _CallbackQueryState:
    chat_id: int
    message_id: int
    answered: bool = False


# --------------------------------------------------------------------------- the fake


class FakeTelegramAPI:
    """Fake Bot API server. Use as ``async with FakeTelegramAPI() as fake: ...``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "corecoach_test_bot",
        bot_first_name: str = "Core Coach",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimitConfig | None = None,
        auto_create_chats: bool = False,
        privacy_mode: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.rate_limits = rate_limits or RateLimitConfig()
        # When True, sending to an unknown positive chat id creates that user on the fly
        # (handy for large fan-out benchmarks); Telegram would answer "chat not found".
        self.auto_create_chats = auto_create_chats
        # Telegram's group privacy mode: non-admin bots only see commands and replies.
        self.privacy_mode = privacy_mode
        self._clock = clock
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot = FakeUser(
            id=bot_id, first_name=bot_first_name, username=bot_username, is_bot=True
        )

        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.sent: list[SentRecord] = []
        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[ChatAction] = []
        self.rate_violations = 0
        self.rate_violation_log: list[RateViolation] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        # (canonical scope JSON, language_code) -> commands
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.files: dict[str, UploadedFile] = {}
        # file_path of every file the bot downloaded (GET /file/bot<token>/<path>).
        self.downloads: list[str] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_last_error: tuple[int, str] | None = None

        self._ids = itertools.count(1_000_000)
        self._group_ids = itertools.count(1001)
        self._update_ids = itertools.count(100_001)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(7_000_000_000)
        self._pending: deque[JSONDict] = deque()
        self._allowed_updates: frozenset[str] | None = None
        self._callback_queries: dict[str, _CallbackQueryState] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[_Delay]] = {}
        self._buckets: dict[tuple[str, int], _LeakyBucket] = {}
        self._poll_generation = 0
        self._updates_event = asyncio.Event()
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_queue: asyncio.Queue[JSONDict] = asyncio.Queue()
        self._webhook_task: asyncio.Task[None] | None = None
        table: dict[str, Callable[[JSONDict, dict[str, UploadedFile]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendAnimation": self._send_animation,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "close": self._true,
            "logOut": self._true,
        }
        # Bot API method names are case-insensitive.
        self._handlers = {name.lower(): handler for name, handler in table.items()}
        self._canonical = {name.lower(): name for name in table}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Short shutdown timeout: stop() wakes long polls itself, nothing should linger.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._webhook_worker())

    async def stop(self) -> None:
        self._closing.set()
        self._wake_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
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

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("FakeTelegramAPI is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def reset_records(self) -> None:
        """Forget recorded traffic (not the world model), e.g. between benchmark phases."""
        self.sent.clear()
        self.calls.clear()
        self.callback_answers.clear()
        self.chat_actions.clear()
        self.rate_violation_log.clear()
        self.webhook_deliveries.clear()
        self.downloads.clear()
        self.rate_violations = 0
        self._buckets.clear()

    # ------------------------------------------------------------------ world model

    def add_user(
        self,
        first_name: str = "Runner",
        *,
        user_id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started_bot: bool = True,
    ) -> FakeUser:
        """Create a user and their private chat with the bot."""
        uid = user_id if user_id is not None else next(self._ids)
        user = FakeUser(
            id=uid,
            first_name=first_name,
            username=username,
            last_name=last_name,
            language_code=language_code,
            started_bot=started_bot,
        )
        self.users[uid] = user
        self.chats[uid] = FakeChat(
            id=uid,
            type="private",
            username=username,
            first_name=first_name,
            last_name=last_name,
            members={uid: "member", self.bot.id: "member"},
        )
        return user

    def add_group(
        self,
        title: str = "Running Club",
        *,
        supergroup: bool = False,
        chat_id: int | None = None,
        username: str | None = None,
        bot_status: MemberStatus = "member",
        members: Mapping[FakeUser | int, MemberStatus] | None = None,
    ) -> FakeChat:
        """Create a group (negative id) or supergroup (-100... id) the bot is in."""
        if chat_id is None:
            number = next(self._group_ids)
            chat_id = -(1_000_000_000_000 + number) if supergroup else -number
        chat = FakeChat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
            members={self.bot.id: bot_status},
        )
        for member, status in (members or {}).items():
            chat.members[self._user(member).id] = status
        self.chats[chat_id] = chat
        return chat

    def private_chat(self, user: FakeUser | int) -> FakeChat:
        return self.chats[self._user(user).id]

    def set_member_status(self, chat: ChatRef, user: FakeUser | int, status: MemberStatus) -> None:
        """Change a membership silently (no update); see chat_member_update for events."""
        self._chat(chat).members[self._user(user).id] = status

    def block_bot(self, user: FakeUser | int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends answer 403; Telegram emits my_chat_member."""
        u = self._user(user)
        u.blocked_bot = True
        if notify:
            self.chat_member_update(u.id, by=u, new_status="kicked", old_status="member")

    def unblock_bot(self, user: FakeUser | int, *, notify: bool = True) -> None:
        u = self._user(user)
        u.blocked_bot = False
        if notify:
            self.chat_member_update(u.id, by=u, new_status="member", old_status="kicked")

    def messages_in(self, chat: ChatRef) -> list[JSONDict]:
        """The chat history as the user sees it now (edits applied, deletions removed)."""
        return list(self._chat(chat).messages.values())

    def sent_to(self, chat: ChatRef, method: str | None = None) -> list[SentRecord]:
        chat_id = self._chat_id(chat)
        return [
            r for r in self.sent if r.chat_id == chat_id and (method is None or r.method == method)
        ]

    def commands_for(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict] | None:
        """Commands set for exactly this scope/language (None if never set)."""
        return self.commands.get((_scope_key(scope), language_code))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot via getUpdates offset."""
        return list(self._pending)

    # ------------------------------------------------------------------ acting as users

    def user_sends(
        self,
        user: FakeUser | int,
        chat: ChatRef | None = None,
        text: str = "",
        *,
        reply_to_message_id: int | None = None,
        as_anonymous_admin: bool = False,
    ) -> JSONDict:
        """The user sends a text message; returns the Message JSON.

        ``chat`` defaults to the user's private chat. Text starting with "/" gets a
        bot_command entity (also ``/cmd@botname``), as Telegram does. With
        ``as_anonymous_admin`` the message comes from GroupAnonymousBot with
        ``sender_chat`` set to the group, like an anonymous group admin's.
        """
        c, message = self._user_message(user, chat, as_anonymous_admin, reply_to_message_id)
        message["text"] = text
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        return self._deliver_user_message(c, message)

    def user_sends_document(
        self,
        user: FakeUser | int,
        chat: ChatRef | None = None,
        data: bytes = b"",
        *,
        file_name: str = "file",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """The user sends a file as a document (with an optional caption); returns the
        Message JSON. The file is stored like one the bot uploaded: getFile and the file
        download path serve it (getFile refuses files over Telegram's 20 MB for bots)."""
        c, message = self._user_message(user, chat, False, reply_to_message_id)
        number = next(self._file_ids)
        uploaded = UploadedFile(
            field_name="document",
            filename=file_name,
            content_type=mime_type,
            size=len(data),
            data=data,
            file_id=f"DOCUMENT-{number:06d}-{'u' * 20}",
            file_unique_id=f"U{number:06d}",
            file_path=f"documents/file_{number}.{file_name.rsplit('.', 1)[-1]}",
        )
        self.files[uploaded.file_id] = uploaded
        message["document"] = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": uploaded.size,
        }
        if caption:
            message["caption"] = caption
            entities = _command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return self._deliver_user_message(c, message)

    def _user_message(
        self,
        user: FakeUser | int,
        chat: ChatRef | None,
        as_anonymous_admin: bool,
        reply_to_message_id: int | None,
    ) -> tuple[FakeChat, JSONDict]:
        """A new message from a person (checked: not blocked, still in the group)."""
        u = self._user(user)
        c = self._chat(chat if chat is not None else u.id)
        if c.type == "private":
            if u.blocked_bot:
                raise RuntimeError(f"user {u.id} blocked the bot; call unblock_bot() first")
            u.started_bot = True
        else:
            status = c.members.setdefault(u.id, "member")
            if status in ("left", "kicked"):
                raise RuntimeError(f"user {u.id} is {status} in chat {c.id}")
            if as_anonymous_admin and status not in ("creator", "administrator"):
                raise RuntimeError("only admins can post as the group anonymously")
        message = self._new_message(c, self._anonymous_bot() if as_anonymous_admin else u)
        if as_anonymous_admin:
            if c.type == "private":
                raise ValueError("anonymous admin messages only exist in groups")
            message["sender_chat"] = c.to_api()
        if reply_to_message_id is not None:
            replied = c.messages.get(reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {c.id}")
            message["reply_to_message"] = _without_reply(replied)
        return c, message

    def _deliver_user_message(self, chat: FakeChat, message: JSONDict) -> JSONDict:
        chat.messages[message["message_id"]] = message
        if self._bot_sees(chat, message):
            self._enqueue({"message": message})
        return message

    def user_edits(
        self, user: FakeUser | int, chat: ChatRef | None, message_id: int, text: str
    ) -> JSONDict:
        """The user edits one of their messages; queues an edited_message update."""
        u = self._user(user)
        c = self._chat(chat if chat is not None else u.id)
        message = c.messages.get(message_id)
        if message is None or message["from"]["id"] != u.id:
            raise ValueError(f"user {u.id} has no message {message_id} in chat {c.id}")
        message["text"] = text
        message["edit_date"] = int(time.time())
        if self._bot_sees(c, message):
            self._enqueue({"edited_message": dict(message)})
        return message

    def user_presses(
        self,
        user: FakeUser | int,
        chat: ChatRef | None,
        message_id: int,
        callback_data: str,
        *,
        strict: bool = True,
    ) -> JSONDict:
        """The user taps an inline button; queues a callback_query and returns it.

        With ``strict`` the message must be the bot's and currently carry a button with
        this callback_data (Telegram cannot deliver anything else).
        """
        u = self._user(user)
        c = self._chat(chat if chat is not None else u.id)
        message = c.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {c.id}")
        if strict:
            available = _callback_datas(message.get("reply_markup"))
            if message["from"]["id"] != self.bot.id or callback_data not in available:
                raise ValueError(
                    f"message {message_id} has no button with callback_data "
                    f"{callback_data!r}; available: {sorted(available)}"
                )
        query_id = str(next(self._callback_ids))
        query: JSONDict = {
            "id": query_id,
            "from": u.to_api(),
            "message": dict(message),
            "chat_instance": str(abs(c.id) * 7 + self.bot.id),
            "data": callback_data,
        }
        self._callback_queries[query_id] = _CallbackQueryState(c.id, message_id)
        self._enqueue({"callback_query": query})
        return query

    def chat_member_update(
        self,
        chat: ChatRef,
        *,
        new_status: MemberStatus,
        by: FakeUser | int | None = None,
        member: FakeUser | int | None = None,
        old_status: MemberStatus | None = None,
    ) -> JSONDict:
        """A membership change. ``member`` defaults to the bot (a ``my_chat_member``
        update, e.g. bot added to/removed from a group); another user gives a
        ``chat_member`` update (only delivered if allowed_updates lists it)."""
        c = self._chat(chat)
        target = self.bot if member is None else self._user(member)
        actor = (
            self._user(by)
            if by is not None
            else (self.users[c.id] if c.type == "private" else target)
        )
        old = old_status or c.members.get(target.id, "left")
        c.members[target.id] = new_status
        payload: JSONDict = {
            "chat": c.to_api(),
            "from": actor.to_api(),
            "date": int(time.time()),
            "old_chat_member": _member_json(target, old),
            "new_chat_member": _member_json(target, new_status),
        }
        kind = "my_chat_member" if target.id == self.bot.id else "chat_member"
        self._enqueue({kind: payload})
        return payload

    def anonymous_admin_sends(self, chat: ChatRef, text: str) -> JSONDict:
        """An anonymous admin posts in the group (from=GroupAnonymousBot)."""
        c = self._chat(chat)
        admin = next(
            (
                uid
                for uid, s in c.members.items()
                if s in ("creator", "administrator") and uid != self.bot.id
            ),
            None,
        )
        if admin is None:
            admin = self.add_user("Admin").id
            c.members[admin] = "administrator"
        return self.user_sends(admin, c, text, as_anonymous_admin=True)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str = "*",
        status: int = 429,
        *,
        retry_after: float | None = None,
        times: int = 1,
        description: str | None = None,
        raw_body: str | None = None,
        chat: ChatRef | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error.

        429 defaults to ``retry_after=1`` (Telegram sends whole seconds; fractions
        work with PTB too). ``raw_body`` replaces the JSON, e.g. nginx's HTML 502
        page. ``method="*"`` matches any method except getUpdates. With ``chat``,
        only calls for that chat fail (a flood limit of one chat); others go through.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        target = None if chat is None else self._chat_id(chat)
        fault = _Fault(status, retry_after, description, raw_body, times, target)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next ``times`` calls of ``method`` (then process them normally,
        even if the client gave up meanwhile - as Telegram does)."""
        self._delays.setdefault(method.lower(), deque()).append(_Delay(seconds, times))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    # ------------------------------------------------------------------ waiting

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 2.0,  # noqa: ASYNC109 - plain float is handier in tests
        what: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever the fake's state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_sent(
        self,
        *,
        chat_id: ChatRef | None = None,
        count: int = 1,
        method: str | Collection[str] | None = None,
        start: int = 0,
        timeout: float = 2.0,  # noqa: ASYNC109
    ) -> list[SentRecord]:
        """Wait until at least ``count`` records in ``sent[start:]`` match; return them.

        Pass ``start=len(fake.sent)`` beforehand to wait only for new messages.
        """
        target = None if chat_id is None else self._chat_id(chat_id)
        methods = {method} if isinstance(method, str) else (set(method) if method else None)
        matches: list[SentRecord] = []
        cursor = start

        # Scans only records added since the last check: O(total) for 10k-message runs.
        def enough() -> bool:
            nonlocal cursor
            for record in itertools.islice(self.sent, cursor, None):
                if (target is None or record.chat_id == target) and (
                    methods is None or record.method in methods
                ):
                    matches.append(record)
            cursor = max(cursor, len(self.sent))
            return len(matches) >= count

        try:
            await self.wait_until(enough, timeout=timeout)
        except TimeoutError:
            failures = [
                f"{c.method} -> {c.status} {c.error}" for c in self.calls if c.status >= 400
            ][-5:]
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {count} sent message(s)"
                f" to chat {target} (method={method}); got {len(matches)}: "
                f"{[m.plain_text or m.caption for m in matches]}; recent errors: {failures}"
            ) from None
        return matches

    async def wait_for_calls(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 2.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        """Wait until ``method`` was called ``count`` times (answered or still running)."""
        key = method.lower()

        def matching() -> list[ApiCall]:
            return [c for c in self.calls if c.method.lower() == key]

        await self.wait_until(
            lambda: len(matching()) >= count, timeout=timeout, what=f"{count} {method} call(s)"
        )
        return matching()

    async def wait_for_callback_answers(
        self,
        *,
        count: int = 1,
        timeout: float = 2.0,  # noqa: ASYNC109
    ) -> list[CallbackAnswer]:
        await self.wait_until(
            lambda: len(self.callback_answers) >= count,
            timeout=timeout,
            what=f"{count} callback answer(s)",
        )
        return list(self.callback_answers)

    async def wait_for_updates_consumed(
        self,
        *,
        timeout: float = 2.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until the bot confirmed every queued update (via getUpdates offset)."""
        await self.wait_until(
            lambda: not self._pending, timeout=timeout, what="updates to be consumed"
        )

    # ------------------------------------------------------------------ webhook

    async def push_to_webhook(
        self, url: str | None, secret_token: str | None, update: Mapping[str, Any]
    ) -> int:
        """POST ``update`` to ``url`` (default: the URL set via setWebhook) with the
        X-Telegram-Bot-Api-Secret-Token header (default: the registered secret).
        Returns the HTTP status; raises aiohttp.ClientError on connection failure."""
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook URL given or registered")
        secret = secret_token if secret_token is not None else self.webhook_secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        if self._session is None:
            raise RuntimeError("FakeTelegramAPI is not started")
        async with self._session.post(target, json=dict(update), headers=headers) as resp:
            await resp.read()
            return resp.status

    async def _webhook_worker(self) -> None:
        # Deliver in order, one at a time, retrying briefly like Telegram does.
        while True:
            update = await self._webhook_queue.get()
            url = self.webhook_url
            if not url:
                # Webhook removed meanwhile: the update falls back to getUpdates.
                self._pending.append(update)
                self._wake_pollers()
                continue
            for attempt in range(3):
                status: int | None = None
                error: str | None = None
                try:
                    status = await self.push_to_webhook(url, None, update)
                    if status >= 300:
                        error = f"Wrong response from the webhook: {status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {exc!r}"
                self.webhook_deliveries.append(
                    WebhookDelivery(update.get("update_id"), url, status, error, self._clock())
                )
                self._notify()
                if error is None:
                    break
                self.webhook_last_error = (int(time.time()), error)
                await asyncio.sleep(0.05 * (attempt + 1))

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        method_raw = request.match_info["method"]
        key = method_raw.lower()
        method = self._canonical.get(key, method_raw)
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        call = ApiCall(method=method, params={}, files={}, timestamp=self._clock())
        self.calls.append(call)
        try:
            call.params, call.files = await _read_params(request)
            self._notify()  # lets tests see calls that are still in progress (long polls)
            result = await self._dispatch(key, method, call)
        except ApiError as exc:
            call.status, call.error = exc.status, exc.description
            self._notify()
            return exc.response()
        call.status = 200
        self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, key: str, method: str, call: ApiCall) -> Any:
        delay = _take(self._delays, key)
        if delay is not None:
            # Interruptible so stop() never waits on an injected delay.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay.seconds)
        chat_id = call.params.get("chat_id")
        fault = _take_fault(self._faults, key, chat_id) or (
            _take_fault(self._faults, "*", chat_id) if key != "getupdates" else None
        )
        if fault is not None:
            if fault.status == 429:
                raise _too_many_requests(fault.retry_after or 1)
            raise ApiError(
                fault.status,
                fault.description or _DEFAULT_DESCRIPTIONS.get(fault.status, "Error"),
                raw_body=fault.raw_body,
            )
        handler = self._handlers.get(key)
        if handler is None:
            raise ApiError(404, "Not Found")
        self._check_rate_limit(method, call.params.get("chat_id"))
        return await handler(call.params, call.files)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        for uploaded in self.files.values():
            if uploaded.file_path == path:
                self.downloads.append(path)
                return web.Response(
                    body=uploaded.data,
                    content_type=uploaded.content_type or "application/octet-stream",
                )
        return ApiError(404, "Not Found").response()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _wake_pollers(self) -> None:
        self._updates_event.set()
        self._updates_event = asyncio.Event()

    def _enqueue(self, update: JSONDict) -> JSONDict:
        full = {"update_id": next(self._update_ids), **update}
        kind = next(iter(update))
        allowed = self._allowed_updates
        if (allowed is None and kind in _OPT_IN_UPDATE_TYPES) or (
            allowed is not None and kind not in allowed
        ):
            return full  # Telegram silently never delivers filtered update types.
        if self.webhook_url:
            self._webhook_queue.put_nowait(full)
        else:
            self._pending.append(full)
            self._wake_pollers()
        self._notify()
        return full

    def _check_rate_limit(self, method: str, chat_id: Any) -> None:
        cfg = self.rate_limits
        if not cfg.enabled or method not in cfg.methods:
            return
        now = self._clock()
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        buckets = [("global", self._bucket("global", 0, cfg.global_per_second, cfg.global_burst))]
        if chat is not None and chat.type == "private":
            rate, burst = cfg.private_per_second, cfg.private_burst
            buckets.append(("private", self._bucket("private", chat.id, rate, burst)))
        elif chat is not None:
            rate, burst = cfg.group_per_minute / 60.0, cfg.group_burst
            buckets.append(("group", self._bucket("group", chat.id, rate, burst)))
        waits = [(bucket.wait_time(now), scope) for scope, bucket in buckets]
        wait, scope = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.rate_violations += 1
            self.rate_violation_log.append(RateViolation(method, chat_id, scope, retry_after, now))
            raise _too_many_requests(retry_after)
        for _, bucket in buckets:
            bucket.add()

    def _bucket(self, scope: str, key: int, rate: float, burst: float) -> _LeakyBucket:
        bucket = self._buckets.get((scope, key))
        if bucket is None:
            capacity = burst + rate * self.rate_limits.jitter_tolerance
            bucket = self._buckets[(scope, key)] = _LeakyBucket(rate, capacity, self._clock())
        return bucket

    # ------------------------------------------------------------------ helpers

    def _user(self, user: FakeUser | int) -> FakeUser:
        uid = user.id if isinstance(user, FakeUser) else user
        if uid == self.bot.id:
            return self.bot
        try:
            return self.users[uid]
        except KeyError:
            raise KeyError(f"unknown user {uid}; create it with add_user()") from None

    def _chat(self, chat: ChatRef) -> FakeChat:
        cid = chat if isinstance(chat, int) else chat.id
        try:
            return self.chats[cid]
        except KeyError:
            raise KeyError(f"unknown chat {cid}; use add_user()/add_group()") from None

    @staticmethod
    def _chat_id(chat: ChatRef) -> int:
        return chat if isinstance(chat, int) else chat.id

    def _anonymous_bot(self) -> FakeUser:
        return FakeUser(
            id=GROUP_ANONYMOUS_BOT_ID,
            first_name="Group",
            username="GroupAnonymousBot",
            is_bot=True,
        )

    def _bot_sees(self, chat: FakeChat, message: JSONDict) -> bool:
        if chat.type == "private":
            return True
        status = chat.members.get(self.bot.id, "left")
        if status in ("left", "kicked"):
            return False
        if not self.privacy_mode or status in ("creator", "administrator"):
            return True
        entities = [*message.get("entities", []), *message.get("caption_entities", [])]
        is_command = any(e["type"] == "bot_command" for e in entities)
        replied = message.get("reply_to_message")
        return is_command or (replied is not None and replied["from"]["id"] == self.bot.id)

    def _new_message(self, chat: FakeChat, sender: FakeUser) -> JSONDict:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return {
            "message_id": message_id,
            "from": sender.to_api(),
            "chat": chat.to_api(),
            "date": int(time.time()),
        }

    def _resolve_chat(self, params: JSONDict) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            for chat in self.chats.values():
                if chat.username and f"@{chat.username}" == chat_id:
                    return chat
            raise _bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None:
            if self.auto_create_chats and chat_id > 0:
                self.add_user(f"User{chat_id}", user_id=chat_id)
                return self.chats[chat_id]
            raise _bad_request("chat not found")
        return found

    def _check_can_send(self, chat: FakeChat) -> None:
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked_bot:
                raise _forbidden("bot was blocked by the user")
            if not user.started_bot:
                raise _forbidden("bot can't initiate conversation with a user")
            return
        kind = "supergroup" if chat.type == "supergroup" else "group"
        status = chat.members.get(self.bot.id, "left")
        if status == "kicked":
            raise _forbidden(f"bot was kicked from the {kind} chat")
        if status == "left":
            raise _forbidden(f"bot is not a member of the {kind} chat")

    def _reply_to(self, chat: FakeChat, params: JSONDict) -> JSONDict | None:
        reply_parameters = params.get("reply_parameters")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        message_id = params.get("reply_to_message_id")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = bool(reply_parameters.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        replied = chat.messages.get(message_id)
        if replied is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return _without_reply(replied)

    def _record_sent(
        self,
        method: str,
        chat: FakeChat,
        message: JSONDict,
        params: JSONDict,
        *,
        file: UploadedFile | None = None,
    ) -> None:
        self.sent.append(
            SentRecord(
                method=method,
                chat_id=chat.id,
                message_id=message["message_id"],
                text=params.get("text"),
                parse_mode=params.get("parse_mode"),
                reply_markup=params.get("reply_markup"),
                timestamp=self._clock(),
                plain_text=message.get("text"),
                entities=list(message.get("entities") or message.get("caption_entities") or []),
                caption=params.get("caption"),
                file=file,
                params=params,
            )
        )

    # ------------------------------------------------------------------ methods

    async def _true(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or []
            # An empty list means "all types except the opt-in ones", like Telegram.
            self._allowed_updates = frozenset(allowed) if allowed else None
        if isinstance(offset, int):
            self._confirm(offset)
        # A newer getUpdates terminates an older long poll, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._pending:
                return list(itertools.islice(self._pending, limit))
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing.is_set():
                return []
            event = self._updates_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )

    def _confirm(self, offset: int) -> None:
        before = len(self._pending)
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
        else:
            while self._pending and self._pending[0]["update_id"] < offset:
                self._pending.popleft()
        if len(self._pending) != before:
            self._notify()

    async def _set_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or []
            self._allowed_updates = frozenset(allowed) if allowed else None
        self.webhook_url = url
        self.webhook_secret = secret if url else None
        if url:
            # Updates queued before the webhook was set are delivered through it.
            while self._pending:
                self._webhook_queue.put_nowait(self._pending.popleft())
            self._wake_pollers()
        return True

    async def _delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
            while not self._webhook_queue.empty():
                self._webhook_queue.get_nowait()
        return True

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending) + self._webhook_queue.qsize(),
        }
        if self.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._resolve_chat(params)
        self._check_can_send(chat)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        plain, entities = _render(text, params.get("parse_mode"), params.get("entities"))
        if not plain:
            raise _bad_request("message text is empty")
        if utf16_len(plain) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        markup = _validate_reply_markup(params.get("reply_markup"))
        replied = self._reply_to(chat, params)
        message = self._new_message(chat, self.bot)
        message["text"] = plain
        if entities:
            message["entities"] = entities
        if replied is not None:
            message["reply_to_message"] = replied
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        self._record_sent("sendMessage", chat, message, params)
        return message

    def _editable_message(self, params: JSONDict) -> tuple[FakeChat, JSONDict]:
        if params.get("inline_message_id"):
            raise _bad_request("message to edit not found")
        chat = self._resolve_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot.id:
            raise _bad_request("message can't be edited")
        return chat, message

    async def _edit_message_text(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        chat, message = self._editable_message(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        plain, entities = _render(text, params.get("parse_mode"), params.get("entities"))
        if utf16_len(plain) > MAX_MESSAGE_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        markup = _validate_reply_markup(params.get("reply_markup"))
        # Omitting reply_markup in an edit removes the inline keyboard on Telegram.
        new_markup = markup if markup is not None and "inline_keyboard" in markup else None
        if (
            plain == message["text"]
            and entities == message.get("entities", [])
            and new_markup == message.get("reply_markup")
        ):
            raise _bad_request(_NOT_MODIFIED)
        message["text"] = plain
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        _set_markup(message, new_markup)
        message["edit_date"] = int(time.time())
        self._record_sent("editMessageText", chat, message, params)
        return dict(message)

    async def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        chat, message = self._editable_message(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        new_markup = markup if markup is not None and "inline_keyboard" in markup else None
        if new_markup == message.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED)
        _set_markup(message, new_markup)
        message["edit_date"] = int(time.time())
        self._record_sent("editMessageReplyMarkup", chat, message, params)
        return dict(message)

    async def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        if chat.messages.pop(int(params.get("message_id") or 0), None) is None:
            raise _bad_request("message to delete not found")
        return True

    async def _answer_callback_query(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        state = self._callback_queries.get(query_id)
        if state is None or state.answered:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        state.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=params.get("text"),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=params.get("cache_time"),
                timestamp=self._clock(),
            )
        )
        return True

    def _media(self, kind: str, params: JSONDict, files: dict[str, UploadedFile]) -> UploadedFile:
        uploaded = files.get(kind)
        if uploaded is None:
            ref = params.get(kind)
            if not isinstance(ref, str) or not ref:
                raise _bad_request(f"there is no {kind} in the request")
            if ref.startswith(("http://", "https://")):
                uploaded = UploadedFile(kind, None, None, 0, b"", url=ref)
            elif ref in self.files:
                return self.files[ref]
            else:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        number = next(self._file_ids)
        uploaded.file_id = f"{kind.upper()}-{number:06d}-{'x' * 20}"
        uploaded.file_unique_id = f"U{number:06d}"
        suffix = (uploaded.filename or "").rsplit(".", 1)[-1] if uploaded.filename else "bin"
        uploaded.file_path = f"{kind}s/file_{number}.{suffix}"
        self.files[uploaded.file_id] = uploaded
        return uploaded

    async def _send_media(
        self, method: str, kind: str, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        chat = self._resolve_chat(params)
        self._check_can_send(chat)
        uploaded = self._media(kind, params, files)
        caption = params.get("caption")
        plain: str = ""
        entities: list[JSONDict] = []
        if caption:
            plain, entities = _render(
                caption, params.get("parse_mode"), params.get("caption_entities")
            )
            if utf16_len(plain) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        markup = _validate_reply_markup(params.get("reply_markup"))
        replied = self._reply_to(chat, params)
        message = self._new_message(chat, self.bot)
        ids = {"file_id": uploaded.file_id, "file_unique_id": uploaded.file_unique_id}
        if kind == "photo":
            message["photo"] = [
                {**ids, "width": 90, "height": 90, "file_size": min(uploaded.size, 1500)},
                {**ids, "width": 800, "height": 800, "file_size": uploaded.size},
            ]
        else:
            message["document"] = {
                **ids,
                "file_name": uploaded.filename or "file",
                "mime_type": uploaded.content_type or "application/octet-stream",
                "file_size": uploaded.size,
            }
            if kind == "animation":  # Telegram sends an animation as both, for old clients
                size = {"width": 480, "height": 320, "duration": 3}
                message["animation"] = {**message["document"], **size}
        if plain:
            message["caption"] = plain
        if entities:
            message["caption_entities"] = entities
        if replied is not None:
            message["reply_to_message"] = replied
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        self._record_sent(method, chat, message, params, file=uploaded)
        return message

    async def _send_photo(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return await self._send_media("sendPhoto", "photo", params, files)

    async def _send_animation(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return await self._send_media("sendAnimation", "animation", params, files)

    async def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return await self._send_media("sendDocument", "document", params, files)

    async def _get_file(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        uploaded = self.files.get(str(params.get("file_id")))
        if uploaded is None or uploaded.url is not None:
            raise _bad_request("invalid file_id")
        if uploaded.size > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_size": uploaded.size,
            "file_path": uploaded.file_path,
        }

    async def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_can_send(chat)
        self.chat_actions.append(ChatAction(chat.id, action, self._clock()))
        return True

    def _scope_and_language(self, params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            raise _bad_request("BOT_COMMAND_SCOPE_INVALID")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            self._resolve_chat(scope)
        return _scope_key(scope), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_and_language(params)
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        return list(self.commands.get(self._scope_and_language(params), []))

    async def _delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self.commands.pop(self._scope_and_language(params), None)
        return True

    async def _get_chat(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._resolve_chat(params)
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _get_chat_member(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._resolve_chat(params)
        user_id = params.get("user_id")
        if user_id != self.bot.id and user_id not in self.users:
            raise _bad_request("user not found")
        user = self._user(user_id)
        return _member_json(user, chat.members.get(user.id, "left"))

    async def _get_chat_administrators(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise _bad_request("there are no administrators in the private chat")
        return [
            _member_json(self._user(uid), status)
            for uid, status in chat.members.items()
            if status in ("creator", "administrator")
        ]

    async def _get_chat_member_count(self, params: JSONDict, files: dict[str, UploadedFile]) -> int:
        chat = self._resolve_chat(params)
        return sum(s not in ("left", "kicked") for s in chat.members.values())


# --------------------------------------------------------------------------- module helpers


def _take(queue_map: dict[str, deque[Any]], key: str) -> Any:
    """Pop one use of the first queued fault/delay for ``key``, if any."""
    queue = queue_map.get(key)
    if not queue:
        return None
    item = queue[0]
    item.times -= 1
    if item.times <= 0:
        queue.popleft()
    return item


def _take_fault(faults: dict[str, deque[_Fault]], key: str, chat_id: Any) -> _Fault | None:
    """Pop one use of the first fault queued for ``key`` that applies to ``chat_id``."""
    queue = faults.get(key)
    if not queue:
        return None
    for fault in queue:
        if fault.chat_id is None or fault.chat_id == chat_id:
            fault.times -= 1
            if fault.times <= 0:
                queue.remove(fault)  # safe: the loop ends here
            return fault
    return None


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
    """Collect parameters from query string, JSON, urlencoded or multipart bodies."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise _bad_request("request body must be a JSON object")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files[name] = UploadedFile(
                        field_name=name,
                        filename=value.filename,
                        content_type=value.content_type,
                        size=len(data),
                        data=data,
                    )
                else:
                    raw[name] = value
    return {name: _coerce(name, value) for name, value in raw.items()}, files


def _coerce(name: str, value: Any) -> Any:
    """Decode a form string the way Telegram interprets that parameter."""
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise _bad_request("can't parse reply keyboard markup JSON object") from None
            raise _bad_request(f"can't parse {name} JSON object") from None
    if name == "chat_id":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if name in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            raise _bad_request(f"invalid {name} specified") from None
    if name in _FLOAT_PARAMS:
        try:
            return float(value)
        except ValueError:
            raise _bad_request(f"invalid {name} specified") from None
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


def _validate_reply_markup(markup: Any) -> JSONDict | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request("can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                _validate_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request("can't parse keyboard markup JSON object")
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not text:
                    raise _bad_request("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise _bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"]:
        raise _bad_request("inline keyboard button text is empty")
    actions = [a for a in _BUTTON_ACTIONS if a in button]
    if not actions:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if (
            not isinstance(data, str)
            or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
        ):
            raise _bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise _bad_request("BUTTON_URL_INVALID")


def _callback_datas(markup: Any) -> set[str]:
    if not isinstance(markup, dict):
        return set()
    return {
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


def _set_markup(message: JSONDict, markup: JSONDict | None) -> None:
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup


def _command_entities(text: str) -> list[JSONDict]:
    """A bot_command entity for every /command in the text, as Telegram adds them."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _BOT_COMMAND_RE.finditer(text)
    ]


def _without_reply(message: JSONDict) -> JSONDict:
    # Telegram does not nest reply_to_message more than one level.
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _scope_key(scope: Mapping[str, Any] | None) -> str:
    normalized = dict(scope or {"type": "default"})
    for key in ("chat_id", "user_id"):
        value = normalized.get(key)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            normalized[key] = int(value)
    return json.dumps(normalized, sort_keys=True)


def _member_json(user: FakeUser, status: MemberStatus) -> JSONDict:
    """ChatMember JSON with every field PTB 22 requires for that status."""
    data: JSONDict = {"status": status, "user": user.to_api()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
        )
    elif status == "restricted":
        data.update(
            {
                "is_member": True,
                "until_date": 0,
                **dict.fromkeys(
                    (
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_send_messages",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_manage_topics",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                        "can_edit_tag",
                        "can_react_to_messages",
                    ),
                    False,
                ),
            }
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data
