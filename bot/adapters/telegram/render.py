"""Replies → what Telegram is sent: HTML text split to Telegram's limits, inline keyboards,
photos with captions. Pure functions: no network.

Every content or user string is HTML-escaped; the only markup that survives is the engine's
`**bold**`. Limits count what the reader sees (the text after HTML parsing) in UTF-16 code
units, as Telegram does.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.telegram.translate import deep_link, encode_start_param
from bot.engine.events import Button, Reply

MAX_TEXT = 4096
MAX_CAPTION = 1024
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
# Where a too-long block may be cut, best first: paragraphs, lines, sentences, words.
_CUTS = ("\n\n", "\n", ". ", " ")


def visible_length(text: str) -> int:
    """Length of the markup text as the reader sees it, in UTF-16 code units."""
    plain = _BOLD.sub(lambda m: m.group(1), text)
    return len(plain.encode("utf-16-le")) // 2


def to_html(text: str) -> str:
    """The engine's markup as Telegram HTML: everything escaped, `**bold**` → <b>."""
    out: list[str] = []
    last = 0
    for match in _BOLD.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        out.append(f"<b>{html.escape(match.group(1), quote=False)}</b>")
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def split_markup(text: str, limit: int = MAX_TEXT, *, first_limit: int | None = None) -> list[str]:
    """Cut markup text into pieces that each fit `limit` (the first one `first_limit`),
    at paragraph boundaries where possible, then lines, sentences, words."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        room = first_limit if first_limit is not None and not pieces else limit
        if visible_length(rest) <= room:
            pieces.append(rest)
            break
        cut = _cut_point(rest, room)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [p for p in pieces if p]


def _cut_point(text: str, room: int) -> int:
    """The largest index at a natural boundary such that text[:index] fits `room`."""
    # Visible length never exceeds the raw length, so a raw prefix of `room` chars fits
    # (UTF-16: count code units, not characters).
    fits = _longest_prefix(text, room)
    for separator in _CUTS:
        index = text.rfind(separator, 0, fits + 1)
        if index > 0:
            return index + (len(separator) if separator == ". " else 0)
    return fits  # one enormous word: a hard cut


def _longest_prefix(text: str, room: int) -> int:
    if len(text.encode("utf-16-le")) == 2 * len(text):
        return min(room, len(text))  # nothing beyond the BMP: one code unit per character
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > room:
            return index
    return len(text)


def full_text(reply: Reply) -> str:
    return f"**{reply.title}**\n\n{reply.text}" if reply.title else reply.text


@dataclass(frozen=True)
class Part:
    """One Telegram message of a reply: text, or a file with an optional caption."""

    kind: str  # "text", "photo", "animation" or "document"
    html: str = ""
    file: Path | None = None
    markup: InlineKeyboardMarkup | None = None


def parts_of(reply: Reply, *, bot_username: str, in_group: bool) -> list[Part]:
    """The messages a reply becomes, in order; the keyboard goes on the last one."""
    text = full_text(reply)
    parts: list[Part] = []
    picture = reply.animation or reply.image  # an animation is shown in place of the still
    if picture is not None:
        pieces = split_markup(text, MAX_TEXT, first_limit=MAX_CAPTION)
        caption = pieces.pop(0) if pieces else ""
        kind = "animation" if reply.animation is not None else "photo"
        parts.append(Part(kind, to_html(caption), file=picture))
    else:
        pieces = split_markup(text)
    parts.extend(Part("text", to_html(piece)) for piece in pieces)
    if reply.attachment is not None:
        parts.append(Part("document", file=reply.attachment))
    markup = keyboard(reply.buttons, bot_username=bot_username, in_group=in_group)
    if not parts:
        parts.append(Part("text", "…"))  # Telegram refuses empty messages
    if markup is not None:
        last = parts[-1]
        parts[-1] = Part(last.kind, last.html, last.file, markup)
    return parts


def keyboard(
    rows: list[list[Button]], *, bot_username: str, in_group: bool
) -> InlineKeyboardMarkup | None:
    """Inline keyboard. In groups, "continue privately" buttons are deep links that open the
    private chat and hand their payload to /start there."""
    out = [[_button(b, bot_username=bot_username, in_group=in_group) for b in row] for row in rows]
    out = [row for row in out if row]
    return InlineKeyboardMarkup(out) if out else None


def _button(button: Button, *, bot_username: str, in_group: bool) -> InlineKeyboardButton:
    if button.opens_private and in_group and encode_start_param(button.payload) is not None:
        return InlineKeyboardButton(button.label, url=deep_link(bot_username, button.payload))
    # Payloads that cannot be a deep link stay callbacks: the engine then answers privately
    # (ReplyIntent.PRIVATE) from the group's turn.
    return InlineKeyboardButton(button.label, callback_data=button.payload)


def with_footer(html_text: str, footer: str) -> str:
    """HTML text with an escaped line appended (countdowns, the chosen answer)."""
    return f"{html_text}\n\n{html.escape(footer, quote=False)}"
