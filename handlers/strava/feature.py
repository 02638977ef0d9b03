"""Strava: /strava connects a person's Strava account (OAuth 2), their runs arrive in the
training log by themselves (webhook events and a 4-week backfill, worked off by the sweep),
and right after a run the coach asks once how the core and back felt."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.strava import checkin, connect
from handlers.strava.jobs import sweep_strava

feature = Feature("strava")
# Private: the authorisation link is the person's own, never posted in a group.
feature.command(
    "strava",
    "Connect Strava: your runs arrive by themselves",
    args_hint="[private|disconnect]",
    private=True,
)(connect.strava_command)
feature.action(connect.ACTION, private=True)(connect.button)
feature.action(checkin.ACTION, private=True)(checkin.answer_button)
feature.sweep(sweep_strava)
feature.before_forget(connect.revoke_before_forget)
