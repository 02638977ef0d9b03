"""What other features may ask of the soreness check: stored outcomes and the consent to
keep them (sessions: "was rest advised recently?"), how many were kept in a week (the weekly
summary), and the button that starts a new check."""

from __future__ import annotations

from handlers.triage.reports import (
    change_health_consent,
    health_consent,
    latest_report,
    no_core_work_outcomes,
    reports_since,
)

START_ACTION = "triage"  # triage:start opens a new soreness check (privately in a group)
START_ARG = "start"

__all__ = [
    "START_ACTION",
    "START_ARG",
    "change_health_consent",
    "health_consent",
    "latest_report",
    "no_core_work_outcomes",
    "reports_since",
]
