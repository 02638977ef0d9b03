"""When a weekly reminder falls: local wall-clock days and time, turned into UTC instants.

Daylight-saving policy (tested in tests/test_scheduler_occurrences.py):

- **Skipped hour** (spring forward, e.g. Europe/Berlin 2027-03-28, 02:00 → 03:00): a reminder
  set for 02:30 fires at the first valid instant after the gap, 03:00 local.
- **Doubled hour** (fall back, e.g. Europe/Berlin 2026-10-25, 03:00 → 02:00): a reminder set
  for 02:30 fires once, at the first 02:30 (summer time); the repeated 02:30 is not an
  occurrence.

We compute occurrences here instead of with APScheduler's CronTrigger because CronTrigger
3.11 does neither: it fires twice in the doubled hour (both folds) and lands an hour late
(03:30) in the skipped one. Each local date yields exactly one instant here, by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ALL_DAYS = 0b1111111
MINUTES_PER_DAY = 24 * 60
UTC_ZONE = ZoneInfo("UTC")


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone by IANA name, built once: sweeps look up the same few zones thousands of times."""
    return ZoneInfo(name)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """A person's zone (set with /timezone) for their dates and weeks; UTC until they set one,
    or if the name is no longer known."""
    try:
        return zone(name) if name else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


@dataclass(frozen=True)
class WeeklyTime:
    """Days of the week (bit 0 = Monday) and a local time in minutes after midnight."""

    days: int
    minute: int

    def __post_init__(self) -> None:
        if not 0 < self.days <= ALL_DAYS:
            raise ValueError("a weekly time needs at least one day")
        if not 0 <= self.minute < MINUTES_PER_DAY:
            raise ValueError("minute of day out of range")

    def has(self, weekday: int) -> bool:
        return bool(self.days >> weekday & 1)

    def weekdays(self) -> list[int]:
        return [d for d in range(7) if self.has(d)]

    @property
    def clock(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    def describe(self) -> str:
        """ "Tue, Thu at 07:00", "Every day at 18:30", "Weekdays at 06:30"."""
        if self.days == ALL_DAYS:
            days = "Every day"
        elif self.days == 0b0011111:
            days = "Weekdays"
        elif self.days == 0b1100000:
            days = "Weekends"
        else:
            days = ", ".join(DAY_NAMES[d][:3] for d in self.weekdays())
        return f"{days} at {self.clock}"


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date, by the policy above."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    # fold=0 reads a time with the offset in force before a change, fold=1 after it. Equal:
    # an ordinary time. Before > after (clocks went back): a doubled time; fold=0 is the
    # first. Before < after (clocks went forward): the time was skipped.
    before = naive.replace(tzinfo=tz).utcoffset()
    after = naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert before is not None and after is not None
    if before >= after:
        return (naive - before).replace(tzinfo=UTC)
    return _end_of_gap(naive, tz)


def _end_of_gap(naive: datetime, tz: ZoneInfo) -> datetime:
    """First instant whose local wall clock reaches `naive`, which lies in a skipped gap."""
    # In a gap, fold=1 reads the time with the offset after the change (the earlier UTC
    # instant) and fold=0 with the offset before (the later one); the change lies between.
    low = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    high = int(naive.replace(tzinfo=tz, fold=0).timestamp())
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def next_occurrence(rule: WeeklyTime, tz: ZoneInfo, after: datetime) -> datetime:
    """The first occurrence strictly after `after` (UTC)."""
    start = after.astimezone(tz).date()
    # From the day before: a local date's instant can precede `after`'s local date at a gap.
    for offset in range(-1, 9):
        day = start + timedelta(days=offset)
        if rule.has(day.weekday()):
            instant = local_instant(day, rule.minute, tz)
            if instant > after:
                return instant
    raise AssertionError("a weekly rule with a day always occurs within 8 days")


def last_occurrence(rule: WeeklyTime, tz: ZoneInfo, at_or_before: datetime) -> datetime:
    """The latest occurrence at or before `at_or_before` (UTC)."""
    start = at_or_before.astimezone(tz).date()
    for offset in range(1, -9, -1):
        day = start + timedelta(days=offset)
        if rule.has(day.weekday()):
            instant = local_instant(day, rule.minute, tz)
            if instant <= at_or_before:
                return instant
    raise AssertionError("a weekly rule with a day always occurs within 8 days")


def start_of_next_week(when: datetime, tz: ZoneInfo) -> datetime:
    """Monday 00:00 local after `when`: where "skip this week" resumes."""
    local_day = when.astimezone(tz).date()
    monday = local_day + timedelta(days=7 - local_day.weekday())
    return local_instant(monday, 0, tz)
