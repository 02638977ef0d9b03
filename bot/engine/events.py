"""Normalised inbound events and outbound replies shared by every platform adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

# Telegram caps callback data at 64 bytes (Discord's custom_id allows 100): the smaller wins.
MAX_PAYLOAD_BYTES = 64


class ReplyIntent(StrEnum):
    NEW = "new"  # a new message in the chat the event came from
    EDIT = "edit"  # replace the message whose button was pressed, where the platform can
    PRIVATE = "private"  # to the person privately (DM / ephemeral), never to the group


@dataclass(frozen=True)
class Actor:
    """Who sent the event."""

    platform: str
    user_id: str
    display_name: str = ""
    locale: str | None = None
    # What the platform says about this person's role in the chat, when the adapter knows it
    # cheaply (terminal --admin, Discord member permissions); None means "ask the platform".
    is_chat_admin: bool | None = None


@dataclass(frozen=True)
class Place:
    """Where the event happened."""

    chat_id: str
    is_private: bool
    thread_id: str = ""
    title: str = ""


# Longest an attached file may take to arrive from the platform (20 MB at ≈ 0.5 MB/s).
UPLOAD_SECONDS = 45.0


class UploadTooBig(Exception):
    """The attached file is larger than the reader allows (or the platform lets bots fetch)."""


class UploadFailed(Exception):
    """The platform could not hand the attached file over (gone, refused, timed out)."""


@dataclass(frozen=True)
class Upload:
    """A file the person attached to the message (a Telegram document, a Discord attachment).

    `download(max_bytes)` is the adapter's fetch: it returns the file's bytes, or raises
    UploadTooBig when the file is larger than max_bytes (refused before downloading wherever
    the platform tells the size first) or UploadFailed when the platform cannot deliver it.
    Features call `read`, which adds the checks every platform shares. Nothing is stored: the
    bytes live as long as the event.
    """

    name: str
    size: int | None  # bytes, as the platform announced it; None when it did not say
    download: Callable[[int], Awaitable[bytes]] = field(compare=False, repr=False)
    # max_bytes → the bytes or the error of the one download made with that limit.
    _results: dict[int, bytes | Exception] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    async def read(self, max_bytes: int) -> bytes:
        """The file's bytes, at most max_bytes of them. Raises UploadTooBig (without
        downloading when the announced size is already over) or UploadFailed. The file is
        fetched once per limit: the engine fetches it before the turn (see Command.file_bytes)
        and the feature's read gets that answer."""
        if self.size is not None and self.size > max_bytes:
            raise UploadTooBig(f"{self.size} bytes")
        result = self._results.get(max_bytes)
        if result is None:
            result = await self._fetch(max_bytes)
            self._results[max_bytes] = result
        if isinstance(result, Exception):
            raise result
        return result

    async def _fetch(self, max_bytes: int) -> bytes | Exception:
        try:
            async with asyncio.timeout(UPLOAD_SECONDS):
                data = await self.download(max_bytes)
        except TimeoutError:
            return UploadFailed("timed out")
        except Exception as exc:  # kept, and raised again to whoever reads
            return exc
        if len(data) > max_bytes:
            return UploadTooBig(f"{len(data)} bytes")
        return bytes(data)


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: typed text, sent a command (perhaps with a file), or pressed a
    button."""

    actor: Actor
    place: Place
    text: str | None = None
    command: str | None = None  # lower-case, without "/" or "@botname"
    args: str = ""
    payload: str | None = None
    message_ref: str | None = None  # platform id of the message whose button was pressed
    # A file attached to the message (the command is then the one that reads files, /upload).
    upload: Upload | None = None

    @property
    def kind(self) -> str:
        if self.payload is not None:
            return "button"
        if self.command is not None:
            return "command"
        return "text"


@dataclass(frozen=True)
class Button:
    """A choice offered with a reply. `payload` comes back verbatim in Inbound.payload."""

    label: str
    payload: str
    # Ask the adapter to continue in a private chat (Telegram deep link, Discord ephemeral).
    opens_private: bool = False

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")
        if not self.label.strip():
            raise ValueError("button label is empty")


@dataclass
class Reply:
    """What the bot says back.

    `text` uses a tiny markup every adapter understands: `**bold**` and line breaks; adapters
    escape everything else for their platform.
    """

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    title: str | None = None
    image: Path | None = None
    # A looping animation (GIF); adapters show it in place of `image`, `text` as its caption.
    animation: Path | None = None
    attachment: Path | None = None
    intent: ReplyIntent = ReplyIntent.NEW
    # A timed step (a plank hold, a rest): the adapter shows a countdown from this many seconds
    # (Telegram/Discord edit the message every few seconds; the terminal draws a progress line).
    # Replies cannot tick by themselves, so the timer is a hint the adapter animates.
    countdown_seconds: int | None = None
    # The question takes a typed number as its answer (a pain score): adapters that number
    # their buttons (the terminal) must then read a typed number as text, never as a button.
    numeric_answer: bool = False

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "title": self.title,
            "buttons": [
                [{"label": b.label, "payload": b.payload, "private": b.opens_private} for b in row]
                for row in self.buttons
            ],
            "image": str(self.image) if self.image else None,
            "animation": str(self.animation) if self.animation else None,
            "attachment": str(self.attachment) if self.attachment else None,
            "intent": self.intent.value,
            "countdown_seconds": self.countdown_seconds,
            "numeric_answer": self.numeric_answer,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=data["text"],
            title=data.get("title"),
            buttons=[
                [Button(b["label"], b["payload"], bool(b.get("private"))) for b in row]
                for row in data.get("buttons", [])
            ],
            image=Path(data["image"]) if data.get("image") else None,
            animation=Path(data["animation"]) if data.get("animation") else None,
            attachment=Path(data["attachment"]) if data.get("attachment") else None,
            intent=ReplyIntent(data.get("intent", "new")),
            countdown_seconds=data.get("countdown_seconds"),
            numeric_answer=bool(data.get("numeric_answer", False)),
        )
