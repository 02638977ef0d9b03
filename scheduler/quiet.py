"""Quiet hours: nothing proactive between 22:00 and 07:00 local, unless the person chose it.

A reminder the person set inside quiet hours (06:30) fires at that time; anything the bot
decides on its own (a check-in) due inside quiet hours moves to the end of them (07:00).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduler.occurrences import MINUTES_PER_DAY, local_instant

_SPAN_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class Span(Protocol):
    """Quiet hours as configured (bot.config): start and end in minutes after midnight."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class QuietHours:
    """A daily local span [start, end) in minutes after midnight; start == end means none."""

    start: int = 22 * 60
    end: int = 7 * 60

    @classmethod
    def of(cls, span: Span) -> QuietHours:
        return cls(span.start, span.end)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """ "22:00-07:00", or "off" for none."""
        if text.strip().casefold() in ("off", "none"):
            return cls(0, 0)
        match = _SPAN_RE.match(text.strip())
        if match is None:
            raise ValueError("expected HH:MM-HH:MM or off")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError("hours 0-23, minutes 0-59")
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def covers_minute(self, minute: int) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # the span wraps past midnight

    def covers(self, when: datetime, tz: ZoneInfo) -> bool:
        local = when.astimezone(tz)
        return self.covers_minute(local.hour * 60 + local.minute)

    def defer(self, when: datetime, tz: ZoneInfo) -> datetime:
        """`when` itself if outside quiet hours, else the moment they end (UTC)."""
        if not self.covers(when, tz):
            return when
        local = when.astimezone(tz)
        minute = local.hour * 60 + local.minute
        day = local.date()
        if self.start > self.end and minute >= self.start:
            day += timedelta(days=1)  # evening part of a span that ends tomorrow morning
        return local_instant(day, self.end % MINUTES_PER_DAY, tz)

    def next_start(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        """The next moment quiet hours begin after `after` (UTC); None without quiet hours."""
        if self.start == self.end:
            return None
        day = after.astimezone(tz).date()
        for offset in range(3):
            instant = local_instant(day + timedelta(days=offset), self.start, tz)
            if instant > after:
                return instant
        raise AssertionError("quiet hours start every day")

    def describe(self) -> str:
        if self.start == self.end:
            return "none"
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}–{self.end // 60:02d}:{self.end % 60:02d}"
        )
