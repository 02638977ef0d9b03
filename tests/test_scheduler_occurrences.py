"""Weekly occurrences in IANA zones, across daylight-saving changes, and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.config import QuietSpan
from scheduler.occurrences import (
    WeeklyTime,
    last_occurrence,
    local_instant,
    next_occurrence,
    start_of_next_week,
)
from scheduler.quiet import QuietHours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
SUNDAY = 1 << 6
TUE_THU = 1 << 1 | 1 << 3


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_berlin_spring_forward_fires_at_the_first_valid_instant_after_the_gap() -> None:
    # 2027-03-28 is the last Sunday of March: clocks jump 02:00 CET → 03:00 CEST.
    rule = WeeklyTime(SUNDAY, 2 * 60 + 30)
    fired = next_occurrence(rule, BERLIN, utc(2027, 3, 27, 12))
    assert fired == utc(2027, 3, 28, 1, 0)
    assert fired.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"
    # The week after, 02:30 exists again and is used as chosen.
    following = next_occurrence(rule, BERLIN, fired)
    assert following.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2027-04-04 02:30"


def test_berlin_fall_back_fires_once_at_the_first_of_the_doubled_hour() -> None:
    # 2026-10-25 is the last Sunday of October: 03:00 CEST → 02:00 CET, so 02:30 happens twice.
    rule = WeeklyTime(SUNDAY, 2 * 60 + 30)
    fired = next_occurrence(rule, BERLIN, utc(2026, 10, 24, 12))
    assert fired == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first one
    second_0230 = utc(2026, 10, 25, 1, 30)  # 02:30 CET, the repeat
    following = next_occurrence(rule, BERLIN, fired)
    assert following > second_0230
    assert following.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2026-11-01 02:30"
    # Even asked from inside the doubled hour, the repeat is not an occurrence.
    assert next_occurrence(rule, BERLIN, fired + timedelta(minutes=45)) == following


def test_a_daily_rule_fires_once_per_day_through_both_changes() -> None:
    every_day = WeeklyTime(0b1111111, 2 * 60 + 30)
    for start, end in ((utc(2026, 10, 20), utc(2026, 10, 30)), (utc(2027, 3, 24), utc(2027, 4, 2))):
        fired, when = [], start
        while (when := next_occurrence(every_day, BERLIN, when)) < end:
            fired.append(when.astimezone(BERLIN).date())
        assert len(fired) == len(set(fired)) == (end - start).days


def test_new_york_changes_and_southern_hemisphere_zone() -> None:
    # US: 2026-11-01 01:30 happens twice; 2027-03-14 02:30 never happens.
    sunday_0130 = WeeklyTime(SUNDAY, 90)
    assert next_occurrence(sunday_0130, NEW_YORK, utc(2026, 10, 31)) == utc(2026, 11, 1, 5, 30)
    sunday_0230 = WeeklyTime(SUNDAY, 150)
    assert next_occurrence(sunday_0230, NEW_YORK, utc(2027, 3, 13)) == utc(2027, 3, 14, 7, 0)
    # Sydney springs forward in October: 2026-10-04 02:00 → 03:00.
    assert next_occurrence(sunday_0230, SYDNEY, utc(2026, 10, 2)) == utc(2026, 10, 3, 16, 0)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"])
def test_ordinary_weeks_agree_with_apscheduler_cron(zone: str) -> None:
    tz = ZoneInfo(zone)
    rule = WeeklyTime(TUE_THU | 1 << 5, 18 * 60 + 30)
    trigger = CronTrigger(day_of_week="tue,thu,sat", hour=18, minute=30, timezone=tz)
    ours = theirs = utc(2026, 5, 1)  # no changes between May and August
    previous = None
    for _ in range(30):
        ours = next_occurrence(rule, tz, ours)
        theirs = trigger.get_next_fire_time(previous, theirs)
        previous = theirs
        assert ours == theirs.astimezone(UTC)


def test_last_occurrence_and_next_week() -> None:
    rule = WeeklyTime(TUE_THU, 7 * 60)
    friday = utc(2026, 11, 27, 12)  # Friday
    assert last_occurrence(rule, BERLIN, friday) == utc(2026, 11, 26, 6, 0)  # Thu 07:00 CET
    assert last_occurrence(rule, BERLIN, utc(2026, 11, 26, 6, 0)) == utc(2026, 11, 26, 6, 0)
    monday = start_of_next_week(utc(2026, 11, 24, 6), BERLIN)
    assert monday == utc(2026, 11, 29, 23, 0)  # Mon 30 Nov 00:00 CET


def test_weekly_time_validation_and_wording() -> None:
    with pytest.raises(ValueError):
        WeeklyTime(0, 60)
    with pytest.raises(ValueError):
        WeeklyTime(1, 24 * 60)
    assert WeeklyTime(TUE_THU, 420).describe() == "Tue, Thu at 07:00"
    assert WeeklyTime(0b0011111, 390).describe() == "Weekdays at 06:30"


def test_quiet_hours_cover_the_night_and_defer_to_their_end() -> None:
    quiet = QuietHours()
    assert quiet.covers(utc(2026, 11, 23, 22, 30), BERLIN)  # 23:30 local
    assert not quiet.covers(utc(2026, 11, 23, 20, 59), BERLIN)  # 21:59 local
    # Evening: moves to 07:00 the next morning; early morning: to 07:00 the same day.
    assert quiet.defer(utc(2026, 11, 23, 22), BERLIN) == utc(2026, 11, 24, 6)
    assert quiet.defer(utc(2026, 11, 24, 4), BERLIN) == utc(2026, 11, 24, 6)
    assert quiet.defer(utc(2026, 11, 24, 9), BERLIN) == utc(2026, 11, 24, 9)
    assert quiet.next_start(utc(2026, 11, 24, 9), BERLIN) == utc(2026, 11, 24, 21)
    assert QuietHours(QuietSpan.parse("off")).covers(utc(2026, 11, 23, 23), BERLIN) is False
    assert QuietHours(QuietSpan.parse("off")).next_start(utc(2026, 11, 24, 9), BERLIN) is None
    afternoon = QuietHours(QuietSpan.parse("13:00-14:00"))  # not wrapping past midnight
    assert afternoon.covers_minute(13 * 60 + 30)
    assert not afternoon.covers_minute(14 * 60) and not afternoon.covers_minute(12 * 60 + 59)
    assert afternoon.defer(utc(2026, 7, 1, 11, 30), BERLIN) == utc(2026, 7, 1, 12)  # 14:00 CEST


def test_local_instant_is_identity_away_from_changes() -> None:
    day = datetime(2026, 7, 1).date()
    assert local_instant(day, 7 * 60, BERLIN) == utc(2026, 7, 1, 5, 0)
