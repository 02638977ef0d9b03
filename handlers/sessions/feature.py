"""Guided core sessions: /session (and the session:start button of reminders and soreness
results), the safety question before one, and /level."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.sessions import commands, safety_screen
from handlers.sessions.api import SESSION_ACTION
from handlers.sessions.runner import DIALOG
from handlers.sessions.state import RunState

feature = Feature("sessions")
feature.command("session", "A guided core session for today", args_hint="[short]")(
    commands.session_command
)
feature.action(SESSION_ACTION)(commands.session_button)
feature.dialog(DIALOG, state=RunState)(commands.on_input)
feature.dialog(safety_screen.DIALOG, state=safety_screen.ScreenState)(commands.on_screen_answer)
feature.command("level", "Your level for core sessions")(commands.level_command)
feature.action(commands.LEVEL_ACTION)(commands.level_button)
