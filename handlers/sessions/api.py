"""What other features may use of guided sessions: the buttons that start one or show
progress, and the session log read for /progress."""

from __future__ import annotations

from handlers.sessions.logs import as_logged, history, local_day, zone_of
from handlers.sessions.progression import (
    CHART_WEEKS,
    GOAL_MAX,
    GOAL_MIN,
    Week,
    dose_advice,
    streak,
    weeks,
)
from handlers.sessions.runner import PROGRESS_ACTION
from handlers.sessions.views import local_label, minutes, step_pct

SESSION_ACTION = "session"  # session:start starts a session (reminders, soreness results)
START_ARG = "start"

__all__ = [
    "CHART_WEEKS",
    "GOAL_MAX",
    "GOAL_MIN",
    "PROGRESS_ACTION",
    "SESSION_ACTION",
    "START_ARG",
    "Week",
    "as_logged",
    "dose_advice",
    "history",
    "local_day",
    "local_label",
    "minutes",
    "step_pct",
    "streak",
    "weeks",
    "zone_of",
]
