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
from bot.content.plural import fill
from bot.content.schema import Card
from bot.content.text import normalise
from bot.content.triage_schema import BACK, Question, TriageTree, Triggers
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Button, Reply, ReplyIntent
from bot.engine.understanding import NO, YES, typed_yes_no, understand
from handlers.training.api import soreness_context
from handlers.triage import checkin_store
from handlers.triage.flow import Ask, Decided, Facts, Step, advice, answer, first_step
from handlers.triage.reports import (
    health_consent,
    link_training,
    save_report,
    set_health_consent,
)
from handlers.triage.start import START_ACTION as ACTION
from handlers.triage.state import Answered, Phase, TriageState
from handlers.triage.typed import prefill, read_answer

DIALOG = "triage"

CONSENT_YES, CONSENT_NO = YES, NO
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
    if phrases.search(said):
        return True
    if not symptoms.search(said):
        return False
    # A body or running word, or a body area the understanding layer reads (typos forgiven).
    return bool(context.search(said)) or "area" in understand(text, content.language).slots


async def sore(ctx: TurnContext) -> None:
    if ctx.in_group:
        texts = ctx.content.triage.texts
        ctx.say(
            texts.group_redirect,
            buttons=[[ctx.action(texts.group_button, ACTION, "start", private=True)]],
        )
        return
    event = ctx.event
    await begin(ctx, opener=event.args if event.command is not None else event.text or "")


def _state(ctx: TurnContext) -> TriageState:
    return ctx.state(TriageState)


def _keep(ctx: TurnContext, state: TriageState) -> None:
    # Each answer builds a changed copy (the Back stack keeps the earlier ones intact).
    ctx.set_state(state)


async def begin(
    ctx: TurnContext, facts: Facts | None = None, *, opener: str = "", run_id: int | None = None
) -> None:
    """Start a soreness check for this person (asking for consent the first time).

    `facts` already known skip their questions (e.g. the area, when a check-in re-runs the
    check): only "place" facts are taken. What the opening message says (the area, how
    long, a score) is filled in too and confirmed in one line. A jump in load the training
    log shows answers the "what changed" question (flow.yaml's `logged_load`) without asking.
    Red flags are always asked afresh. `run_id` names the run the soreness follows when the
    caller knows it (an after-run check-in); otherwise it is the latest run of today or
    yesterday.
    """
    tree = ctx.content.triage
    places = {q.records for q in tree.questions if q.kind == "place"}
    known = {fact: value for fact, value in (facts or {}).items() if fact in places}
    said = prefill(tree, understand(opener, ctx.content.language)) if opener else {}
    training = await soreness_context(ctx.session, ctx.user.id, ctx.now)
    logged = tree.logged_load_fact if training.load_jumped else None
    from_log = dict([logged]) if logged is not None else {}
    known = {**from_log, **said, **known}
    consent = await health_consent(ctx.session, ctx.user.id)
    phase = Phase.CONSENT if consent is None else Phase.ASK
    state = TriageState(
        phase=phase,
        facts=known,
        prefilled=said,
        load_jumped=logged is not None,
        run_id=run_id if run_id is not None else (training.run.id if training.run else None),
    )
    ctx.start_dialog(DIALOG, state)
    if consent is None:
        _ask_consent(ctx, tree)
    else:
        await _show(ctx, first_step(tree, known), lead=_lead(tree, state))


def _lead(tree: TriageTree, state: TriageState, before: str = "") -> str:
    """The intro, the one line confirming what the opening message told us, and the one
    saying the training log showed a jump in load."""
    parts = [before] if before else []
    parts.append(tree.texts.intro)
    if state.prefilled:
        said = state.prefilled.items()
        answers = "; ".join(tree.answer_label(fact, value) for fact, value in said)
        parts.append(tree.texts.prefilled.replace("{answers}", answers))
    if state.load_jumped:
        parts.append(tree.texts.load_noted)
    return "\n\n".join(parts)


# --- the dialog ------------------------------------------------------------------------------


async def on_answer(ctx: TurnContext, given: DialogInput) -> None:
    assert ctx.dialog is not None
    tree = ctx.content.triage
    state = _state(ctx)
    if state.phase == Phase.CONSENT:
        await _on_consent(ctx, tree, state, given)
        return
    question = tree.find(state.q)
    if question is None:  # new content was deployed while this dialog was open
        _say(ctx, _CONTENT_CHANGED)
        await begin(ctx)
        return
    value = _read(ctx, tree, question, given)
    if value is None:
        _ask(ctx, tree, state, question, lead=_reask_text(tree, question))
    elif value == BACK:
        await _go_back(ctx, tree, state, question)
    else:
        option = question.option(value)
        assert option is not None
        stack = [*state.stack, Answered(q=question.id, facts=state.facts)]
        facts, step = answer(tree, question, option, dict(state.facts))
        await _show(ctx, step, state=state.model_copy(update={"facts": facts, "stack": stack}))


def _read(ctx: TurnContext, tree: TriageTree, question: Question, given: DialogInput) -> str | None:
    if given.choice is not None:
        valid = given.choice == BACK or question.option(given.choice) is not None
        return given.choice if valid else None
    text = given.text or ""
    return read_answer(tree, question, text, understand(text, ctx.content.language))


async def _go_back(
    ctx: TurnContext, tree: TriageTree, state: TriageState, current: Question
) -> None:
    if not state.stack:
        _ask(ctx, tree, state, current)
        return
    previous = state.stack[-1]
    question = tree.find(previous.q)
    if question is None:
        _say(ctx, _CONTENT_CHANGED)
        await begin(ctx)
        return
    back = state.model_copy(update={"stack": state.stack[:-1], "facts": dict(previous.facts)})
    _ask(ctx, tree, back, question)


async def _show(
    ctx: TurnContext, step: Step, *, lead: str | None = None, state: TriageState | None = None
) -> None:
    tree = ctx.content.triage
    state = state or _state(ctx)
    if isinstance(step, Ask):
        _ask(ctx, tree, state, step.question, lead=lead)
    else:
        _keep(ctx, state)
        await _finish(ctx, tree, step)


def _ask(
    ctx: TurnContext,
    tree: TriageTree,
    state: TriageState,
    question: Question,
    *,
    lead: str | None = None,
) -> None:
    assert ctx.dialog is not None
    _keep(ctx, state.model_copy(update={"q": question.id}))
    rows = _rows([ctx.choice(o.label, o.value) for o in question.options])
    if state.stack:
        rows.append([ctx.choice(tree.texts.back_label, BACK)])
    text = f"{lead}\n\n{question.text}" if lead else question.text
    _say(ctx, text, buttons=rows, numeric_answer=question.numbers is not None)


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
    question = fill(texts.consent_question, days=tree.detail_retention_days)
    _say(
        ctx,
        f"{lead}\n\n{question}" if lead else question,
        buttons=[
            [ctx.choice(texts.consent_yes, CONSENT_YES), ctx.choice(texts.consent_no, CONSENT_NO)]
        ],
    )


async def _on_consent(
    ctx: TurnContext, tree: TriageTree, state: TriageState, given: DialogInput
) -> None:
    assert ctx.dialog is not None
    texts = tree.texts
    decision = given.choice or typed_yes_no(
        given.text or "",
        ctx.content.language,
        yes_label=texts.consent_yes,
        no_label=texts.consent_no,
    )
    if decision not in (CONSENT_YES, CONSENT_NO):
        _ask_consent(ctx, tree, lead=texts.reask)
        return
    granted = decision == CONSENT_YES
    await set_health_consent(ctx.session, ctx.user.id, granted, ctx.now)
    confirmation = texts.consent_saved if granted else texts.consent_declined
    state = state.model_copy(update={"phase": Phase.ASK})
    await _show(
        ctx,
        first_step(tree, state.facts),
        lead=_lead(tree, state, confirmation),
        state=state,
    )


# --- the result ------------------------------------------------------------------------------


async def _finish(ctx: TurnContext, tree: TriageTree, decided: Decided) -> None:
    state = _state(ctx)
    facts: Facts = dict(state.facts)
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
        await link_training(
            ctx.session, report_id, run_id=state.run_id, load_jumped=state.load_jumped
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
