"""Which warning signs a message names, the most urgent first."""

from __future__ import annotations

from bot.content.language_schema import Language, RedFlag
from bot.engine.understanding.result import Understanding

_ORDER = {"urgent": 0, "same_day": 1}


def flags_said(found: Understanding, language: Language) -> list[RedFlag]:
    flags = [language.flag(f) for f in found.red_flags]
    return sorted(flags, key=lambda f: _ORDER[f.disposition])


def most_urgent(found: Understanding, language: Language) -> RedFlag | None:
    flags = flags_said(found, language)
    return flags[0] if flags else None
