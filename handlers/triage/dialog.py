"""The soreness check: /sore, plain words like "my abs are sore", and the private continuation
of a request made in a group.

This module runs the dialog (consent, questions, Back, re-asking, the result); what is asked
and decided comes from content/triage/ through handlers.triage_flow, so nothing here knows
what the questions are about. Health content never goes to a group: there, every reply is
sent privately (ReplyIntent.PRIVATE) and the public answer is only a pointer to a private chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.content.bundle import ContentBundle
from bot.content.schema import Card
from bot.content.text import normalise
from bot.content.triage_schema import BACK, Question, TriageTree, Triggers
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Button, Reply, ReplyIntent
from bot.engine.router import NO, YES, typed_yes_no
from handlers.triage import checkin_store
from handlers.triage.api import START_ACTION as ACTION
from handlers.triage.flow import Ask, Decided, Facts, Step, advice, answer, first_step, read_typed
from handlers.triage.reports import health_consent, save_report, set_health_consent

DIALOG = "triage"

CONSENT_YES, CONSENT_NO = YES, NO
_PHASE_CONSENT = "consent"
_PHASE_ASK = "ask"
_CONTENT_CHANGED = "My questions have changed since we started, so let's begin again."
# Button rows: short labels side by side, longer ones one per row (phone screens).
_ONE_ROW_MAX = 8
_TWO_PER_ROW_MAX = 16


# --- entry points ------------------------------------------------------------------------------


_Patterns = tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]
# Compiled once per content bundle (keyed by the Triggers object, which the bundle keeps alive).
_compiled: dict[int, tuple[Triggers, _Patterns]] = {}


def _trigger_patterns(triggers: Triggers) -> _Patterns:
    cached = _compiled.get(id(triggers))
    if cached is not None and cached[0] is triggers:
        return cached[1]

    def words(items: Sequence[str]) -> re.Pattern[str]:
        alternatives = sorted({re.escape(normalise(w)) for w in items}, key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")

    patterns = (words(triggers.phrases), words(triggers.symptoms), words(triggers.context))
    _compiled[id(triggers)] = (triggers, patterns)
    return patterns


def mentions_soreness(text: str, content: ContentBundle) -> bool:
    """A trigger phrase, or a symptom word together with a body or running word."""
    phrases, symptoms, context = _trigger_patterns(content.triage.triggers)
    said = normalise(text)
    return bool(phrases.search(said) or (symptoms.search(said) and context.search(said)))


async def sore(ctx: TurnContext) -> None:
    if ctx.in_group:
        texts = ctx.content.triage.texts
        ctx.say(
            texts.group_redirect,
            buttons=[[ctx.action(texts.group_button, ACTION, "start", private=True)]],
        )
        return
    await begin(ctx)


async def begin(ctx: TurnContext, facts: Facts | None = None) -> None:
    """Start a soreness check for this person (asking for consent the first time).

    `facts` already known skip their questions (e.g. the area, when a check-in re-runs the
    check). Only "place" facts are taken: red flags and the pattern are always asked afresh.
    """
    tree = ctx.content.triage
    places = {q.records for q in tree.questions if q.kind == "place"}
    known = {fact: value for fact, value in (facts or {}).items() if fact in places}
    consent = await health_consent(ctx.session, ctx.user.id)
    phase = _PHASE_CONSENT if consent is None else _PHASE_ASK
    ctx.start_dialog(DIALOG, {"phase": phase, "facts": known, "stack": []})
    if consent is None:
        _ask_consent(ctx, tree)
    else:
        await _show(ctx, first_step(tree, known), lead=tree.texts.intro)


# --- the dialog ------------------------------------------------------------------------------


async def on_answer(ctx: TurnContext, given: DialogInput) -> None:
    assert ctx.dialog is not None
    tree = ctx.content.triage
    data = ctx.dialog.data
    if data.get("phase") == _PHASE_CONSENT:
        await _on_consent(ctx, tree, given)
        return
    question = tree.find(str(data.get("q", "")))
    if question is None:  # new content was deployed while this dialog was open
        _say(ctx, _CONTENT_CHANGED)
        await begin(ctx)
        return
    value = _read(tree, question, given)
    if value is None:
        _ask(ctx, tree, question, lead=_reask_text(tree, question))
    elif value == BACK:
        await _go_back(ctx, tree, question)
    else:
        option = question.option(value)
        assert option is not None
        facts: Facts = dict(data.get("facts", {}))
        # New objects, never in-place changes: the engine stores `data` as a JSON column.
        data["stack"] = [*data.get("stack", []), {"q": question.id, "facts": facts}]
        facts, step = answer(tree, question, option, facts)
        data["facts"] = facts
        await _show(ctx, step)


def _read(tree: TriageTree, question: Question, given: DialogInput) -> str | None:
    if given.choice is not None:
        valid = given.choice == BACK or question.option(given.choice) is not None
        return given.choice if valid else None
    return read_typed(tree, question, given.text or "")


async def _go_back(ctx: TurnContext, tree: TriageTree, current: Question) -> None:
    assert ctx.dialog is not None
    stack: list[dict[str, Any]] = list(ctx.dialog.data.get("stack", []))
    if not stack:
        _ask(ctx, tree, current)
        return
    previous = stack.pop()
    question = tree.find(str(previous["q"]))
    if question is None:
        _say(ctx, _CONTENT_CHANGED)
        await begin(ctx)
        return
    ctx.dialog.data["stack"] = stack
    ctx.dialog.data["facts"] = dict(previous["facts"])
    _ask(ctx, tree, question)


async def _show(ctx: TurnContext, step: Step, *, lead: str | None = None) -> None:
    tree = ctx.content.triage
    if isinstance(step, Ask):
        _ask(ctx, tree, step.question, lead=lead)
    else:
        await _finish(ctx, tree, step)


def _ask(
    ctx: TurnContext, tree: TriageTree, question: Question, *, lead: str | None = None
) -> None:
    assert ctx.dialog is not None
    ctx.dialog.data["q"] = question.id
    rows = _rows([ctx.choice(o.label, o.value) for o in question.options])
    if ctx.dialog.data.get("stack"):
        rows.append([ctx.choice(tree.texts.back_label, BACK)])
    text = f"{lead}\n\n{question.text}" if lead else question.text
    _say(ctx, text, buttons=rows)


def _rows(buttons: list[Button]) -> list[list[Button]]:
    longest = max(len(b.label) for b in buttons)
    per_row = len(buttons) if longest <= _ONE_ROW_MAX else 2 if longest <= _TWO_PER_ROW_MAX else 1
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _reask_text(tree: TriageTree, question: Question) -> str:
    if question.numbers is None:
        return tree.texts.reask
    return f"{tree.texts.reask} {tree.texts.reask_numbers}"


# --- consent ---------------------------------------------------------------------------------


def _ask_consent(ctx: TurnContext, tree: TriageTree, *, lead: str | None = None) -> None:
    texts = tree.texts
    question = texts.consent_question.replace("{days}", str(tree.detail_retention_days))
    _say(
        ctx,
        f"{lead}\n\n{question}" if lead else question,
        buttons=[
            [ctx.choice(texts.consent_yes, CONSENT_YES), ctx.choice(texts.consent_no, CONSENT_NO)]
        ],
    )


async def _on_consent(ctx: TurnContext, tree: TriageTree, given: DialogInput) -> None:
    assert ctx.dialog is not None
    texts = tree.texts
    decision = given.choice or typed_yes_no(
        given.text or "", yes_label=texts.consent_yes, no_label=texts.consent_no
    )
    if decision not in (CONSENT_YES, CONSENT_NO):
        _ask_consent(ctx, tree, lead=texts.reask)
        return
    granted = decision == CONSENT_YES
    await set_health_consent(ctx.session, ctx.user.id, granted, ctx.now)
    ctx.dialog.data["phase"] = _PHASE_ASK
    confirmation = texts.consent_saved if granted else texts.consent_declined
    facts: Facts = dict(ctx.dialog.data.get("facts", {}))
    await _show(ctx, first_step(tree, facts), lead=f"{confirmation}\n\n{texts.intro}")


# --- the result ------------------------------------------------------------------------------


async def _finish(ctx: TurnContext, tree: TriageTree, decided: Decided) -> None:
    assert ctx.dialog is not None
    facts: Facts = dict(ctx.dialog.data.get("facts", {}))
    stored = await health_consent(ctx.session, ctx.user.id) is True
    report_id = None
    if stored:
        place = tree.place_fact
        report_id = await save_report(
            ctx.session,
            user_id=ctx.user.id,
            now=ctx.now,
            outcome=decided.outcome.id,
            rule=decided.rule.id,
            area=facts.get(place) if place else None,
            answers=facts,
        )
    ctx.end_dialog()
    cards = [ctx.content.cards[c] for c in decided.outcome.cards if c in ctx.content.cards]
    # Card buttons post a card where they are pressed; in a group that would be in public.
    buttons: list[list[Button]] = (
        [] if ctx.in_group else [[ctx.action(c.name, "card", c.id)] for c in cards]
    )
    _say(
        ctx,
        render_outcome(tree, decided, facts, stored=stored, cards=cards),
        title=decided.outcome.title,
        buttons=buttons,
    )
    if report_id is not None and decided.outcome.follow_up:
        checkin_store.offer(ctx, str(report_id))


def render_outcome(
    tree: TriageTree, decided: Decided, facts: Facts, *, stored: bool, cards: Sequence[Card]
) -> str:
    """The result message. It always ends with the outcome's line on when to seek help."""
    texts = tree.texts
    steps = "\n".join(f"• {step}" for step in advice(tree, decided, facts))
    run_today = f"**{texts.run_today_heading}** {decided.outcome.run_today}"
    parts = [decided.rule.reason, run_today, f"**{texts.steps_heading}**\n{steps}"]
    if cards:
        parts.append(f"{texts.cards_intro} {', '.join(c.name for c in cards)}.")
    if stored or decided.outcome.core_work_ok or not decided.outcome.follow_up:
        # "Get help now" (no follow-up) stays about that alone: nothing about sessions.
        parts.append(texts.stored_note if stored else texts.not_stored_note)
    else:  # nothing stored to hold core sessions back: say so (see handlers/session_screen.py)
        parts.append(f"{texts.not_stored_note} {texts.not_remembered_note}")
    parts.append(f"**{texts.seek_help_heading}:** {decided.outcome.seek_help}")
    return "\n\n".join(parts)


def _say(ctx: TurnContext, text: str, **kwargs: Any) -> Reply:
    """Every triage message: privately when the conversation happens in a group."""
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    return ctx.say(text, intent=intent, **kwargs)


async def start_action(ctx: TurnContext) -> None:
    """The "continue privately" button: reaches us from a private chat (Telegram deep link),
    or from the group itself where the platform answers privately (Discord ephemeral)."""
    await begin(ctx)
