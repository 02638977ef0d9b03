"""Small talk: a message that is only thanks, a greeting, an "ok" or a goodbye."""

from __future__ import annotations

from bot.engine.understanding.normalise import Tokens
from bot.engine.understanding.phrases import PhraseIndex


def read_small_talk(words: Tokens, index: PhraseIndex, extra: frozenset[str]) -> str | None:
    kept = tuple(w for w in words if w not in extra)
    if not kept:
        return None
    labels = index.covers(kept)
    return labels[0][1] if labels else None
