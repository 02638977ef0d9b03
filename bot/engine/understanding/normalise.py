"""Typed text → tokens: lower-case words and numbers, with punctuation kept as clause breaks."""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"[^\W_]+|[.,;:!?()]")
_DECIMAL = re.compile(r"(\d+)[.,](\d+)")
_APOSTROPHES = str.maketrans("", "", "'’`´")
PUNCTUATION = frozenset(".,;:!?()")

Tokens = tuple[str, ...]


def _round_up(match: re.Match[str]) -> str:
    # "6.5" is read as 7: a half point more pain is the careful reading.
    return str(math.ceil(float(f"{match.group(1)}.{match.group(2)}")))


def tokenise(text: str) -> Tokens:
    """ "I don't have chest-pain, 6.5/10" → (i, dont, have, chest, pain, ",", 7, of, 10)."""
    folded = text.casefold().translate(_APOSTROPHES)
    folded = _DECIMAL.sub(_round_up, folded).replace("/", " of ")
    return tuple(_TOKEN.findall(folded))


def phrase_tokens(phrase: str, fillers: frozenset[str]) -> Tokens:
    """A content phrase in the form it is matched in: tokens without fillers or punctuation."""
    return tuple(t for t in tokenise(phrase) if t not in fillers and t not in PUNCTUATION)
