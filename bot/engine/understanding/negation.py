"""Whether a phrase found at some position is denied ("no fever", "I don't have chest pain")
or said with uncertainty ("not sure if it's chest pain", which counts as possibly present).

A negation reaches forward a few words within its part of the sentence: punctuation and
words like "but" or "and" end its reach ("no fever but chest pain": chest pain is said).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.understanding.normalise import PUNCTUATION, Tokens


@dataclass(frozen=True)
class Scope:
    negations: frozenset[Tokens]
    uncertain: frozenset[Tokens]
    breaks: frozenset[Tokens]
    reach: int


def _ends_at(tokens: Tokens, end: int, phrases: frozenset[Tokens]) -> int:
    """The length of a phrase of `phrases` ending just before `end`, or 0."""
    for phrase in phrases:
        n = len(phrase)
        if n <= end and tokens[end - n : end] == phrase:
            return n
    return 0


# How far back uncertainty ("not sure if ... ") is looked for, in words.
UNCERTAIN_REACH = 10


def _clause_start(tokens: Tokens, start: int, scope: Scope) -> int:
    i = start
    while i > max(0, start - UNCERTAIN_REACH):
        if tokens[i - 1] in PUNCTUATION or _ends_at(tokens, i, scope.breaks):
            return i
        i -= 1
    return i


def _contains(tokens: Tokens, phrases: frozenset[Tokens]) -> bool:
    return any(_ends_at(tokens, end, phrases) for end in range(1, len(tokens) + 1))


def polarity(tokens: Tokens, start: int, scope: Scope) -> str:
    """ "said", "denied" or "unsure" for a phrase beginning at tokens[start]."""
    clause = tokens[_clause_start(tokens, start, scope) : start]
    if _contains(clause, scope.uncertain):
        return "unsure"
    if _contains(clause[-scope.reach :], scope.negations):
        return "denied"
    return "said"
