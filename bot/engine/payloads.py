"""Button payload encoding.

Two shapes, both short enough for Telegram's 64-byte callback data:
- `name:arg` — a stateless action anyone may press (show a card, list cards);
- `~nonce.step.choice` — an answer inside one person's dialog. The nonce is random per dialog
  and the step counts answered questions, so a button from another person's dialog, an ended
  dialog or an earlier question is recognised and refused without changing anything.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from bot.engine.events import MAX_PAYLOAD_BYTES

DIALOG_PREFIX = "~"
# fullmatch, not match + "$": "$" also matches before a trailing newline. At most
# 1 + 8 + 1 + 6 + 1 + 40 = 57 bytes; actions are held to MAX_PAYLOAD_BYTES as a whole.
_DIALOG_RE = re.compile(r"~([A-Za-z0-9_-]{8})\.([0-9]{1,6})\.([A-Za-z0-9_:+\-]{1,40})")
_ACTION_RE = re.compile(r"([a-z][a-z0-9_]{0,23}):([A-Za-z0-9_:+\-.]{0,62})")


def new_nonce() -> str:
    return secrets.token_urlsafe(6)  # 8 url-safe characters


@dataclass(frozen=True)
class DialogPayload:
    nonce: str
    step: int
    choice: str


@dataclass(frozen=True)
class ActionPayload:
    name: str
    arg: str


def dialog_payload(nonce: str, step: int, choice: str) -> str:
    payload = f"{DIALOG_PREFIX}{nonce}.{step}.{choice}"
    if not _DIALOG_RE.fullmatch(payload):
        raise ValueError(f"not a valid dialog choice: {choice!r}")
    return payload


def action_payload(name: str, arg: str = "") -> str:
    payload = f"{name}:{arg}"
    if len(payload) > MAX_PAYLOAD_BYTES or not _ACTION_RE.fullmatch(payload):
        raise ValueError(f"not a valid action payload: {payload!r}")
    return payload


def parse(payload: str) -> DialogPayload | ActionPayload | None:
    """Decode a payload; None for anything we did not make (garbage or forgery)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    if m := _DIALOG_RE.fullmatch(payload):
        return DialogPayload(m.group(1), int(m.group(2)), m.group(3))
    if m := _ACTION_RE.fullmatch(payload):
        return ActionPayload(m.group(1), m.group(2))
    return None
