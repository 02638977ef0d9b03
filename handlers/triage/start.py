"""The button that starts a new soreness check: triage:start (privately in a group). Its own
module so the dialog and the api both use it without importing each other."""

from __future__ import annotations

START_ACTION = "triage"  # triage:start opens a new soreness check (privately in a group)
START_ARG = "start"
