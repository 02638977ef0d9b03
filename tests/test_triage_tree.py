"""The triage tree from content/triage/, walked along every path, and the wording of its results.

The walk enumerates every combination of answers the tree can receive: from the first question,
each option of the current question is answered with the real engine functions
(handlers.triage_flow.answer), recursively, until the rules decide. Typed answers map onto the
same options, so they add no paths.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pytest

from bot.content.bundle import ContentBundle
from bot.content.triage_schema import Option, Question, TriageTree
from handlers.triage.dialog import render_outcome
from handlers.triage.flow import Ask, Decided, Facts, Step, advice, answer, decide, first_step


@dataclass
class Walk:
    paths: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    questions: set[str] = field(default_factory=set)
    options: set[tuple[str, str]] = field(default_factory=set)
    flagged_paths: int = 0
    longest: int = 0
    # How many questions each path asked, by the outcome it ended in.
    lengths: dict[str, list[int]] = field(default_factory=dict)
    # One set of facts per rule, to render each result in the wording tests.
    sample_facts: dict[str, Facts] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _trail(chosen: list[tuple[Question, Option]]) -> str:
    return " > ".join(f"{q.id}={o.value}" for q, o in chosen)


def walk_tree(tree: TriageTree) -> Walk:
    result = Walk()
    kinds_order = {"place": 0, "red_flag": 1, "pattern": 2}

    def go(step: Step, facts: Facts, chosen: list[tuple[Question, Option]]) -> None:
        if isinstance(step, Decided):
            _check_path(step, facts, chosen)
            return
        question = step.question
        if any(q.id == question.id for q, _ in chosen):
            result.problems.append(f"loop: {question.id} asked twice after {_trail(chosen)}")
            return
        if len(chosen) > len(tree.questions):
            result.problems.append(f"path longer than the tree: {_trail(chosen)}")
            return
        if not question.options:
            result.problems.append(f"dead end at {question.id} after {_trail(chosen)}")
            return
        result.questions.add(question.id)
        for option in question.options:
            result.options.add((question.id, option.value))
            new_facts, next_step = answer(tree, question, option, facts)
            go(next_step, new_facts, [*chosen, (question, option)])

    def _check_path(step: Decided, facts: Facts, chosen: list[tuple[Question, Option]]) -> None:
        result.paths += 1
        result.outcomes[step.outcome.id] += 1
        result.rules[step.rule.id] += 1
        result.sample_facts.setdefault(step.rule.id, dict(facts))
        result.longest = max(result.longest, len(chosen))
        result.lengths.setdefault(step.outcome.id, []).append(len(chosen))
        if step.outcome.id not in tree.outcomes:
            result.problems.append(f"unknown outcome {step.outcome.id} after {_trail(chosen)}")
        ranks = [kinds_order[q.kind] for q, _ in chosen]
        if ranks != sorted(ranks):
            result.problems.append(f"a red flag came after a pattern question: {_trail(chosen)}")
        flags = [i for i, (_, o) in enumerate(chosen) if o.flag]
        if flags:
            result.flagged_paths += 1
            if not step.outcome.escalation:
                result.problems.append(f"red flag ended in {step.outcome.id}: {_trail(chosen)}")
            if flags[0] != len(chosen) - 1:
                result.problems.append(f"questions went on after a red flag: {_trail(chosen)}")

    go(first_step(tree), {}, [])
    return result


@pytest.fixture(scope="module")
def tree(content: ContentBundle) -> TriageTree:
    return content.triage


@pytest.fixture(scope="module")
def walked(tree: TriageTree) -> Walk:
    return walk_tree(tree)


def test_every_path_ends_in_an_outcome_without_loops_or_dead_ends(
    tree: TriageTree, walked: Walk
) -> None:
    assert walked.problems == []
    assert walked.paths == sum(walked.outcomes.values()) > 1000
    assert walked.longest <= len(tree.questions)


def test_every_red_flag_answer_escalates_and_stops(tree: TriageTree, walked: Walk) -> None:
    # The walk reports any flag answer that does not end the path in an escalation; check it
    # met every flag answer of every red-flag question.
    flag_options = {
        (q.id, o.value) for q in tree.questions if q.kind == "red_flag" for o in q.options if o.flag
    }
    assert flag_options <= walked.options
    assert walked.flagged_paths >= len(flag_options)
    assert not [p for p in walked.problems if "red flag" in p]


def test_red_flags_are_screened_before_any_pattern_question(tree: TriageTree) -> None:
    step = first_step(tree)
    asked: list[Question] = []
    facts: Facts = {}
    # Follow the clear answers: every red-flag question that applies comes before the pattern.
    while isinstance(step, Ask):
        asked.append(step.question)
        option = next(o for o in step.question.options if not o.flag)
        facts, step = answer(tree, step.question, option, facts)
    kinds = [q.kind for q in asked]
    assert "red_flag" in kinds
    assert kinds.index("pattern") > max(i for i, k in enumerate(kinds) if k == "red_flag")


def test_every_area_gets_one_screen_that_covers_every_red_flag(tree: TriageTree) -> None:
    # One safety question for every area, with every warning sign in it: the emergency list
    # and the signs that need a doctor (back nerves, hip stress fracture, pregnancy, pain
    # lasting over a week), each a button of its own; "not sure" counts as a flag.
    area = tree.questions[0]
    for option in area.options:
        facts, step = answer(tree, area, option, {})
        screens = []
        while isinstance(step, Ask) and step.question.kind == "red_flag":
            screens.append(step.question.id)
            clear = next(o for o in step.question.options if not o.flag)
            facts, step = answer(tree, step.question, clear, facts)
        assert screens == ["rf_general"], option.value
    screen = tree.find("rf_general")
    assert screen is not None
    flags = {o.value for o in screen.options if o.flag}
    assert flags == {"yes", "leg", "hip", "pregnant", "long", "not_sure"}
    text = screen.text.casefold()
    for sign in (
        "chest pain",
        "faint",
        "fever",
        "navel",
        "bulge",
        "blood in your urine",
        "numbness or tingling in your groin",
        "bladder or bowels",
        "tearing pain",
        "weakness in a leg",
        "limp",
        "at night",
        "pregnant",
        "more than a week",
    ):
        assert sign in text, sign
    escalates = {o.value: decide(tree, {"rf_general": o.value}).outcome.id for o in screen.options}
    assert escalates == {
        "none": tree.rules[-1].outcome,  # nothing else known: the catch-all
        "yes": "urgent",
        "leg": "doctor",
        "hip": "doctor",
        "pregnant": "doctor",
        "long": "doctor",
        "not_sure": "doctor",
    }


def test_every_question_option_outcome_and_rule_is_reachable(
    tree: TriageTree, walked: Walk
) -> None:
    assert walked.questions == {q.id for q in tree.questions}
    assert walked.options == {(q.id, o.value) for q in tree.questions for o in q.options}
    assert set(walked.outcomes) == set(tree.outcomes)
    # All but the final catch-all (a safety net for content changes) decide some path.
    unused = [r.id for r in tree.rules[:-1] if walked.rules[r.id] == 0]
    assert unused == []


def test_the_catch_all_escalates(tree: TriageTree) -> None:
    decided = decide(tree, {"area": "abs"})  # nothing the pattern rules can use
    assert decided.rule.id == tree.rules[-1].id
    assert decided.outcome.escalation


# --- wording of every result ------------------------------------------------------------------

# Certain diagnoses ("you have a strain", "this is DOMS") are never allowed.
CERTAIN = re.compile(
    r"\b(you have (a|an)|you've got|this is (a|an|ordinary|just|only|doms)|it is (a|an|just)|"
    r"it's (a|an|just)|definitely|certainly|for sure|diagnos\w*|nothing to worry)\b",
    re.I,
)
CONDITION = re.compile(
    r"\b(strain\w*|tear|torn|soreness|doms|stitch\w*|fracture|hernia|appendix|nerves?|"
    r"injury|bruise)\b",
    re.I,
)
HEDGE = re.compile(
    r"\b(may|might|can|could|sounds like|likely|typical|usually|possible|often|hints at|"
    r"signs of|rule it out|can't rule|should not be treated)\b",
    re.I,
)
HELP = re.compile(r"\b(doctor|physiotherapist|emergency|medical|urgent help)\b", re.I)
EXERCISE = re.compile(
    r"\b(stretch\w*|foam|plank|bridge|dead bug|bird dog|warm|cold pack|core work|run at)\b",
    re.I,
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def test_reasons_never_state_a_diagnosis_as_certain(tree: TriageTree) -> None:
    for rule in tree.rules:
        for sentence in _sentences(rule.reason):
            assert not CERTAIN.search(sentence), (rule.id, sentence)
            if CONDITION.search(sentence):
                assert HEDGE.search(sentence), (rule.id, sentence)
    other = [o.title for o in tree.outcomes.values()] + [t.text for t in tree.tips]
    other += [s.text for o in tree.outcomes.values() for s in o.steps]
    other += [step for r in tree.rules for step in r.steps]
    for text in other:
        assert not CERTAIN.search(text), text


@pytest.mark.parametrize("stored", [True, False])
def test_every_result_message_ends_with_when_to_seek_help(
    tree: TriageTree, walked: Walk, content: ContentBundle, stored: bool
) -> None:
    assert set(walked.sample_facts) >= {r.id for r in tree.rules[:-1]}
    for facts in walked.sample_facts.values():
        decided = decide(tree, facts)
        cards = [content.cards[c] for c in decided.outcome.cards]
        text = render_outcome(tree, decided, facts, stored=stored, cards=cards)
        assert text.endswith(decided.outcome.seek_help), decided.rule.id
        last_paragraph = text.rsplit("\n\n", 1)[-1]
        assert HELP.search(last_paragraph), decided.outcome.id
        assert not CERTAIN.search(text), decided.rule.id


def test_escalations_give_no_exercise_advice(tree: TriageTree, walked: Walk) -> None:
    escalations = [o for o in tree.outcomes.values() if o.escalation]
    assert {o.id for o in escalations} >= {"urgent", "doctor"}
    for outcome in escalations:
        assert outcome.cards == []
        assert not outcome.core_work_ok
        assert not [t for t in tree.tips if outcome.id in t.outcomes]
    for rule_id, facts in walked.sample_facts.items():
        decided = decide(tree, facts)
        if decided.outcome.escalation:
            text = render_outcome(tree, decided, facts, stored=False, cards=[])
            assert not EXERCISE.search(text), (rule_id, EXERCISE.search(text))


def test_exercise_outcomes_link_cards_and_urgent_says_how_to_get_help(tree: TriageTree) -> None:
    assert tree.outcomes["continue"].cards and tree.outcomes["active"].cards
    assert tree.outcomes["rest"].cards == []
    urgent = " ".join(s.text for s in tree.outcomes["urgent"].steps)
    assert re.search(r"\b(112|999|911)\b", urgent)
    assert "emergency" in urgent


def test_a_known_area_skips_only_its_own_question(tree: TriageTree) -> None:
    # A check-in that re-runs the check knows the area: the red flags still come first.
    step = first_step(tree, {"area": "lower_back"})
    assert isinstance(step, Ask) and step.question.id == "rf_general"


def test_every_outcome_answers_can_i_run_today(tree: TriageTree) -> None:
    for outcome in tree.outcomes.values():
        first = outcome.run_today.split()[0].strip(":,.").casefold()
        assert first in {"yes", "no", "easy"}, outcome.id
        if first != "yes":  # until when
            assert re.search(r"\b(until|once|then|days?)\b", outcome.run_today), outcome.id


def test_unsure_answers_never_take_a_mild_flag_free_case_past_rest(
    tree: TriageTree, walked: Walk
) -> None:
    allowed = {"continue", "active", "rest"}
    checked = 0
    for facts in walked.sample_facts.values():
        if facts.get("severity") != "mild":
            continue
        unsure = {k: "not_sure" for k in ("signs", "duration")}
        clear = {q.records: "none" for q in tree.questions if q.id == "rf_general"}
        decided = decide(tree, {**facts, **unsure, **clear})
        assert decided.outcome.id in allowed, decided.rule.id
        checked += 1
    assert checked


# --- how many questions a check takes ----------------------------------------------------------

# The targets (issue 15, point 5): a mild self-care case in at most 5 questions (median),
# any case that is not "get medical help now" in at most 8 (median and longest path).
MILD_MEDIAN = 5
NON_URGENT_MAX = 8


def disposition_classes(tree: TriageTree) -> dict[str, set[str]]:
    """Outcome ids by class, from the content: urgent is the outcome the red-flag screen uses
    for "get medical help now"; mild self-care is every outcome that lets the runner run today
    (no escalation, and its answer to "can I run today?" is yes); non-urgent is all the rest."""
    urgent = {tree.texts.screen_outcome_urgent}
    mild = {
        o.id
        for o in tree.outcomes.values()
        if not o.escalation and o.run_today.split()[0].strip(",.:").casefold() == "yes"
    }
    return {"urgent": urgent, "mild self-care": mild, "non-urgent": set(tree.outcomes) - urgent}


def question_count_report(tree: TriageTree, walked: Walk) -> dict[str, tuple[float, int, int]]:
    """(median, max, paths) of the questions asked, per class, over every button-only path."""
    report = {}
    for name, ids in disposition_classes(tree).items():
        counts = [n for outcome in ids for n in walked.lengths.get(outcome, [])]
        report[name] = (statistics.median(counts), max(counts), len(counts))
    return report


def test_questions_per_disposition_stay_within_the_targets(tree: TriageTree, walked: Walk) -> None:
    classes = disposition_classes(tree)
    assert classes["urgent"] == {"urgent"} and classes["mild self-care"] == {"continue"}
    report = question_count_report(tree, walked)
    per_outcome = {
        o: (statistics.median(n), max(n), len(n)) for o, n in sorted(walked.lengths.items())
    }
    print("\nquestions asked over every button-only path (median/max/paths):")
    for name, figures in [*report.items(), *((f"outcome {o}", f) for o, f in per_outcome.items())]:
        print(f"  {name}: {figures[0]}/{figures[1]}/{figures[2]}")
    median, _, _ = report["mild self-care"]
    assert median <= MILD_MEDIAN
    median, longest, _ = report["non-urgent"]
    assert median <= NON_URGENT_MAX and longest <= NON_URGENT_MAX


def test_training_load_is_asked_wherever_advice_follows(tree: TriageTree) -> None:
    # Overuse is still named when load went up: on every path that ends in self-care advice,
    # the training question is asked (only a stitch that has gone ends sooner), and "more
    # distance" there names overuse in the advice.
    change = tree.find("change")
    assert change is not None
    missed: list[str] = []

    def go(step: Step, facts: Facts, trail: list[str]) -> None:
        if isinstance(step, Decided):
            gone_stitch = facts.get("stitch") == "yes"
            if not step.outcome.escalation and "change" not in trail and not gone_stitch:
                missed.append(" > ".join(trail))
            if step.outcome.escalation or "change" not in trail:
                return
            loaded = {**facts, "change": "mileage"}
            text = " ".join(advice(tree, decide(tree, loaded), loaded))
            if "overuse" not in text:
                missed.append(" > ".join([*trail, "no overuse named"]))
            return
        for option in step.question.options:
            new_facts, next_step = answer(tree, step.question, option, facts)
            go(next_step, new_facts, [*trail, step.question.id])

    go(first_step(tree), {}, [])
    assert missed == []
