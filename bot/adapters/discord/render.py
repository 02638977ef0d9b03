"""Turning an engine Reply into Discord messages that Discord accepts.

discord.py checks no limits itself, so this module does: 2,000 characters of content, 4,096
per embed description, 6,000 across one message's embeds, 256 per title, 80 per button label,
5 rows of 5 buttons. Long texts split at paragraph, then line, then word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import discord

from bot.adapters.discord.countdown import with_footer
from bot.engine.events import Button, Reply

MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_EMBEDS_TOTAL = 6000
MAX_EMBEDS = 10
MAX_LABEL = 80
MAX_ROWS = 5
MAX_PER_ROW = 5
EMBED_COLOUR = 0x2E8B57  # sea green: the coach's colour on every card and outcome
# A marker before the payload in a button's custom_id: "answer this press privately"
# (Discord allows 100 characters, engine payloads are at most 64 bytes).
PRIVATE_MARK = "!"
MORE = "⋯"  # the text of an extra message that only carries buttons beyond 25
FOOTER_ROOM = 40  # kept free in a message that shows a live countdown line

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def escape(text: str) -> str:
    """Escape Discord markdown in our text, keeping the engine's one markup, `**bold**`."""
    out: list[str] = []
    last = 0
    for match in _BOLD.finditer(text):
        out.append(discord.utils.escape_markdown(text[last : match.start()]))
        out.append(f"**{discord.utils.escape_markdown(match.group(1))}**")
        last = match.end()
    out.append(discord.utils.escape_markdown(text[last:]))
    return "".join(out)


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, cut at the largest boundary that fits:
    paragraphs, then lines, then words, then (for a word longer than the limit) anywhere
    but right after an escaping backslash."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) > 1:
            return _pack(pieces, separator, limit)
    cut = limit - 1 if text[limit - 1] == "\\" else limit
    return [text[:cut], *split_text(text[cut:], limit)]


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(piece) <= limit:
            current = piece
        else:  # one piece too long on its own: split it at the next smaller boundary
            *whole, current = split_text(piece, limit)
            chunks.extend(whole)
    if current.strip():
        chunks.append(current)
    return [c.strip() for c in chunks if c.strip()]


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Part:
    """One Discord message: content and/or embeds, files, and button rows."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, upload name)
    rows: list[list[Button]] = field(default_factory=list)
    countdown: float | None = None  # seconds of a live countdown shown under this message

    def shown_content(self) -> str | None:
        if self.countdown is None:
            return self.content
        return with_footer(self.content, self.countdown)

    def discord_files(self) -> list[discord.File]:
        # A File is consumed by one upload, so each send gets fresh ones.
        return [discord.File(path, filename=name) for path, name in self.files]

    def view(self) -> discord.ui.View | None:
        """The buttons, or None. Stopped on purpose: presses are routed by the one
        persistent dynamic item (client.EngineButton), so discord.py need not keep this
        view in memory for every message ever sent."""
        if not self.rows:
            return None
        view = discord.ui.View(timeout=None)
        for number, row in enumerate(self.rows):
            for button in row:
                view.add_item(
                    discord.ui.Button(
                        label=trim(button.label, MAX_LABEL),
                        custom_id=custom_id(button),
                        style=discord.ButtonStyle.primary
                        if button.opens_private
                        else discord.ButtonStyle.secondary,
                        row=number,
                    )
                )
        view.stop()
        return view


def custom_id(button: Button) -> str:
    return (PRIVATE_MARK if button.opens_private else "") + button.payload


def render(reply: Reply) -> list[Part]:
    """The messages for one reply, in order; files go with the first, buttons with the last."""
    files = [(path, _upload_name(path, index)) for index, path in _files(reply)]
    countdown = float(reply.countdown_seconds or 0)
    if reply.title:
        parts = _embed_parts(reply, files)
    else:
        limit = MAX_CONTENT - FOOTER_ROOM if countdown > 0 else MAX_CONTENT
        chunks = split_text(escape(reply.text), limit)
        parts = [Part(content=chunk) for chunk in chunks] or [Part()]
        parts[0].files = files
    if not any(p.content or p.embeds or p.files for p in parts):
        parts = [Part(content=MORE)]  # buttons alone: Discord refuses an empty message
    button_groups = list(_button_groups(reply.buttons))
    if button_groups:
        parts[-1].rows = button_groups[0]
        parts.extend(Part(content=MORE, rows=rows) for rows in button_groups[1:])
    if countdown > 0:
        parts[-1].countdown = countdown
    return parts


def _files(reply: Reply) -> Iterator[tuple[int, Path]]:
    picture = reply.animation or reply.image  # an animation is shown in place of the still
    return enumerate(p for p in (picture, reply.attachment) if p is not None)


def _upload_name(path: Path, index: int) -> str:
    # attachment:// URLs accept only plain names; two files must not share one.
    stem = _SAFE_NAME.sub("_", path.stem).strip("._") or "file"
    return f"{stem[:40]}-{index}{path.suffix.lower()[:8]}"


def _embed_parts(reply: Reply, files: list[tuple[Path, str]]) -> list[Part]:
    title = trim(escape(reply.title or ""), MAX_TITLE)
    chunks = split_text(escape(reply.text), MAX_DESCRIPTION) or [""]
    embeds = [
        discord.Embed(
            title=title if i == 0 else None, description=chunk or None, colour=EMBED_COLOUR
        )
        for i, chunk in enumerate(chunks)
    ]
    if reply.animation is not None or reply.image is not None:
        embeds[0].set_image(url=f"attachment://{files[0][1]}")
    parts: list[Part] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if not parts or len(parts[-1].embeds) >= MAX_EMBEDS or size + length > MAX_EMBEDS_TOTAL:
            parts.append(Part())
            size = 0
        parts[-1].embeds.append(embed)
        size += length
    parts[0].files = files
    return parts


def _button_groups(rows: list[list[Button]]) -> Iterator[list[list[Button]]]:
    """Rows as given when they fit Discord's 5 × 5 grid; otherwise repacked five to a row,
    25 to a message."""
    rows = [row for row in rows if row]
    if len(rows) <= MAX_ROWS and all(len(row) <= MAX_PER_ROW for row in rows):
        if rows:
            yield rows
        return
    flat = [button for row in rows for button in row]
    per_message = MAX_ROWS * MAX_PER_ROW
    for start in range(0, len(flat), per_message):
        chunk = flat[start : start + per_message]
        yield [chunk[i : i + MAX_PER_ROW] for i in range(0, len(chunk), MAX_PER_ROW)]
