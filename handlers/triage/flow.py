"""Walking the triage tree: pure functions over recorded facts, with no database and no chat.

The dialog handler (handlers/triage.py) and the tests that walk every path both use these, so
what the tests prove about the tree is what runners get. Nothing here knows what the questions
are about: the tree comes from content/triage/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content.text import normalise
from bot.content.triage_schema import (
    BACK,
    DECIDE,
    NOT_SURE,
    UNSET,
    Option,
    Outcome,
    Question,
    Rule,
    Tests,
    TriageTree,
    typed_forms,
)

Facts = dict[str, str]

# "7", "7/10", "7 out of 10", "about 7" (after normalise(): punctuation became spaces).
_NUMBER = re.compile(r"^(?:about |around |roughly |maybe )?(\d{1,3})(?: (?:out )?(?:of )?10)?$")


@dataclass(frozen=True)
class Ask:
    question: Question


@dataclass(frozen=True)
class Decided:
    rule: Rule
    outcome: Outcome


Step = Ask | Decided


def holds(tests: Tests, facts: Facts) -> bool:
    """Every tested fact has one of its listed values (UNSET when never recorded)."""
    return all(facts.get(fact, UNSET) in wanted for fact, wanted in tests)


def rule_matches(rule: Rule, facts: Facts) -> bool:
    for fact, wanted in rule.when_tests:
        if facts.get(fact, UNSET) not in wanted:
            return False
    for fact, wanted in rule.unless_tests:
        if facts.get(fact, UNSET) in wanted:
            return False
    if rule.at_least is not None:
        hits = 0
        for test in rule.at_least_tests:
            hits += holds(test, facts)
        if hits < rule.at_least.n:
            return False
    return True


def decide(tree: TriageTree, facts: Facts) -> Decided:
    """The first rule that fits. The loader guarantees an unconditional last rule."""
    for rule in tree.rules:
        if rule_matches(rule, facts):
            return Decided(rule, tree.outcomes[rule.outcome])
    raise AssertionError("the last rule of a loaded tree has no conditions")


def _rule_facts(tree: TriageTree) -> frozenset[str]:
    cached = _RULE_FACTS.get(id(tree))
    if cached is not None and cached[0] is tree:
        return cached[1]
    facts: set[str] = set()
    for rule in tree.rules:
        facts |= {fact for fact, _ in (*rule.when_tests, *rule.unless_tests)}
        facts |= {fact for test in rule.at_least_tests for fact, _ in test}
    _RULE_FACTS[id(tree)] = (tree, frozenset(facts))
    return frozenset(facts)


_RULE_FACTS: dict[int, tuple[TriageTree, frozenset[str]]] = {}


def _ask_from(tree: TriageTree, start: int, facts: Facts) -> Step:
    """The first question from `start` on that applies and is not answered yet, else decide.

    A question no rule reads (it only picks tips, e.g. what changed in training) is skipped
    when the rules' decision is already final and is an escalation: escalations carry no tips,
    so the answer could change nothing the runner reads."""
    decisive = _rule_facts(tree)
    remaining = [
        q for q in tree.questions[start:] if q.records not in facts and holds(q.ask_if_tests, facts)
    ]
    for index, question in enumerate(remaining):
        tips_only = all(q.records not in decisive for q in remaining[index:])
        if tips_only and decide(tree, facts).outcome.escalation:
            break
        return Ask(question)
    return decide(tree, facts)


def first_step(tree: TriageTree, facts: Facts | None = None) -> Step:
    """Where a triage begins; known facts (e.g. the area, on a re-check) skip their questions."""
    return _ask_from(tree, 0, dict(facts or {}))


def answer(
    tree: TriageTree, question: Question, option: Option, facts: Facts
) -> tuple[Facts, Step]:
    """Record an answer; return the new facts and what comes next."""
    recorded = {**facts, question.records: option.value, **option.sets}
    if option.next == DECIDE:
        return recorded, decide(tree, recorded)
    if option.next is not None:
        return recorded, _ask_from(tree, tree.index_of(option.next), recorded)
    return recorded, _ask_from(tree, tree.index_of(question.id) + 1, recorded)


def read_typed(tree: TriageTree, question: Question, text: str) -> str | None:
    """The option value (or BACK) a typed message means, or None when it answers nothing."""
    typed = normalise(text)
    if not typed:
        return None
    if question.numbers is not None and (number := _NUMBER.match(typed)):
        return question.numbers.value_for(int(number.group(1)))
    not_sure = {normalise(w) for w in tree.texts.not_sure_words}
    for option in question.options:
        forms = typed_forms(option) | (not_sure if option.value == NOT_SURE else set())
        if typed in forms:
            return option.value
    if typed in {normalise(w) for w in tree.texts.back_words}:
        return BACK
    return None


def advice(tree: TriageTree, decided: Decided, facts: Facts) -> list[str]:
    """The next steps for this result: the rule's own, the outcome's that apply, fitting tips."""
    outcome = decided.outcome
    steps = list(decided.rule.steps)
    steps += [s.text for s in outcome.steps if holds(s.when_tests, facts)]
    steps += [t.text for t in tree.tips if outcome.id in t.outcomes and holds(t.when_tests, facts)]
    return steps
