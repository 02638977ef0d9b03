"""The soreness-triage tree as data: its schema and the structural checks the schema alone
cannot make (references between files, ordering, every question answerable with "not sure").

The tree lives in four files of content/triage/:
- flow.yaml: the questions, in the order they are asked;
- rules.yaml: an ordered list of rules (conditions over the recorded facts → outcome);
- outcomes.yaml: what each outcome says and recommends, plus tips added by condition;
- texts.yaml: the dialog's fixed messages, trigger words and the retention period.

Every problem is reported with the file and line it comes from.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from bot.content.plural import is_forms
from bot.content.schema import Line, Paragraph, Slug, Strict, check_placeholders
from bot.content.text import normalise
from bot.content.yamlsource import Loc, Problem, read_yaml, validate

NOT_SURE = "not_sure"  # every question must offer this answer
DECIDE = "decide"  # an option's `next` that ends the questions and applies the rules
BACK = "back"  # the choice of the Back button; no option may use it
# A condition may test that a fact was never recorded (its question was skipped).
UNSET = "unset"
MAX_LABEL = 30  # button labels stay short enough for a phone screen

ButtonLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL)
]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
# fact → the value, or any of several values, it must have
Condition = dict[Slug, Slug | list[Slug]]

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
MAX_REASON_SENTENCES = 2


# A condition compiled for fast evaluation: (fact, the values it may have) pairs.
Tests = tuple[tuple[str, frozenset[str]], ...]


def condition_items(condition: Condition) -> Iterator[tuple[str, list[str]]]:
    for fact, wanted in condition.items():
        yield fact, [wanted] if isinstance(wanted, str) else list(wanted)


def compile_condition(condition: Condition) -> Tests:
    return tuple((fact, frozenset(wanted)) for fact, wanted in condition_items(condition))


class Option(Strict):
    value: Slug
    label: ButtonLabel
    # Typed words that also pick this option (besides its label).
    words: list[Word] = Field(default_factory=list)
    # A later question to jump to, or "decide"; by default the next question that applies.
    next: Slug | None = None
    # Extra facts this answer records.
    sets: dict[Slug, Slug] = Field(default_factory=dict)
    # On a red-flag question: choosing this means a warning sign is (or may be) present.
    flag: bool = False
    # The answer a logged jump in training load gives without asking (a pattern question's
    # "more distance"): the training log knows it, so the person is not asked.
    logged_load: bool = False


class NumberRange(Strict):
    upto: int
    value: Slug


class Numbers(Strict):
    """Typed numbers accepted as answers, mapped onto option values by ranges."""

    min: int
    max: int
    ranges: list[NumberRange] = Field(min_length=1)

    @model_validator(mode="after")
    def _ranges_cover_min_to_max(self) -> Numbers:
        bounds = [r.upto for r in self.ranges]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError("ranges must be in increasing order of `upto`")
        if self.min > bounds[0] or bounds[-1] != self.max:
            raise ValueError("ranges must cover min to max exactly")
        return self

    def value_for(self, number: int) -> str | None:
        if not self.min <= number <= self.max:
            return None
        return next(r.value for r in self.ranges if number <= r.upto)


class Question(Strict):
    id: Slug
    # place: asked before the red flags (to pick which ones apply); red_flag: the safety
    # screen; pattern: everything else. The flow must keep this order.
    kind: Literal["place", "red_flag", "pattern"]
    text: Paragraph
    # The fact this question records; defaults to the question id.
    fact: Slug | None = None
    # Ask only when these facts hold (e.g. back-specific red flags when the area is the back).
    ask_if: Condition = Field(default_factory=dict)
    options: list[Option] = Field(min_length=2, max_length=8)
    numbers: Numbers | None = None

    @property
    def records(self) -> str:
        return self.fact or self.id

    @cached_property
    def ask_if_tests(self) -> Tests:
        return compile_condition(self.ask_if)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


class AtLeast(Strict):
    n: int = Field(ge=1)
    of: list[Condition] = Field(min_length=1)

    @model_validator(mode="after")
    def _enough_tests(self) -> AtLeast:
        if len(self.of) < self.n:
            raise ValueError("`of` needs at least `n` tests")
        return self


class Rule(Strict):
    id: Slug
    # All of these must hold...
    when: Condition = Field(default_factory=dict)
    # ...none of these may hold...
    unless: Condition = Field(default_factory=dict)
    # ...and at least `n` of the single-fact tests in `of`.
    at_least: AtLeast | None = None
    outcome: Slug
    # Why this outcome fits these answers, in one or two sentences, never a certain diagnosis.
    reason: Paragraph
    # Next steps specific to this rule, shown before the outcome's own.
    steps: list[Line] = Field(default_factory=list)

    @field_validator("reason")
    @classmethod
    def _one_or_two_sentences(cls, reason: str) -> str:
        if len(_SENTENCE_END.findall(reason)) > MAX_REASON_SENTENCES:
            raise ValueError(f"a reason has at most {MAX_REASON_SENTENCES} sentences")
        return reason

    @property
    def unconditional(self) -> bool:
        return not self.when and not self.unless and self.at_least is None

    @cached_property
    def when_tests(self) -> Tests:
        return compile_condition(self.when)

    @cached_property
    def unless_tests(self) -> Tests:
        # "none of these may hold": each fact is a separate test
        return compile_condition(self.unless)

    @cached_property
    def at_least_tests(self) -> tuple[Tests, ...]:
        return tuple(compile_condition(t) for t in self.at_least.of) if self.at_least else ()


class Advice(Strict):
    text: Line
    when: Condition = Field(default_factory=dict)

    @cached_property
    def when_tests(self) -> Tests:
        return compile_condition(self.when)


class Outcome(Strict):
    id: Slug
    title: Line
    # The answer to "can I run today?": yes / easy only / no, and until when.
    run_today: Line
    # urgent/doctor-like outcomes: no exercise advice, no cards, no tips.
    escalation: bool
    # False where no core work should be done for now (the session feature checks this).
    core_work_ok: bool
    steps: list[Advice] = Field(min_length=1)
    # Exercise cards that suit this outcome; only where exercise is safe.
    cards: list[Slug] = Field(default_factory=list)
    # The closing line: when to seek help. Every outcome message ends with it.
    seek_help: Paragraph
    # Offer a check-in a day or two later (not after "get help now": that is in others' hands).
    follow_up: bool

    @model_validator(mode="after")
    def _no_exercise_when_escalating(self) -> Outcome:
        if self.escalation and self.core_work_ok:
            raise ValueError("an escalation outcome cannot allow core work")
        if self.cards and not self.core_work_ok:
            raise ValueError("cards are only linked where core work is safe (core_work_ok)")
        return self


class Tip(Strict):
    """Advice added to some outcomes when its facts hold (e.g. the 10 % rule after a jump)."""

    when: Condition = Field(min_length=1)
    outcomes: list[Slug] = Field(min_length=1)
    text: Line

    @cached_property
    def when_tests(self) -> Tests:
        return compile_condition(self.when)


class Flow(Strict):
    questions: list[Question] = Field(min_length=1)
    sources: list[Line] = Field(min_length=1)


class RuleList(Strict):
    rules: list[Rule] = Field(min_length=1)
    sources: list[Line] = Field(min_length=1)


class OutcomeList(Strict):
    outcomes: list[Outcome] = Field(min_length=1)
    tips: list[Tip] = Field(default_factory=list)
    sources: list[Line] = Field(min_length=1)


class Triggers(Strict):
    """Plain words that start a triage: a phrase alone, or a symptom word with a body/run word."""

    phrases: list[Word] = Field(min_length=1)
    symptoms: list[Word] = Field(min_length=1)
    context: list[Word] = Field(min_length=1)


class TriageTexts(Strict):
    intro: Paragraph
    consent_question: Paragraph
    consent_yes: ButtonLabel
    consent_no: ButtonLabel
    consent_saved: Line
    consent_declined: Line
    reask: Line
    reask_numbers: Line
    # One line confirming what the opening message said; {answers} lists them.
    prefilled: Line
    not_sure_words: list[Word] = Field(min_length=1)
    back_label: ButtonLabel
    back_words: list[Word] = Field(min_length=1)
    stored_note: Line
    not_stored_note: Line
    not_remembered_note: Line
    cards_intro: Line
    group_redirect: Paragraph
    group_button: ButtonLabel
    history_private_only: Line
    history_button: ButtonLabel
    history_intro: Line
    history_empty: Line
    history_not_stored: Line
    history_after_run: Line
    history_load_jump: Line
    load_noted: Paragraph
    screen_title_urgent: Line
    screen_title_same_day: Line
    # The outcome whose steps and seek-help line follow a screened red flag, by disposition.
    screen_outcome_urgent: Slug
    screen_outcome_same_day: Slug
    screen_group_pointer: Line
    screen_continue: Line
    screen_continue_button: ButtonLabel
    # The closing heading before each outcome's seek-help line.
    seek_help_heading: Line
    run_today_heading: Line
    steps_heading: Line
    sources: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders(self) -> TriageTexts:
        check_placeholders(
            self,
            {
                "consent_question": ["days"],
                "prefilled": ["answers"],
                "history_after_run": ["distance", "day"],
            },
        )
        return self

    @field_validator("consent_question")
    @classmethod
    def _names_the_retention(cls, text: str) -> str:
        try:
            fields = [(f, spec) for _, f, spec, _ in string.Formatter().parse(text) if f]
        except ValueError as exc:
            raise ValueError(f"broken {{placeholder}} ({exc})") from None
        if "days" not in {f for f, _ in fields}:
            raise ValueError("consent_question must say how long answers are kept: use {days}")
        for name, spec in fields:
            if name != "days" or (spec and not is_forms(spec)):
                shown = f"{name}:{spec}" if spec else name
                raise ValueError(
                    f"only {{days}} or {{days:one|other}} may be used, not {{{shown}}}"
                )
        return text


class TriageSettingsFile(Strict):
    texts: TriageTexts
    triggers: Triggers
    # Detailed answers are kept this long, then reduced to the outcome (retention job).
    detail_retention_days: int = Field(ge=1, le=3650)


@dataclass(frozen=True)
class TriageTree:
    questions: list[Question]
    rules: list[Rule]
    outcomes: dict[str, Outcome]
    tips: list[Tip]
    texts: TriageTexts
    triggers: Triggers
    detail_retention_days: int
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def find(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def index_of(self, question_id: str) -> int:
        return self._index[question_id]

    def __post_init__(self) -> None:
        self._index.update((q.id, i) for i, q in enumerate(self.questions))

    @property
    def place_fact(self) -> str | None:
        """The fact saying where it hurts (kept with each report, and after retention)."""
        return next((q.records for q in self.questions if q.kind == "place"), None)

    @property
    def logged_load_fact(self) -> tuple[str, str] | None:
        """The fact and value a logged jump in load answers (flow.yaml's `logged_load`)."""
        for question in self.questions:
            for option in question.options:
                if option.logged_load:
                    return question.records, option.value
        return None

    def answer_label(self, fact: str, value: str) -> str:
        for question in self.questions:
            option = question.option(value) if question.records == fact else None
            if option is not None:
                return option.label
        return value.replace("_", " ")


_FILES = ("flow.yaml", "rules.yaml", "outcomes.yaml", "texts.yaml")
M = TypeVar("M", bound=BaseModel)


@dataclass
class _Source:
    path: Path
    lines: dict[Loc, int]

    def problem(self, loc: Loc, message: str) -> Problem:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return Problem(self.path, self.lines[loc[:end]], message)
        return Problem(self.path, 1, message)


def _load(path: Path, model: type[M], problems: list[Problem]) -> tuple[M | None, _Source]:
    data, lines, found = read_yaml(path)
    source = _Source(path, lines)
    if found:
        problems.extend(found)
        return None, source
    item, found = validate(path, model, data, lines)
    problems.extend(found)
    return item, source


def load_triage(folder: Path, problems: list[Problem]) -> TriageTree | None:
    """Load and cross-check content/triage/; None (with problems added) when anything is off."""
    if not folder.is_dir():
        problems.append(Problem(folder, 1, "folder is missing"))
        return None
    before = len(problems)
    flow, flow_src = _load(folder / _FILES[0], Flow, problems)
    rules, rules_src = _load(folder / _FILES[1], RuleList, problems)
    outcomes, outcomes_src = _load(folder / _FILES[2], OutcomeList, problems)
    settings, _ = _load(folder / _FILES[3], TriageSettingsFile, problems)
    if flow is None or rules is None or outcomes is None or settings is None:
        return None
    _check_flow(flow, flow_src, problems)
    facts = _fact_values(flow)
    _check_rules(flow, rules, outcomes, facts, rules_src, problems)
    _check_outcomes(outcomes, facts, outcomes_src, problems)
    if len(problems) > before:
        return None
    return TriageTree(
        questions=flow.questions,
        rules=rules.rules,
        outcomes={o.id: o for o in outcomes.outcomes},
        tips=outcomes.tips,
        texts=settings.texts,
        triggers=settings.triggers,
        detail_retention_days=settings.detail_retention_days,
    )


def _fact_values(flow: Flow) -> dict[str, set[str]]:
    """Every fact the flow can record, with every value it can take."""
    values: dict[str, set[str]] = {}
    for question in flow.questions:
        known = values.setdefault(question.records, {UNSET})
        for option in question.options:
            known.add(option.value)
            for fact, value in option.sets.items():
                values.setdefault(fact, {UNSET}).add(value)
    return values


def _check_condition(
    condition: Condition,
    facts: dict[str, set[str]],
    source: _Source,
    loc: Loc,
    problems: list[Problem],
) -> None:
    for fact, wanted in condition_items(condition):
        if fact not in facts:
            problems.append(source.problem((*loc, fact), f"no question records the fact {fact!r}"))
            continue
        for value in wanted:
            if value not in facts[fact]:
                choices = ", ".join(sorted(facts[fact]))
                problems.append(
                    source.problem(
                        (*loc, fact), f"fact {fact!r} never has the value {value!r} ({choices})"
                    )
                )


_KIND_ORDER = {"place": 0, "red_flag": 1, "pattern": 2}


def _check_flow(flow: Flow, src: _Source, problems: list[Problem]) -> None:
    ids = [q.id for q in flow.questions]
    facts = _fact_values(flow)
    if DECIDE in ids:
        problems.append(src.problem(("questions",), f"no question may be called {DECIDE!r}"))
    rank = 0
    for index, question in enumerate(flow.questions):
        loc: Loc = ("questions", index)
        if ids.count(question.id) > 1:
            problems.append(src.problem((*loc, "id"), f"question id {question.id!r} repeats"))
        if _KIND_ORDER[question.kind] < rank:
            problems.append(
                src.problem(
                    (*loc, "kind"),
                    f"a {question.kind} question must come before every red_flag/pattern "
                    "question it follows: red flags are screened before the pattern",
                )
            )
        rank = max(rank, _KIND_ORDER[question.kind])
        _check_condition(question.ask_if, facts, src, (*loc, "ask_if"), problems)
        values = [o.value for o in question.options]
        if NOT_SURE not in values:
            problems.append(
                src.problem((*loc, "options"), f"question {question.id!r} has no 'not_sure' option")
            )
        for o_index, option in enumerate(question.options):
            o_loc: Loc = (*loc, "options", o_index)
            if values.count(option.value) > 1:
                problems.append(src.problem((*o_loc, "value"), f"value {option.value!r} repeats"))
            if option.value == BACK:
                problems.append(src.problem((*o_loc, "value"), f"{BACK!r} is the Back button"))
            if option.next is not None and option.next != DECIDE:
                if option.next not in ids:
                    problems.append(src.problem((*o_loc, "next"), f"no question {option.next!r}"))
                elif ids.index(option.next) <= index:
                    problems.append(
                        src.problem((*o_loc, "next"), "next must be a later question (no loops)")
                    )
            if question.kind == "red_flag":
                if option.value == NOT_SURE and not option.flag:
                    problems.append(
                        src.problem(
                            (*o_loc, "flag"),
                            "'not sure' on a red-flag question must count as a flag",
                        )
                    )
                if option.flag and option.next != DECIDE:
                    problems.append(
                        src.problem((*o_loc, "next"), "a red-flag answer must stop: next: decide")
                    )
            elif option.flag:
                problems.append(
                    src.problem((*o_loc, "flag"), "only red_flag questions have flag answers")
                )
            if option.logged_load and question.kind != "pattern":
                problems.append(
                    src.problem(
                        (*o_loc, "logged_load"),
                        "only a pattern question's answer can come from the training log "
                        "(warning signs are always asked)",
                    )
                )
        _check_typed_words(question, src, loc, problems)
        if question.kind == "red_flag" and all(o.flag for o in question.options):
            problems.append(
                src.problem((*loc, "options"), "a red-flag question needs a clear answer")
            )
        if question.numbers is not None:
            for r_index, number_range in enumerate(question.numbers.ranges):
                if number_range.value not in values:
                    problems.append(
                        src.problem(
                            (*loc, "numbers", "ranges", r_index, "value"),
                            f"no option {number_range.value!r}",
                        )
                    )
    if not any(q.kind == "red_flag" for q in flow.questions):
        problems.append(src.problem(("questions",), "the flow has no red_flag question"))
    if sum(o.logged_load for q in flow.questions for o in q.options) > 1:
        problems.append(src.problem(("questions",), "at most one answer may be marked logged_load"))


def typed_forms(option: Option) -> set[str]:
    """What a person may type to pick this option: its label, its value, its words."""
    return {normalise(w) for w in (option.label, option.value.replace("_", " "), *option.words)}


def _check_typed_words(question: Question, src: _Source, loc: Loc, problems: list[Problem]) -> None:
    owner: dict[str, str] = {}
    for index, option in enumerate(question.options):
        for form in sorted(typed_forms(option)):
            if owner.setdefault(form, option.value) != option.value:
                problems.append(
                    src.problem(
                        (*loc, "options", index, "words"),
                        f"typing {form!r} would match both {owner[form]!r} and {option.value!r}",
                    )
                )


def _red_flag_facts(flow: Flow) -> set[str]:
    return {q.records for q in flow.questions if q.kind == "red_flag"}


def _rule_facts(rule: Rule) -> set[str]:
    facts = set(rule.when) | set(rule.unless)
    if rule.at_least is not None:
        for test in rule.at_least.of:
            facts |= set(test)
    return facts


def _check_rules(
    flow: Flow,
    rules: RuleList,
    outcomes: OutcomeList,
    facts: dict[str, set[str]],
    src: _Source,
    problems: list[Problem],
) -> None:
    by_id = {o.id: o for o in outcomes.outcomes}
    red_flags = _red_flag_facts(flow)
    ids = [r.id for r in rules.rules]
    seen_non_escalation = False
    for index, rule in enumerate(rules.rules):
        loc: Loc = ("rules", index)
        if ids.count(rule.id) > 1:
            problems.append(src.problem((*loc, "id"), f"rule id {rule.id!r} repeats"))
        _check_condition(rule.when, facts, src, (*loc, "when"), problems)
        _check_condition(rule.unless, facts, src, (*loc, "unless"), problems)
        if rule.at_least is not None:
            for t_index, test in enumerate(rule.at_least.of):
                t_loc: Loc = (*loc, "at_least", "of", t_index)
                if len(test) != 1:
                    problems.append(src.problem(t_loc, "each at_least test names one fact"))
                _check_condition(test, facts, src, t_loc, problems)
        outcome = by_id.get(rule.outcome)
        if outcome is None:
            problems.append(src.problem((*loc, "outcome"), f"no outcome {rule.outcome!r}"))
            continue
        if _rule_facts(rule) & red_flags:
            if not outcome.escalation:
                problems.append(
                    src.problem((*loc, "outcome"), "a red-flag rule must lead to an escalation")
                )
            if seen_non_escalation:
                problems.append(
                    src.problem(loc, "red-flag rules must come before every other rule")
                )
        if not outcome.escalation:
            seen_non_escalation = True
    last = rules.rules[-1]
    if not last.unconditional:
        problems.append(
            src.problem(
                ("rules", len(rules.rules) - 1),
                "the last rule must have no conditions, so every path ends in an outcome",
            )
        )
    elif last.outcome in by_id and not by_id[last.outcome].escalation:
        problems.append(
            src.problem(
                ("rules", len(rules.rules) - 1, "outcome"),
                "what the rules cannot place must go to an escalation outcome",
            )
        )


def _check_outcomes(
    outcomes: OutcomeList, facts: dict[str, set[str]], src: _Source, problems: list[Problem]
) -> None:
    by_id = {o.id: o for o in outcomes.outcomes}
    ids = [o.id for o in outcomes.outcomes]
    for index, outcome in enumerate(outcomes.outcomes):
        loc: Loc = ("outcomes", index)
        if ids.count(outcome.id) > 1:
            problems.append(src.problem((*loc, "id"), f"outcome id {outcome.id!r} repeats"))
        for s_index, step in enumerate(outcome.steps):
            _check_condition(step.when, facts, src, (*loc, "steps", s_index, "when"), problems)
    for index, tip in enumerate(outcomes.tips):
        loc = ("tips", index)
        _check_condition(tip.when, facts, src, (*loc, "when"), problems)
        for o_index, outcome_id in enumerate(tip.outcomes):
            target = by_id.get(outcome_id)
            if target is None:
                problems.append(src.problem((*loc, "outcomes", o_index), f"no {outcome_id!r}"))
            elif target.escalation:
                problems.append(
                    src.problem((*loc, "outcomes", o_index), "no tips on escalation outcomes")
                )


def check_card_links(
    tree: TriageTree, card_ids: set[str], folder: Path, problems: list[Problem]
) -> None:
    """Outcome card links must name cards of the bundle (called once cards are loaded)."""
    path = folder / _FILES[2]
    _, lines, _ = read_yaml(path)
    src = _Source(path, lines)
    for index, outcome in enumerate(tree.outcomes.values()):
        for c_index, card_id in enumerate(outcome.cards):
            if card_id not in card_ids:
                problems.append(
                    src.problem(("outcomes", index, "cards", c_index), f"no card {card_id!r}")
                )


def check_screen_outcomes(tree: TriageTree, folder: Path, problems: list[Problem]) -> None:
    """The red-flag screen's outcomes (texts.yaml) must be escalations of the tree."""
    for target in (tree.texts.screen_outcome_urgent, tree.texts.screen_outcome_same_day):
        outcome = tree.outcomes.get(target)
        if outcome is None or not outcome.escalation:
            message = f"screen outcome {target!r} is not an escalation outcome"
            problems.append(Problem(folder / _FILES[3], 1, message))
