"""The language-understanding layer: what a typed message says, read from content.

Deterministic and content-driven (content/language/<code>/): body areas and other pain
details, pain scores, red-flag symptoms with their negations, yes / no / unsure and small
talk. Small typos are forgiven with rapidfuzz, conservatively (see fuzzy.py).

    found = understand("no fever, but my abs hurt since my long run, 3/10", content.language)
    found.red_flags == ()  and  found.slot("area") == "abs"  and  found.score == 3
"""

from __future__ import annotations

from bot.content.language_schema import Language
from bot.content.text import normalise as folded
from bot.engine.understanding.reader import Reader
from bot.engine.understanding.red_flags import flags_said, most_urgent
from bot.engine.understanding.result import Answer, Understanding

# One compiled reader per loaded language (the bundle keeps its Language objects alive).
_readers: dict[int, tuple[Language, Reader]] = {}


def reader_for(language: Language) -> Reader:
    cached = _readers.get(id(language))
    if cached is not None and cached[0] is language:
        return cached[1]
    reader = Reader(language)
    _readers[id(language)] = (language, reader)
    return reader


def understand(text: str, language: Language) -> Understanding:
    return reader_for(language).read(text)


YES, NO = "yes", "no"  # the choice values of a two-button yes/no question


def typed_yes_no(text: str, language: Language, *, yes_label: str, no_label: str) -> str | None:
    """YES or NO for a typed answer to a yes/no question: the button's label, or yes / no in
    any form the language knows ("yeah", "nope"); None for anything else, unsure included."""
    typed = folded(text)
    if typed in {folded(yes_label), YES, "y"}:
        return YES
    if typed in {folded(no_label), NO, "n"}:
        return NO
    meant = understand(text, language).answer if typed else None
    return {Answer.YES: YES, Answer.NO: NO}.get(meant) if meant else None


__all__ = [
    "NO",
    "YES",
    "Answer",
    "Understanding",
    "flags_said",
    "most_urgent",
    "reader_for",
    "typed_yes_no",
    "understand",
]
