"""How typed words are compared with the words in content files (one normal form for both), and
how someone's own words are placed inside the bot's markup."""

from __future__ import annotations

import re

_WORD_RE = re.compile(r"[^\w\s]+")


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, single spaces: what plain-word matching compares."""
    return " ".join(_WORD_RE.sub(" ", text.casefold()).split())


# The engine's one markup (bot/engine/events.py: `**bold**`) is made of asterisks, and every
# renderer (Telegram HTML, Discord markdown, the terminal) reads two in a row as bold. A word
# joiner (U+2060: invisible, no width, no line break) after each asterisk of someone's own
# text keeps the asterisk on screen but no longer next to another, so it can never open or
# close bold, nor pair with the bot's own `**` around it.
WORD_JOINER = "\u2060"
_BARE_STAR = re.compile(rf"\*(?!{WORD_JOINER})")


def escape_markup(text: str) -> str:
    """Someone's own words (a coach's challenge or broadcast) made safe to place inside the
    bot's markup: shown as typed, never as formatting. Escaping twice changes nothing more."""
    return _BARE_STAR.sub("*" + WORD_JOINER, text)
