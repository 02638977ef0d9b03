"""Core exercise cards: the list, one card, and plain-word lookups like "plank"."""

from __future__ import annotations

from bot.content.bundle import ContentBundle
from bot.content.card_images import VARIANT_SLOTS, animation_key
from bot.content.schema import Card
from bot.engine.context import TurnContext
from bot.engine.events import Button

BUTTONS_PER_ROW = 2


def render_card(card: Card) -> str:
    def bullets(items: list[str]) -> str:
        return "\n".join(f"• {item}" for item in items)

    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(card.steps, start=1))
    return "\n\n".join(
        [
            card.summary,
            f"**Works:** {', '.join(card.muscles)}",
            f"**Why runners need it:** {card.why_for_runners}",
            f"**Dose:** {card.dose.describe()}",
            f"**How to do it**\n{steps}",
            f"**Form cues**\n{bullets(card.form_cues)}",
            f"**Common mistakes**\n{bullets(card.common_mistakes)}",
            f"**Easier:** {card.easier.name}. {card.easier.how}",
            f"**Harder:** {card.harder.name}. {card.harder.how}",
            f"**Skip it or ask a professional when**\n{bullets(card.skip_when)}",
        ]
    )


def _variant_buttons(ctx: TurnContext, card: Card, *, showing: str | None = None) -> list[Button]:
    """ "Show easier" / "Show harder" (and "Back to the card" on a variant)."""
    buttons = [
        ctx.action(f"Show {slot}", "card_variant", f"{card.id}:{slot}")
        for slot in VARIANT_SLOTS
        if slot != showing
    ]
    if showing is not None:
        buttons.append(ctx.action(f"Back to {card.name}", "card", card.id))
    return buttons


def show_card(ctx: TurnContext, card: Card) -> None:
    """The card's text, captioning its animation (content/cards/images/<id>.gif); adapters
    show the animation in place of the still key frame (<id>.png) when there is one."""
    animation = ctx.content.card_animations.get(animation_key(card.id))
    reply = ctx.say(
        render_card(card),
        title=card.name,
        buttons=[_variant_buttons(ctx, card), [ctx.action("All cards", "cards")]],
        image=ctx.content.card_images.get(card.id),  # the still, where animations cannot go
    )
    reply.animation = animation


def show_variant(ctx: TurnContext, card: Card, slot: str) -> None:
    variant = card.easier if slot == "easier" else card.harder
    reply = ctx.say(
        f"**{slot.capitalize()}:** {variant.how}",
        title=f"{card.name}: {variant.name}",
        buttons=[_variant_buttons(ctx, card, showing=slot), [ctx.action("All cards", "cards")]],
    )
    reply.animation = ctx.content.card_animations.get(animation_key(card.id, slot))


async def variant_button(ctx: TurnContext) -> None:
    card_id, _, slot = ctx.action_arg.partition(":")
    card = ctx.content.cards.get(card_id)
    if card is None or slot not in VARIANT_SLOTS:
        await list_cards(ctx)  # an old button for a card a club removed
        return
    show_variant(ctx, card, slot)


async def list_cards(ctx: TurnContext) -> None:
    cards = sorted(ctx.content.cards.values(), key=lambda c: c.name)
    buttons = [ctx.action(card.name, "card", card.id) for card in cards]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    ctx.say(ctx.content.texts.cards_intro, buttons=rows)


def names_a_card(text: str, content: ContentBundle) -> bool:
    return content.find_card(text) is not None


async def card_command(ctx: TurnContext) -> None:
    query = ctx.event.args.strip()
    if not query:
        await list_cards(ctx)
        return
    card = ctx.content.find_card_loosely(query)
    if card is not None:
        show_card(ctx, card)
        return
    suggestions = ctx.content.suggest_cards(query)
    if suggestions:
        names = " or ".join(f"**{c.name}**" for c in suggestions)
        ctx.say(
            f"{ctx.content.texts.card_not_found} Did you mean {names}?",
            buttons=[[ctx.action(c.name, "card", c.id) for c in suggestions]],
        )
    else:
        ctx.say(
            ctx.content.texts.card_not_found,
            buttons=[[ctx.action("All cards", "cards")]],
        )


async def card_button(ctx: TurnContext) -> None:
    card = ctx.content.cards.get(ctx.action_arg)
    if card is None:
        # An old button for a card a club removed from its content folder.
        await list_cards(ctx)
        return
    show_card(ctx, card)


async def card_by_name(ctx: TurnContext) -> None:
    card = ctx.content.find_card(ctx.event.text or "")
    assert card is not None  # the intent matched on this very text
    show_card(ctx, card)
