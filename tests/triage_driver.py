"""Drive a soreness check through the real engine by pressing buttons, like a runner would."""

from __future__ import annotations

from bot.content.triage_schema import Question, TriageTree
from bot.engine.events import Reply
from tests.harness import Person

# Pattern answers a case need not spell out.
DEFAULTS = {"duration": "short", "change": "none"}
# A mild, dull soreness that eases as you move: the everyday case ("continue").
MILD = {
    "area": "abs",
    "signs": "eases",
    "severity": "mild",
}
MAX_TURNS = 30


def current_question(tree: TriageTree, reply: Reply) -> Question:
    """The question a reply asks (its text ends with the question's text)."""
    for question in tree.questions:
        if reply.text.endswith(question.text):
            return question
    raise AssertionError(f"not a triage question: {reply.text[:80]!r}")


def outcome_of(tree: TriageTree, reply: Reply) -> str | None:
    return next((o.id for o in tree.outcomes.values() if reply.title == o.title), None)


def finished(tree: TriageTree, person: Person) -> str | None:
    """The outcome the last turn ended with (a check-in offer may follow it), or None."""
    assert person.last_turn is not None
    found = [outcome_of(tree, r) for r in person.last_turn.replies]
    return next((o for o in found if o is not None), None)


def answer_for(question: Question, answers: dict[str, str]) -> str:
    if question.id in answers:
        return answers[question.id]
    if question.kind == "red_flag":  # not named in a case: no warning sign
        return next(o.value for o in question.options if not o.flag)
    if question.id in DEFAULTS:
        return DEFAULTS[question.id]
    raise AssertionError(f"the case gives no answer to {question.id!r}")


async def run_triage(
    person: Person, tree: TriageTree, answers: dict[str, str], *, consent: bool = True
) -> tuple[str, list[str]]:
    """Start with /sore, answer by pressing buttons; (outcome id, question ids asked)."""
    await person.say("/sore")
    asked: list[str] = []
    for _ in range(MAX_TURNS):
        assert person.last_turn is not None
        reply = person.last_turn.replies[-1]
        outcome = finished(tree, person)
        if outcome is not None:
            assert person.dialog is None, "the dialog must end with the outcome"
            return outcome, asked
        if reply.text.endswith(tree.texts.consent_question.rsplit("\n", 1)[-1]):
            await person.press(tree.texts.consent_yes if consent else tree.texts.consent_no)
            continue
        question = current_question(tree, reply)
        asked.append(question.id)
        option = question.option(answer_for(question, answers))
        assert option is not None, (question.id, answers)
        await person.press(option.label)
    raise AssertionError(f"no outcome after {MAX_TURNS} turns: {asked}")
