"""Typed yes / no / unsure in many forms ("yeah", "nope", "I don't know", "idk")."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.understanding.normalise import Tokens
from bot.engine.understanding.result import Answer


@dataclass(frozen=True)
class AnswerWords:
    unsure: frozenset[Tokens]
    no: frozenset[Tokens]
    yes: frozenset[Tokens]


def _starts_with(words: Tokens, phrases: frozenset[Tokens]) -> bool:
    return any(words[: len(p)] == p for p in phrases)


def _contains(words: Tokens, phrases: frozenset[Tokens]) -> bool:
    return any(words[i : i + len(p)] == p for p in phrases for i in range(len(words) - len(p) + 1))


def read_answer(words: Tokens, answers: AnswerWords) -> Answer | None:
    """Unsure anywhere wins ("no idea", "yes maybe"); else how the message starts."""
    if not words:
        return None
    if _contains(words, answers.unsure):
        return Answer.UNSURE
    if _starts_with(words, answers.no):
        return Answer.NO
    if _starts_with(words, answers.yes):
        return Answer.YES
    return None
