"""Numbers in typed text: a pain score ("3", "3/10", "3 out of 10", "about a six")."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.understanding.normalise import Tokens

SCORE_MAX = 10


@dataclass(frozen=True)
class NumberWords:
    words: dict[str, int]
    approximately: frozenset[str]
    units: frozenset[str]


def _value(token: str, words: NumberWords) -> int | None:
    if token.isdigit() and token.isascii():
        return int(token)
    return words.words.get(token)


def _out_of_ten(tokens: Tokens, i: int) -> bool:
    rest = tokens[i + 1 : i + 4]
    return rest[:2] == ("of", "10") or rest[:3] == ("out", "of", "10")


def read_numbers(tokens: Tokens, words: NumberWords) -> tuple[int | None, int | None]:
    """(score, number): `score` when the text says it is one (N/10, N out of 10, "about N"),
    `number` for a count that is not a time or a distance ("3", "three"); the highest wins
    when several are given ("3 or 4" → 4, the careful reading)."""
    scores: list[int] = []
    numbers: list[int] = []
    for i, token in enumerate(tokens):
        value = _value(token, words)
        if value is None:
            continue
        if i > 0 and tokens[i - 1] == "of" and value == SCORE_MAX and i >= 2:
            before = _value(tokens[i - 2], words)
            if before is not None or tokens[i - 2] == "out":
                continue  # the "10" of "N of 10"
        if i + 1 < len(tokens) and tokens[i + 1] in words.units:
            continue  # "2 days", "10 km"
        if _out_of_ten(tokens, i):
            scores.append(value)
            continue
        back = tokens[max(0, i - 2) : i]
        if any(t in words.approximately for t in back):
            scores.append(value)
            continue
        numbers.append(value)
    score = max(scores) if scores else None
    number = max(numbers) if numbers else None
    return score, number
