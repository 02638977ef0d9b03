"""/today and "what should I do today?" (the words are the training log's content)."""

from __future__ import annotations

from bot.content.bundle import ContentBundle
from bot.engine.feature import Feature
from handlers.today.advice import today_command
from handlers.training.api import asks_what_today


def _asks_today(text: str, content: ContentBundle) -> bool:
    return asks_what_today(text, content.training.words)


feature = Feature("today")
feature.command("today", "What to do today: easy run, rest or core")(today_command)
feature.intent("today_advice", _asks_today, priority=45)(today_command)
