"""The triage content loader refuses broken trees and says where: file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content.bundle import DEFAULT_CONTENT_DIR, load_content
from bot.content.triage_schema import load_triage
from bot.content.yamlsource import Problem

FLOW = """\
questions:
  - id: area
    kind: place
    text: Where?
    options:
      - {value: abs, label: Abs}
      - {value: not_sure, label: Not sure where}
  - id: rf
    kind: red_flag
    text: Any warning sign?
    options:
      - {value: none, label: None of these}
      - {value: "yes", label: "Yes", flag: true, next: decide}
      - {value: not_sure, label: Not sure, flag: true, next: decide}
  - id: severity
    kind: pattern
    text: How bad?
    options:
      - {value: mild, label: Mild}
      - {value: severe, label: Severe}
      - {value: not_sure, label: Not sure}
sources: [test]
"""

RULES = """\
rules:
  - id: flag
    when: {rf: ["yes", not_sure]}
    outcome: urgent
    reason: A warning sign may need help now.
  - id: mild
    when: {severity: mild}
    outcome: fine
    reason: This sounds like ordinary soreness.
  - id: other
    outcome: urgent
    reason: I can't place this.
sources: [test]
"""

OUTCOMES = """\
outcomes:
  - id: urgent
    title: Get help now
    run_today: "No."
    escalation: true
    core_work_ok: false
    follow_up: false
    steps:
      - text: Call your emergency number.
    seek_help: Call again if it gets worse.
  - id: fine
    title: Carry on
    run_today: "Yes."
    escalation: false
    core_work_ok: true
    follow_up: true
    steps:
      - text: Run easy.
    seek_help: See a doctor if it gets worse.
sources: [test]
"""


def write_tree(
    folder: Path, *, flow: str = FLOW, rules: str = RULES, outcomes: str = OUTCOMES
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flow.yaml").write_text(flow, encoding="utf-8")
    (folder / "rules.yaml").write_text(rules, encoding="utf-8")
    (folder / "outcomes.yaml").write_text(outcomes, encoding="utf-8")
    shutil.copy(DEFAULT_CONTENT_DIR / "triage" / "texts.yaml", folder / "texts.yaml")
    return folder


def line_of(path: Path, needle: str) -> int:
    """The line where `needle` (which may span lines) first starts."""
    text = path.read_text(encoding="utf-8")
    assert needle in text, f"{needle!r} not in {path}"
    return text[: text.index(needle)].count("\n") + 1


def load(folder: Path) -> list[Problem]:
    problems: list[Problem] = []
    tree = load_triage(folder, problems)
    assert (tree is None) == bool(problems)
    return problems


def test_the_small_valid_tree_loads(tmp_path: Path) -> None:
    assert load(write_tree(tmp_path / "triage")) == []


def test_an_outcome_without_advice_is_rejected_at_its_line(tmp_path: Path) -> None:
    broken = OUTCOMES.replace("    steps:\n      - text: Run easy.\n", "    steps: []\n")
    folder = write_tree(tmp_path / "triage", outcomes=broken)
    [problem] = load(folder)
    assert problem.file == folder / "outcomes.yaml"
    assert problem.line == line_of(problem.file, "steps: []")
    assert "steps" in problem.message
    assert str(problem).startswith(f"{folder / 'outcomes.yaml'}:{problem.line}: ")


def test_an_outcome_missing_its_steps_key_is_rejected(tmp_path: Path) -> None:
    broken = OUTCOMES.replace("    steps:\n      - text: Run easy.\n", "")
    folder = write_tree(tmp_path / "triage", outcomes=broken)
    [problem] = load(folder)
    assert problem.file.name == "outcomes.yaml"
    assert "steps" in problem.message and "Field required" in problem.message
    assert problem.line == line_of(problem.file, "id: fine")


def test_a_question_without_not_sure_is_rejected_at_its_line(tmp_path: Path) -> None:
    broken = FLOW.replace(
        "      - {value: severe, label: Severe}\n      - {value: not_sure, label: Not sure}\n",
        "      - {value: severe, label: Severe}\n",
    )
    folder = write_tree(tmp_path / "triage", flow=broken)
    problems = load(folder)
    assert [p.message for p in problems] == ["question 'severity' has no 'not_sure' option"]
    flow = folder / "flow.yaml"
    assert problems[0].file == flow
    # The `options:` key of the severity question.
    severity = line_of(flow, "id: severity")
    assert problems[0].line == severity + 3


@pytest.mark.parametrize(
    ("file", "old", "new", "needle", "message"),
    [
        # A red-flag "not sure" must escalate like a "yes".
        (
            "flow",
            "{value: not_sure, label: Not sure, flag: true, next: decide}",
            "{value: not_sure, label: Not sure}",
            "{value: not_sure, label: Not sure}\n  - id: sev",
            "must count as a flag",
        ),
        # A flag answer must stop the questions.
        (
            "flow",
            '{value: "yes", label: "Yes", flag: true, next: decide}',
            '{value: "yes", label: "Yes", flag: true}',
            "flag: true}",
            "must stop",
        ),
        # Jumping back would loop.
        (
            "flow",
            "{value: mild, label: Mild}",
            "{value: mild, label: Mild, next: rf}",
            "value: mild",
            "later question",
        ),
        # Red flags come before the pattern.
        ("flow", "    kind: pattern\n", "    kind: place\n", "id: severity", "must come before"),
        # Button labels stay short.
        (
            "flow",
            "label: Mild}",
            "label: Mild but really quite annoying today}",
            "value: mild",
            "at most 30",
        ),
        # A typo in a rule's fact or value.
        (
            "rules",
            "when: {severity: mild}",
            "when: {severty: mild}",
            "severty",
            "no question records the fact 'severty'",
        ),
        (
            "rules",
            "when: {severity: mild}",
            "when: {severity: mlid}",
            "mlid",
            "never has the value 'mlid'",
        ),
        # Rules point at outcomes that exist.
        ("rules", "outcome: fine", "outcome: fne", "outcome: fne", "no outcome 'fne'"),
        # A red-flag rule must escalate.
        (
            "rules",
            "    outcome: urgent\n    reason: A warning",
            "    outcome: fine\n    reason: A warning",
            "id: flag",
            "must lead to an escalation",
        ),
        # Every path must end: the last rule is unconditional.
        (
            "rules",
            "  - id: other\n    outcome: urgent",
            "  - id: other\n    when: {severity: severe}\n    outcome: urgent",
            "id: other",
            "last rule must have no conditions",
        ),
        # Reasons are one or two sentences.
        (
            "rules",
            "reason: I can't place this.",
            "reason: One. Two. Three.",
            "One. Two.",
            "at most 2 sentences",
        ),
        # No exercise cards on escalations.
        (
            "outcomes",
            "    seek_help: Call again",
            "    cards: [plank]\n    seek_help: Call again",
            "id: urgent",
            "cards are only linked",
        ),
    ],
)
def test_structural_mistakes_are_named_with_file_and_line(
    tmp_path: Path, file: str, old: str, new: str, needle: str, message: str
) -> None:
    texts = {"flow": FLOW, "rules": RULES, "outcomes": OUTCOMES}
    assert old in texts[file]
    texts[file] = texts[file].replace(old, new, 1)
    folder = write_tree(tmp_path / "triage", **texts)
    problems = load(folder)
    matching = [p for p in problems if message in p.message]
    assert matching, problems
    path = folder / f"{file}.yaml"
    assert matching[0].file == path
    assert line_of(path, needle) <= matching[0].line <= line_of(path, needle) + 3


def test_outcome_card_links_must_exist(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    outcomes = content / "triage" / "outcomes.yaml"
    text = outcomes.read_text(encoding="utf-8")
    outcomes.write_text(
        text.replace("cards: [dead_bug,", "cards: [dead_bugg,", 1), encoding="utf-8"
    )
    bundle, problems = load_content(content)
    assert bundle is None
    [problem] = problems
    assert problem.file == outcomes and "no card 'dead_bugg'" in problem.message
    assert problem.line == line_of(outcomes, "dead_bugg")


def test_the_real_triage_content_loads(tmp_path: Path) -> None:
    assert load(DEFAULT_CONTENT_DIR / "triage") == []
