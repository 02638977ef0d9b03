"""Reading a typed run ("ran 10k in 52 min, easy", "long run 28 km yesterday") into numbers.

Deterministic and content-driven: the unit, effort and day words come from
content/training.yaml, so the parser knows only what the content lists. Patterns are built
once per words object (content is loaded once), not per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content.text import normalise
from bot.content.training_schema import WEEKDAYS, TrainingWords

METRES_PER = {"km": 1000.0, "mi": 1609.344}
MAX_DISTANCE_M = 300_000  # beyond any single run: a typo, not a run
MAX_DURATION_S = 48 * 3600
_NUMBER = r"(\d{1,4}(?:[.,]\d{1,3})?)"


@dataclass(frozen=True)
class ParsedRun:
    distance_m: int
    duration_s: int | None
    effort: str | None
    days_ago: int  # 0 today, 1 yesterday, up to 6 for a weekday name


@dataclass(frozen=True)
class _Patterns:
    distance: re.Pattern[str]
    unit_of: dict[str, str]
    hms: re.Pattern[str]
    clock: re.Pattern[str]
    hours: re.Pattern[str]
    minutes: re.Pattern[str]
    run_word: re.Pattern[str]
    effort: re.Pattern[str]
    effort_of: dict[str, str]
    day: re.Pattern[str]
    day_of: dict[str, str]


def _fold(text: str) -> str:
    # Not normalise(): that turns "52:30" and "10.5" into separate numbers.
    return " ".join(text.casefold().split())


def _alternation(words: list[str]) -> str:
    # Longest first, so "long run" wins over "long" and "kms" over "km".
    return "|".join(re.escape(_fold(w)) for w in sorted(words, key=len, reverse=True))


def _inverse(groups: dict[str, list[str]]) -> dict[str, str]:
    return {_fold(word): key for key, words in groups.items() for word in words}


# Per content object (loaded once; pydantic models with dicts are not hashable).
_BUILT: dict[int, tuple[TrainingWords, _Patterns]] = {}


def _patterns(words: TrainingWords) -> _Patterns:
    built = _BUILT.get(id(words))
    if built is None or built[0] is not words:
        built = _BUILT[id(words)] = (words, _build(words))
    return built[1]


def _build(words: TrainingWords) -> _Patterns:
    unit_of = _inverse(words.units)
    effort_of = _inverse(words.efforts)
    day_of = _inverse(words.days)
    mins = _alternation(words.minute_words)
    hours = _alternation(words.hour_words)
    return _Patterns(
        distance=re.compile(rf"(?<![\d:.]){_NUMBER}\s*({_alternation(list(unit_of))})\b"),
        unit_of=unit_of,
        hms=re.compile(r"(?<![\d:])(\d{1,2}):([0-5]\d):([0-5]\d)(?![\d:])"),
        clock=re.compile(r"(?<![\d:])(\d{1,3}):([0-5]\d)(?![\d:])"),
        hours=re.compile(
            rf"(?<![\d.])(\d{{1,2}}(?:[.,]\d)?)\s*(?:{hours})(?![a-z])\s*(?:(\d{{1,2}})\s*(?:{mins})?\b)?"
        ),
        minutes=re.compile(rf"(?<![\d.:])(\d{{1,3}})\s*(?:{mins})\b"),
        run_word=re.compile(rf"\b(?:{_alternation(words.run_words)})\b"),
        effort=re.compile(rf"\b({_alternation(list(effort_of))})\b"),
        effort_of=effort_of,
        day=re.compile(rf"\b({_alternation(list(day_of))})\b"),
        day_of=day_of,
    )


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _distance(said: str, p: _Patterns) -> tuple[int, re.Match[str]] | None:
    match = p.distance.search(said)
    if match is None:
        return None
    metres = round(_number(match.group(1)) * METRES_PER[p.unit_of[match.group(2)]])
    return (metres, match) if 0 < metres <= MAX_DISTANCE_M else None


def _duration(said: str, p: _Patterns) -> int | None:
    if m := p.hms.search(said):
        seconds = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
    elif m := p.clock.search(said):
        first, second = int(m.group(1)), int(m.group(2))
        # "3:45" for a marathon is hours:minutes; "52:30" for a 10k is minutes:seconds.
        seconds = first * 3600 + second * 60 if first < 10 else first * 60 + second
    elif m := p.hours.search(said):
        seconds = round(_number(m.group(1)) * 3600) + int(m.group(2) or 0) * 60
    elif m := p.minutes.search(said):
        seconds = int(m.group(1)) * 60
    else:
        return None
    return seconds if 0 < seconds <= MAX_DURATION_S else None


def _days_ago(said: str, p: _Patterns, weekday_today: int) -> int:
    match = p.day.search(said)
    if match is None:
        return 0
    key = p.day_of[match.group(1)]
    if key == "today":
        return 0
    if key == "yesterday":
        return 1
    # A weekday name means the latest such day, today included ("on tuesday" on a Tuesday).
    return (weekday_today - WEEKDAYS.index(key)) % 7


def parse_run(text: str, words: TrainingWords, weekday_today: int) -> ParsedRun | None:
    """The run in `text`, or None when it names no distance. `weekday_today` is the person's
    local weekday (Monday 0), for "on tuesday"."""
    p = _patterns(words)
    said = _fold(text)
    found = _distance(said, p)
    if found is None:
        return None
    metres, match = found
    # The distance's own words are no duration or effort ("10 k" is no "k" effort).
    rest = said[: match.start()] + " " + said[match.end() :]
    effort = p.effort.search(rest)
    return ParsedRun(
        distance_m=metres,
        duration_s=_duration(rest, p),
        effort=p.effort_of[effort.group(1)] if effort else None,
        days_ago=_days_ago(rest, p, weekday_today),
    )


def is_run_report(text: str, words: TrainingWords) -> bool:
    """Plain words that clearly report a run: a distance with a run or effort word, and no
    question ("should I run 10k?" asks, it does not report)."""
    said = _fold(text)
    if "?" in text or len(said) > 200:
        return False
    p = _patterns(words)
    if _distance(said, p) is None:
        return False
    return bool(p.run_word.search(said) or p.effort.search(said))


def asks_what_today(text: str, words: TrainingWords) -> bool:
    said = normalise(text).rstrip("?!. ")
    return any(said == normalise(q) for q in words.today_questions)
