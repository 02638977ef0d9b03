"""What other features may ask of the soreness check: stored outcomes and the consent to
keep them (sessions: "was rest advised recently?"), and the button that starts a new check."""

from __future__ import annotations

from bot.engine.context import TurnContext
from handlers.triage.dialog import begin
from handlers.triage.reports import (
    change_health_consent,
    health_consent,
    latest_report,
    no_core_work_outcomes,
)
from handlers.triage.start import START_ACTION, START_ARG


async def start_check_after_run(ctx: TurnContext, run_id: int) -> None:
    """Start a soreness check from an after-run check-in ("sore"), for the run `run_id`
    (a run of this person's training log).

    The run link is recorded once the check's state carries it (the triage state's run_id,
    added with the soreness-to-run linking); until then the check runs as /sore does."""
    del run_id
    await begin(ctx)


__all__ = [
    "START_ACTION",
    "START_ARG",
    "change_health_consent",
    "health_consent",
    "latest_report",
    "no_core_work_outcomes",
    "start_check_after_run",
]
