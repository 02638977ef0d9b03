"""Cards: the core exercise cards, by command, button or plain name ("plank")."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.cards.views import (
    card_button,
    card_by_name,
    card_command,
    list_cards,
    names_a_card,
    variant_button,
)

feature = Feature("cards")
feature.command("cards", "List the core exercise cards", aliases=("exercises",))(list_cards)
feature.action("cards")(list_cards)
feature.command("card", "Show one exercise card", args_hint="NAME")(card_command)
feature.action("card")(card_button)
feature.action("card_variant")(variant_button)
feature.intent("card", names_a_card, priority=60)(card_by_name)
