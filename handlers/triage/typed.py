"""Typed answers read by meaning (bot/engine/understanding): a number on the score question is
the score, never a button index; "no fever" or "nope" clears a red-flag question; "I don't
know", "idk", "not sure" pick "not sure"; "sharp", "since my long run" pick their options.
And the facts an opening message already gives ("my abs hurt since my long run, dull, 3/10").
"""

from __future__ import annotations

from bot.content.triage_schema import NOT_SURE, Question, TriageTree
from bot.engine.understanding import Answer, Understanding
from handlers.triage.flow import Facts, read_typed

# The place question's answer when a message names several spots.
SEVERAL = "several"


def _clear_option(question: Question) -> str | None:
    return next((o.value for o in question.options if not o.flag and o.value != NOT_SURE), None)


def _flag_option(question: Question) -> str | None:
    return next((o.value for o in question.options if o.flag and o.value != NOT_SURE), None)


def _slot_value(question: Question, found: Understanding) -> str | None:
    values = found.slots.get(question.records, ())
    if question.kind == "place" and (len(values) > 1 or SEVERAL in values):
        return NOT_SURE if question.option(NOT_SURE) else None
    value = found.slot(question.records)
    return value if value is not None and question.option(value) is not None else None


def _option_by_facts(question: Question, found: Understanding) -> str | None:
    """The one option whose recorded facts (`sets`) agree with what the words said ("it keeps
    coming back after every run" → the option that sets course: recurring); None when no
    option, or more than one, fits (then the question is asked again)."""
    fitting = [
        o.value
        for o in question.options
        if o.sets and any(found.slot(fact) == value for fact, value in o.sets.items())
    ]
    return fitting[0] if len(fitting) == 1 else None


def read_answer(
    tree: TriageTree, question: Question, text: str, found: Understanding
) -> str | None:
    """The option a typed answer means, or BACK, or None when it answers nothing."""
    if question.numbers is not None:
        score = found.pain_score
        if score is not None:
            return question.numbers.value_for(score)
    exact = read_typed(tree, question, text)
    if exact is not None:
        return exact
    if found.answer is Answer.UNSURE and question.option(NOT_SURE):
        return NOT_SURE
    if question.kind == "red_flag":
        # Positive warning signs never get here: the screen answered them before routing.
        if found.answer is Answer.NO or (found.denied_flags and not found.red_flags):
            return _clear_option(question)
        if found.answer is Answer.YES:
            return _flag_option(question)
        return None
    slot = _slot_value(question, found) or _option_by_facts(question, found)
    if slot is not None:
        return slot
    if found.answer is Answer.NO and question.option("no"):
        return "no"
    if found.answer is Answer.YES and question.option("yes"):
        return "yes"
    return None


def prefill(tree: TriageTree, found: Understanding) -> Facts:
    """Place and pattern facts an opening message gives; red flags are always asked."""
    facts: Facts = {}
    for question in tree.questions:
        if question.kind == "red_flag":
            continue
        if question.numbers is not None and found.score is not None:
            value = question.numbers.value_for(found.score)
        else:
            value = _slot_value(question, found)
        if value is None or (value == NOT_SURE and question.kind != "place"):
            continue
        facts[question.records] = value
    return facts
