"""Basics: /start, /help, /cancel and the answer to words no feature understood."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.basics.commands import (
    asks_for_help,
    cancel,
    fallback,
    help_command,
    is_small_talk,
    small_talk,
    start,
)

feature = Feature("basics")
feature.command("start", "Meet Core Coach")(start)
feature.command("help", "What I can do")(help_command)
feature.action("help")(help_command)
# Thanks, hello, ok...: a short friendly answer (after soreness and card names, before help).
feature.intent("small_talk", is_small_talk, priority=85)(small_talk)
feature.intent("help", asks_for_help, priority=90)(help_command)
feature.command("cancel", "Leave the current conversation")(cancel)
feature.set_fallback(fallback)
