"""Turning typed text into a command, the same way on every platform."""

from __future__ import annotations

import re

_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.S)


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """`/card@CoreCoachBot side plank` → ("card", "side plank").

    None when the text is no command, or is addressed to another bot in a group.
    """
    match = _COMMAND_RE.match(text.strip())
    if match is None:
        return None
    name, addressee, args = match.groups()
    if addressee and bot_username and addressee.casefold() != bot_username.casefold():
        return None
    return name.casefold(), (args or "").strip()
