"""Basics: /start, /help, /cancel and the answer to words no feature understood."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.basics.commands import asks_for_help, cancel, fallback, help_command, start

feature = Feature("basics")
feature.command("start", "Meet Core Coach")(start)
feature.command("help", "What I can do")(help_command)
feature.action("help")(help_command)
feature.intent("help", asks_for_help, priority=90)(help_command)
feature.command("cancel", "Leave the current conversation")(cancel)
feature.set_fallback(fallback)
