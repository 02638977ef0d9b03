"""Reading typed schedules: "tue thu 7:00", "mon wed fri 18:30", "weekdays 6:30am"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scheduler.occurrences import ALL_DAYS

_DAY_WORDS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mo", "mon", "monday", "mondays"),
        ("tu", "tue", "tues", "tuesday", "tuesdays"),
        ("we", "wed", "weds", "wednesday", "wednesdays"),
        ("th", "thu", "thur", "thurs", "thursday", "thursdays"),
        ("fr", "fri", "friday", "fridays"),
        ("sa", "sat", "saturday", "saturdays"),
        ("su", "sun", "sunday", "sundays"),
    )
):
    for _name in _names:
        _DAY_WORDS[_name] = _index

_GROUPS = {
    "weekdays": 0b0011111,
    "weekday": 0b0011111,
    "weekends": 0b1100000,
    "weekend": 0b1100000,
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
}
_FILLER = {"and", "at", "on", "every", "day", "days", "each", "&", "+", "remind", "me"}
_TIME_RE = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?(am|pm)?$")
_RANGE_RE = re.compile(r"^([a-z]+)-([a-z]+)$")


@dataclass
class Schedule:
    days: int = 0
    minute: int | None = None
    unknown: list[str] = field(default_factory=list)


def parse_time(text: str) -> int | None:
    """Minutes after midnight for "7", "7:15", "07.15", "18h30", "6:30pm", "6 pm"."""
    compact = text.strip().casefold().replace(" ", "")
    match = _TIME_RE.match(compact)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def parse_schedule(text: str) -> Schedule:
    """Days and a time from free text; words we do not understand are collected in
    `unknown` so the caller can say which ones."""
    said = re.sub(r"\bevery\s+day\b", "daily", text.strip().casefold())
    tokens = re.split(r"[\s,;/]+", said)
    tokens = _join_am_pm([t for t in tokens if t])
    schedule = Schedule()
    for token in tokens:
        if token in _DAY_WORDS:
            schedule.days |= 1 << _DAY_WORDS[token]
        elif token in _GROUPS:
            schedule.days |= _GROUPS[token]
        elif (span := _day_range(token)) is not None:
            schedule.days |= span
        elif (minute := parse_time(token)) is not None and schedule.minute is None:
            schedule.minute = minute
        elif token not in _FILLER:
            schedule.unknown.append(token)
    return schedule


def _join_am_pm(tokens: list[str]) -> list[str]:
    """ "6 pm" → "6pm"."""
    joined: list[str] = []
    for token in tokens:
        if token in ("am", "pm") and joined and joined[-1][-1:].isdigit():
            joined[-1] += token
        else:
            joined.append(token)
    return joined


def _day_range(token: str) -> int | None:
    """ "mon-fri" → Monday to Friday; wraps around the week ("fri-mon")."""
    match = _RANGE_RE.match(token)
    if match is None or match.group(1) not in _DAY_WORDS or match.group(2) not in _DAY_WORDS:
        return None
    first, last = _DAY_WORDS[match.group(1)], _DAY_WORDS[match.group(2)]
    days, day = 0, first
    while True:
        days |= 1 << day
        if day == last:
            return days
        day = (day + 1) % 7
