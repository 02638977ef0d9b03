"""Progress: streak, minutes and a chart of the last weeks' core sessions."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.progress.commands import charts_of, progress
from handlers.sessions.api import PROGRESS_ACTION

feature = Feature("progress")
# Personal: in a group the answer goes to the person privately.
feature.command("progress", "Your core sessions: streak, minutes and a chart", private=True)(
    progress
)
feature.action(PROGRESS_ACTION, private=True)(progress)
feature.files_of(charts_of)
