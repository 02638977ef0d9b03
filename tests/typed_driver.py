"""Drive a soreness check through the real engine by TYPING, like a runner on a phone would:
an opening message, then typed answers (defaults for questions a case does not name)."""

from __future__ import annotations

from bot.content.bundle import ContentBundle
from tests.harness import Person
from tests.triage_driver import MAX_TURNS, current_question, finished

# A mild, flag-free soreness a day after a run, typed the way people type.
TYPED_DEFAULTS = {
    "area": "abs",
    "signs": "it eases",
    "duration": "since yesterday",
    "severity": "2",
    "change": "nothing new",
}
RED_FLAG_DEFAULT = "no"


def screened(content: ContentBundle, person: Person) -> str | None:
    """The outcome a red-flag screen's advice stands for, when the last turn gave one."""
    texts = content.triage.texts
    by_title = {
        texts.screen_title_urgent: texts.screen_outcome_urgent,
        texts.screen_title_same_day: texts.screen_outcome_same_day,
    }
    assert person.last_turn is not None
    for reply in person.last_turn.replies:
        if reply.title in by_title and reply.buttons:  # the screen offers to continue
            return by_title[reply.title]
    return None


async def run_typed(
    person: Person,
    content: ContentBundle,
    opener: str,
    typed: dict[str, str],
    *,
    consent: str = "yes",
) -> tuple[str, list[str]]:
    """(outcome id, question ids asked, in order)."""
    tree = content.triage
    await person.say(opener)
    asked: list[str] = []
    for _ in range(MAX_TURNS):
        outcome = screened(content, person) or finished(tree, person)
        if outcome is not None:
            return outcome, asked
        assert person.last_turn is not None
        reply = person.last_turn.replies[-1]
        if reply.text.endswith(tree.texts.consent_question.rsplit("\n", 1)[-1]):
            await person.say(consent)
            continue
        try:
            question = current_question(tree, reply)
        except AssertionError:
            return f"not a question: {reply.text[:60]!r}", asked
        asked.append(question.id)
        if question.id in typed:
            answer = typed[question.id]
        elif question.kind == "red_flag":
            answer = RED_FLAG_DEFAULT
        else:
            answer = TYPED_DEFAULTS[question.id]
        await person.say(answer)
    raise AssertionError(f"no outcome after {MAX_TURNS} turns: {asked}")
