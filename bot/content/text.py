"""How typed words are compared with the words in content files: one normal form for both."""

from __future__ import annotations

import re

_WORD_RE = re.compile(r"[^\w\s]+")


def normalise(text: str) -> str:
    """Lower-case, punctuation to spaces, single spaces: what plain-word matching compares."""
    return " ".join(_WORD_RE.sub(" ", text.casefold()).split())
