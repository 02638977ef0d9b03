"""Training load from logged runs, on the person's own calendar (weeks start on Monday).

- the week so far against last week (distance and change in %), and last week against the one
  before;
- the acute:chronic workload ratio: the last 7 days' distance against the average week of the
  last 28 days (today included in both). Above about 1.5, injury risk rises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

WEEK_RISE = 0.10  # more than 10 % over last week is a jump...
WEEK_RISE_FLOOR_M = 5000  # ...unless the rise is under 5 km (small weeks swing a lot)
RATIO_HIGH = 1.5
RATIO_LOW = 0.8
ACUTE_DAYS = 7
CHRONIC_DAYS = 28


@dataclass(frozen=True)
class DayRun:
    day: date  # local calendar day the run started
    distance_m: int
    duration_s: int | None
    effort: str | None = None
    run_id: int | None = None  # the stored run, when read from the database


@dataclass(frozen=True)
class Load:
    today: date
    week_start: date
    week_runs: int
    week_m: int
    week_s: int
    last_week_m: int
    acute_m: int
    chronic_week_m: float
    ratio: float | None  # None until there is history before the last 7 days
    prior_week_m: int = 0  # the week before last, so last week's own rise can be judged

    @property
    def change_pct(self) -> int | None:
        if self.last_week_m <= 0:
            return None
        return round((self.week_m - self.last_week_m) * 100 / self.last_week_m)

    @property
    def week_jump(self) -> bool:
        return is_jump(self.week_m, self.last_week_m)

    @property
    def last_week_jump(self) -> bool:
        return is_jump(self.last_week_m, self.prior_week_m)

    @property
    def jumped(self) -> bool:
        """A jump in load worth naming in a soreness check: this week or last week rose too
        fast (soreness lags a day or three, so a Monday ache may follow last week's rise), or
        the last 7 days are well above the usual week."""
        return self.week_jump or self.last_week_jump or self.ratio_high

    @property
    def ratio_high(self) -> bool:
        return self.ratio is not None and self.ratio > RATIO_HIGH


def is_jump(week_m: int, before_m: int) -> bool:
    """More than 10 % over the week before, and by at least the floor."""
    return (
        before_m > 0
        and week_m > before_m * (1 + WEEK_RISE)
        and week_m - before_m >= WEEK_RISE_FLOOR_M
    )


def window_start(today: date) -> date:
    """The first local day whose runs the figures need (the chronic window reaches furthest)."""
    return min(today - timedelta(days=CHRONIC_DAYS - 1), monday_of(today) - timedelta(days=14))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def compute(runs: Iterable[DayRun], today: date) -> Load:
    week_start = monday_of(today)
    last_week_start = week_start - timedelta(days=7)
    prior_week_start = week_start - timedelta(days=14)
    acute_from = today - timedelta(days=ACUTE_DAYS - 1)
    chronic_from = today - timedelta(days=CHRONIC_DAYS - 1)
    week_runs = week_m = week_s = last_week_m = prior_week_m = 0
    acute_m = chronic_m = before_acute_m = 0
    for run in runs:
        if run.day > today:
            continue
        if run.day >= week_start:
            week_runs += 1
            week_m += run.distance_m
            week_s += run.duration_s or 0
        elif run.day >= last_week_start:
            last_week_m += run.distance_m
        elif run.day >= prior_week_start:
            prior_week_m += run.distance_m
        if run.day >= acute_from:
            acute_m += run.distance_m
        if run.day >= chronic_from:
            chronic_m += run.distance_m
            if run.day < acute_from:
                before_acute_m += run.distance_m
    chronic_week_m = chronic_m / (CHRONIC_DAYS / 7)
    # Without runs before the last 7 days every new runner would look like a spike.
    ratio = acute_m / chronic_week_m if before_acute_m > 0 and chronic_week_m > 0 else None
    return Load(
        today=today,
        week_start=week_start,
        week_runs=week_runs,
        week_m=week_m,
        week_s=week_s,
        last_week_m=last_week_m,
        acute_m=acute_m,
        chronic_week_m=chronic_week_m,
        ratio=ratio,
        prior_week_m=prior_week_m,
    )
