"""Content validation: `corecoach content check`, file:line problems, and the shipped cards."""

from __future__ import annotations

import io
import logging
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_content
from handlers.cards.views import render_card

SEED_CARDS = (
    "plank",
    "side plank",
    "bird dog",
    "dead bug",
    "glute bridge",
    "crunch",
    "shoulder taps",
    "bear walk",
)
_PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.+)$")


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Default settings; the root logger restored afterwards (main() configures it)."""
    for name in (
        "COACH_CONTENT_DIR",
        "COACH_DATABASE_URL",
        "COACH_LOG_LEVEL",
        "TELEGRAM_BOT_TOKEN",
        "DISCORD_BOT_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


Found = list[tuple[str, int, str]]


def _check(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, Found]:
    """Run `corecoach content check FOLDER`: its exit code, and (file name, line, message) of
    each problem in the cards folder and texts.yaml. Other content kinds (triage, ...) may
    add problems of their own, e.g. about a card that no longer loads; those are theirs."""
    code = main(["content", "check", str(folder)])
    out, err = capsys.readouterr()
    problems = []
    for line in out.splitlines():
        m = _PROBLEM.match(line)
        assert m, f"not a file:line problem: {line!r}"
        file = Path(m["file"])
        if file.parent == folder / "cards" or file in (folder / "cards", folder / "texts.yaml"):
            problems.append((file.name, int(m["line"]), m["message"]))
    if code:
        count = len(out.splitlines())
        assert f"{count} problem{'' if count == 1 else 's'} in {folder}" in err
    return code, problems


def _edit(path: Path, old: str, new: str) -> int:
    """Replace one whole line; the 1-based number of the line that now holds `new`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    index = lines.index(old)
    lines[index] = new
    path.write_text("\n".join(lines), encoding="utf-8")
    return index + 1


def test_shipped_content_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["content", "check"])
    out = capsys.readouterr().out
    cards = len(list((DEFAULT_CONTENT_DIR / "cards").glob("*.yaml")))
    assert code == 0
    assert f"content is valid ({cards} cards)" in out


def _append(path: Path, text: str) -> int:
    """Add lines at the end; the 1-based number of the first added line."""
    before = path.read_text(encoding="utf-8")
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


def _delete(path: Path, pattern: str) -> None:
    path.write_text(re.sub(pattern, "", path.read_text(encoding="utf-8")), encoding="utf-8")


def test_a_broken_copy_fails_with_file_and_line_of_every_problem(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One copy with a different slip in each file: all are reported in one run (a person
    fixes them in one go), each at the line to look at. Lines are worked out from the edited
    files, not written down."""
    cards = copy / "cards"
    expected: set[tuple[str, int, str]] = set()

    line = _edit(cards / "plank.yaml", "  sets: 3", "  sets: three")
    expected.add(("plank.yaml", line, "dose.sets: Input should be a valid integer"))

    line = _append(cards / "dead_bug.yaml", "colour: red\n")
    expected.add(("dead_bug.yaml", line, "colour: Extra inputs are not permitted"))

    _delete(cards / "crunch.yaml", r"(?m)^summary:.*\n")
    expected.add(("crunch.yaml", 1, "summary: Field required"))  # no line: the file

    line = _edit(cards / "hollow_hold.yaml", "areas: [abs, hip_flexors]", "areas:\n- abs\n- calves")
    expected.add(("hollow_hold.yaml", line + 2, "areas.1: Input should be 'abs', "))

    line = _edit(cards / "glute_bridge.yaml", "level: beginner", "level: beginner: oops")
    expected.add(("glute_bridge.yaml", line, "YAML syntax: mapping values are not allowed here"))

    superman = cards / "superman_hold.yaml"
    superman.write_text("# renamed by mistake\n" + superman.read_text(), encoding="utf-8")
    line = _edit(superman, "id: superman_hold", "id: superman")
    assert line == 2
    expected.add(("superman_hold.yaml", line, "id 'superman' must match the file name"))

    line = _append(cards / "bird_dog.yaml", "level: advanced\n")
    expected.add(("bird_dog.yaml", line, "level: this key appears more than once"))

    line = _edit(
        cards / "mountain_climbers.yaml",
        "aliases: [mountain climber, climbers]",
        'aliases: [climbers, "Side plank!"]',
    )
    expected.add(
        ("side_plank.yaml", 1, "the name 'side plank' is already used by card 'mountain_climbers'")
    )

    (cards / "reverse_crunch.yaml").rename(cards / "reverse_crunch.yml")
    expected.add(("reverse_crunch.yml", 1, "content files must end in .yaml, not .yml"))

    (cards / "shoulder_taps.yaml").write_bytes(b"id: shoulder_taps\nname: Sh\xf6ulder\n")
    expected.add(("shoulder_taps.yaml", 1, "not UTF-8 text"))

    (cards / "bear_walk.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    expected.add(("bear_walk.yaml", 1, "Input should be a valid dictionary"))

    texts = copy / "texts.yaml"
    _delete(texts, r"(?m)^cards_intro:.*\n")
    top = next(n for n, t in enumerate(texts.read_text().split("\n"), 1) if not t.startswith("#"))
    expected.add(("texts.yaml", top, "cards_intro: Field required"))  # where the mapping starts

    code, problems = _check(copy, capsys)
    assert code == 1

    # Each reported problem is an expected one (its message starts as expected), and none
    # is missing.
    def matches(found: tuple[str, int, str], want: tuple[str, int, str]) -> bool:
        return found[:2] == want[:2] and want[2] in found[2]

    unexpected = [p for p in problems if not any(matches(p, w) for w in expected)]
    missing = [w for w in expected if not any(matches(p, w) for p in problems)]
    assert (unexpected, missing) == ([], [])


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    bundle, problems = load_content(tmp_path)
    assert bundle is None
    messages = {(p.file.name, p.message) for p in problems}
    assert ("cards", "no *.yaml files") in messages
    assert any(name == "texts.yaml" and "cannot read" in m for name, m in messages)


@pytest.mark.parametrize("command", ["chat", "run"])
def test_the_bot_refuses_to_start_on_invalid_content(
    copy: Path,
    tmp_path: Path,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _edit(copy / "cards" / "plank.yaml", "  sets: 3", "  sets: three")
    monkeypatch.setenv("COACH_CONTENT_DIR", str(copy))
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\n"))
    assert main([command]) == 1
    out, err = capsys.readouterr()
    assert "won't start" in err
    assert f"plank.yaml:{line}: dose.sets:" in err
    assert out == ""  # not a word of chat
    assert not (tmp_path / "coach.db").exists()  # it stopped before touching the database


# --- the shipped cards ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEED_CARDS)
def test_seed_cards_exist_and_are_complete(content: ContentBundle, name: str) -> None:
    card = content.find_card(name)
    assert card is not None, f"no card for {name!r}"
    assert card.muscles and card.why_for_runners
    dose = card.dose
    assert dose.sets >= 1 and (dose.reps or dose.hold_seconds)
    assert re.fullmatch(r"\d(-\d)?", dose.times_per_week)
    assert len(card.steps) >= 2
    assert card.form_cues and card.common_mistakes and card.skip_when
    assert card.easier.name and card.harder.name and card.easier.name != card.harder.name
    assert card.sources
    text = render_card(card)
    for step_number, step in enumerate(card.steps, start=1):
        assert f"{step_number}. {step}" in text
    for part in (*card.form_cues, *card.common_mistakes, *card.skip_when, card.easier.how):
        assert part in text


def test_every_card_says_to_skip_it_on_signs_of_an_injury(content: ContentBundle) -> None:
    for card in content.cards.values():
        reasons = " ".join(card.skip_when).casefold()
        assert "strain" in reasons or "sharp" in reasons, card.id


def test_dead_bug_keeps_the_whole_back_on_the_floor(content: ContentBundle) -> None:
    card = content.cards["dead_bug"]
    said = " ".join([*card.common_mistakes, *card.form_cues, *card.steps]).casefold()
    assert "whole back" in said
    mistakes = " ".join(card.common_mistakes).casefold()
    assert "back" in mistakes and "floor" in mistakes


def test_card_names_are_unique_and_found_by_every_alias(content: ContentBundle) -> None:
    for card in content.cards.values():
        for name in (card.name, *card.aliases, card.id.replace("_", " ")):
            assert content.find_card(name) == card, name
            assert content.find_card(f"  {name.upper()}!  ") == card, name


def test_lookup_folds_punctuation_inside_names(copy: Path) -> None:
    bird = copy / "cards" / "bird_dog.yaml"
    _edit(
        bird,
        "aliases: [bird dogs, birddog, quadruped arm and leg raise]",
        'aliases: ["Bird-dog (quadruped)"]',
    )
    bundle, problems = load_content(copy)
    assert problems == [] and bundle is not None
    assert bundle.find_card("bird dog quadruped") == bundle.cards["bird_dog"]
    assert bundle.find_card("Bird-dog (quadruped)") == bundle.cards["bird_dog"]
