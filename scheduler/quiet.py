"""Quiet hours: nothing proactive between 22:00 and 07:00 local, unless the person chose it.

A reminder the person set inside quiet hours (06:30) fires at that time; anything the bot
decides on its own (a check-in) due inside quiet hours moves to the end of them (07:00).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import QuietSpan
from scheduler.occurrences import MINUTES_PER_DAY, local_instant


@dataclass(frozen=True)
class QuietHours:
    """The clock maths on a configured span (Settings.quiet_hours, parsed by bot.config):
    [start, end) in local minutes after midnight, wrapping past midnight when start > end."""

    span: QuietSpan = field(default_factory=QuietSpan)

    @property
    def start(self) -> int:
        return self.span.start

    @property
    def end(self) -> int:
        return self.span.end

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
