"""What other features may ask of the soreness check: stored outcomes and the consent to
keep them (sessions: "was rest advised recently?"), how many were kept in a week (the weekly
summary), and the button that starts a new check."""

from __future__ import annotations

from bot.engine.context import TurnContext
from handlers.triage.dialog import begin
from handlers.triage.reports import (
    change_health_consent,
    health_consent,
    latest_report,
    no_core_work_outcomes,
    reports_since,
)
from handlers.triage.start import START_ACTION, START_ARG


async def start_check_after_run(ctx: TurnContext, run_id: int) -> None:
    """Start a soreness check from an after-run check-in ("sore"), linked to the run `run_id`
    (a run of this person's training log; /history shows the link)."""
    await begin(ctx, run_id=run_id)


__all__ = [
    "START_ACTION",
    "START_ARG",
    "change_health_consent",
    "health_consent",
    "latest_report",
    "no_core_work_outcomes",
    "reports_since",
    "start_check_after_run",
]
