"""Progress: streak, minutes and a chart of the last weeks' core sessions."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.progress.commands import progress
from handlers.sessions.api import PROGRESS_ACTION

feature = Feature("progress")
feature.command("progress", "Your core sessions: streak, minutes and a chart")(progress)
feature.action(PROGRESS_ACTION)(progress)
