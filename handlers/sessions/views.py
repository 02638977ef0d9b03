"""What a guided session looks like: the overview, each step, and the buttons each phase
offers. The same option lists serve the buttons and typed words, so they never disagree."""

from __future__ import annotations

from datetime import datetime

from bot.content.plural import fill
from bot.content.schema import LEVELS, Card
from bot.content.session_schema import SessionTemplate, SessionTexts
from bot.engine.context import TurnContext
from bot.engine.events import Button
from handlers.sessions.state import Phase, RunState, Variant
from handlers.triage.api import START_ACTION as TRIAGE_ACTION

# Button values (dialog choices).
START, DONE, SKIP, STOP = "start", "done", "skip", "stop"
EARLY = "early"  # end a hold before its timer is up: the seconds held count
RESUME, ABANDON, OVER, LATER, UP = "resume", "abandon", "over", "later", "up"


Option = tuple[str, str]  # (button label, choice value)
# Words people type for a choice besides its label ("next" for Done...).
SYNONYMS = {
    "next": DONE,
    "ok": DONE,
    "finished": DONE,
    "go": START,
    "pause": STOP,
    "continue": RESUME,
    "easy": Variant.EASIER,
    "hard": Variant.HARDER,
    "restart": OVER,
    "later": LATER,
}
CUES_SHOWN = 2


def area_names(areas: list[str]) -> str:
    names = [a.replace("_", " ") for a in areas]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def minutes(seconds: int) -> int:
    """Whole minutes for "about N min": a little work is never shown as none, none as none."""
    return max(1, round(seconds / 60)) if seconds > 0 else 0


def options(state: RunState, texts: SessionTexts) -> list[list[Option]]:
    """The buttons of the current phase, in rows."""
    if state.phase == Phase.LEVEL:
        return [[(texts.levels[level].label, level)] for level in LEVELS]
    if state.phase == Phase.READY:
        first: list[Option] = [("Start", START)]
        if state.offer and state.plan:
            first.append((f"Step up +{step_pct(state.plan.dose_pct, state.offer)}%", UP))
        return [first, [("Not now", LATER)]]
    if state.phase == Phase.PAUSED:
        return [[("Resume", RESUME), ("Abandon", ABANDON)]]
    if state.phase == Phase.OPEN:
        return [[("Resume", RESUME), ("Start over", OVER)]]
    if state.phase == Phase.HOLD:
        return [[("Done", DONE), ("End early", EARLY)], [("Stop", STOP)]]
    step = state.step
    if step.kind == "warmup":
        return [[("Done", DONE), ("Skip", SKIP)], [("Stop", STOP)]]
    if step.kind == "rest":
        return [[("Next round", START)], [("Stop", STOP)]]
    first = [("Start", START) if state.move.kind == "hold" else ("Done", DONE), ("Skip", SKIP)]
    # Easier and Harder step between the card's variants; the end already reached is left out.
    variant = state.variants.get(state.move.card_id)
    both: list[Option] = [("Easier", Variant.EASIER), ("Harder", Variant.HARDER)]
    second = [o for o in both if o[1] != variant]
    return [first, second, [("Stop", STOP)]]


def step_pct(current: int, offer: int) -> int:
    return round((offer - current) * 100 / current)


def ask_level(ctx: TurnContext, state: RunState) -> None:
    texts = ctx.content.sessions.texts
    lines = [texts.ask_level, ""]
    lines += [f"**{texts.levels[lv].label}:** {texts.levels[lv].description}" for lv in LEVELS]
    ctx.say("\n".join(lines), buttons=rows(ctx, state))


def overview(ctx: TurnContext, state: RunState, template: SessionTemplate) -> None:
    texts = ctx.content.sessions.texts
    plan = state.plan
    assert plan is not None
    level = texts.levels[plan.level].label.casefold()
    title = fill(texts.overview_title, level=level, minutes=minutes(plan.total_seconds(template)))
    parts: list[str] = []
    if state.stepped_up:
        parts.append(fill(texts.stepped_up, pct=state.stepped_up))
    if plan.warmup:
        warm = sum(template.warmup[i].seconds for i in plan.warmup)
        items = "\n".join(f"• {template.warmup[i].text}" for i in plan.warmup)
        parts.append(f"**Warm-up** (about {minutes(warm)} min)\n{items}")
    moves = "\n".join(
        f"{n}. {ctx.content.cards[m.card_id].name}: {m.describe(texts)}"
        for n, m in enumerate(plan.moves, start=1)
    )
    parts.append(fill(texts.overview_rounds, rounds=plan.rounds) + f"\n{moves}")
    parts.append(
        f"Rest about {plan.rest_between_moves} s between moves"
        + (f" and {plan.rest_between_rounds} s between rounds." if plan.rounds > 1 else ".")
    )
    parts.append(texts.form_reminder)
    if state.sore:
        parts.append(fill(texts.sore_note, areas=area_names(state.sore)))
    if state.unsure:
        parts.append(texts.unsure_note)
    if state.offer:
        parts.append(fill(texts.progression_offer, pct=step_pct(plan.dose_pct, state.offer)))
    elif state.at_cap:
        parts.append(texts.progression_at_cap)
    ctx.say("\n\n".join(parts), title=title, buttons=rows(ctx, state))


def show_step(
    ctx: TurnContext, state: RunState, template: SessionTemplate, lead: str | None = None
) -> None:
    texts = ctx.content.sessions.texts
    plan = state.plan
    assert plan is not None
    step = state.step
    parts = [lead] if lead else []
    if step.kind == "warmup":
        items = [template.warmup[i] for i in plan.warmup]
        parts += [f"• {item.text} ({item.seconds} s)" for item in items]
        reply = ctx.say("\n".join(parts), title="Warm-up", buttons=rows(ctx, state))
        reply.countdown_seconds = sum(item.seconds for item in items)
        return
    if step.kind == "rest":
        text = fill(
            texts.round_rest,
            round=step.round + 1,
            rounds=plan.rounds,
            seconds=plan.rest_between_rounds,
            next=step.round + 2,
        )
        parts.append(text)
        reply = ctx.say("\n\n".join(parts), buttons=rows(ctx, state))
        reply.countdown_seconds = plan.rest_between_rounds or None
        return
    move = state.move
    card = ctx.content.cards[move.card_id]
    parts.append(
        f"Round {step.round + 1} of {plan.rounds} · move {step.move + 1} of {len(plan.moves)}"
    )
    parts.append(f"**{move.describe(texts)}**")
    parts.append(_how(card, state.variants.get(card.id)))
    parts.append("\n".join(f"• {cue}" for cue in card.form_cues[:CUES_SHOWN]))
    if move.kind == "hold":
        parts.append(texts.hold_ready)
    # The picture on the first round only: later rounds repeat moves already shown.
    image = ctx.content.card_images.get(card.id) if step.round == 0 else None
    ctx.say("\n\n".join(parts), title=_name(card, state), buttons=rows(ctx, state), image=image)


def show_hold(ctx: TurnContext, state: RunState, left: int | None = None) -> None:
    """The hold's timer: the whole hold at its Start, or the `left` seconds of one running."""
    move = state.move
    hold = f"{move.amount} s" + (
        " on each side (switch halfway through the timer)" if move.per_side else ""
    )
    reply = ctx.say(
        fill(ctx.content.sessions.texts.hold_go, hold=hold),
        title=title_of(ctx, state),
        buttons=rows(ctx, state),
    )
    reply.countdown_seconds = move.amount * (2 if move.per_side else 1) if left is None else left


def title_of(ctx: TurnContext, state: RunState) -> str:
    """The current move's name, with the variant chosen for it."""
    return _name(ctx.content.cards[state.move.card_id], state)


def rows(ctx: TurnContext, state: RunState) -> list[list[Button]]:
    return [
        [ctx.choice(label, value) for label, value in row]
        for row in options(state, ctx.content.sessions.texts)
    ]


def check_again(ctx: TurnContext) -> list[list[Button]]:
    """Under a refusal: a button to a new soreness check (where that feature is loaded)."""
    if TRIAGE_ACTION not in ctx.router.actions:
        return []
    return [[ctx.action(ctx.content.sessions.texts.check_again_button, TRIAGE_ACTION, "start")]]


def _name(card: Card, state: RunState) -> str:
    variant = state.variants.get(card.id)
    if variant == Variant.EASIER:
        return f"{card.name}: {card.easier.name}"
    if variant == Variant.HARDER:
        return f"{card.name}: {card.harder.name}"
    return card.name


def _how(card: Card, variant: Variant | None) -> str:
    if variant == Variant.EASIER:
        return f"**Easier:** {card.easier.how}"
    if variant == Variant.HARDER:
        return f"**Harder:** {card.harder.how}"
    return card.summary


def local_label(moment: datetime, with_time: bool = False) -> str:
    return moment.strftime("%a %d %b, %H:%M" if with_time else "%a %d %b")
