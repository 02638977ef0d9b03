"""The state of the /remind set-up dialog ("remind"), kept between its questions: the time zone
first if unknown, then the days, then the time."""

from __future__ import annotations

from enum import StrEnum

from bot.engine.state_model import StateModel

DIALOG = "remind"


class Stage(StrEnum):
    # Waiting for a time zone: typed here, or set by /timezone's buttons, which hand it over
    # with ctx.continue_dialog (handlers/reminders/timezone.py).
    TZ = "tz"
    DAYS = "days"
    TIME = "time"


class SetupState(StateModel):
    stage: Stage
    days: int = 0  # a bit per weekday, bit 0 = Monday (WeeklyTime.days)
    minute: int | None = None  # minutes after midnight, once known
    rule: int | None = None  # the reminder being changed; None: a new one
    # A typed schedule ("/remind tue 7:00") waiting only for the zone: saved once it is set.
    pending: bool = False
