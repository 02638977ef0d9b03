"""Facts → expected outcome, pressed through the real engine, one runner per case.

Each case names the answers that matter; red-flag questions not named are answered "no",
and `stitch`/`change` default to "no"/"none". Borderline cases sit on either side of a rule's
edge (one strain sign vs two, two "not sure" vs three, 4–7 days vs more than a week...).
"""

from __future__ import annotations

import pytest

from bot.content.bundle import ContentBundle
from tests.harness import ChatHarness
from tests.triage_driver import MILD, run_triage

BASE = MILD  # the everyday case; each case changes what it names


Case = tuple[dict[str, str], str, set[str]]


def case(expected: str, **changes: str) -> Case:
    return {**BASE, **changes}, expected, set(changes)


CASES: dict[str, Case] = {
    # --- red flags: stop at once, whatever else ---
    "chest pain or other general flag": case("urgent", rf_general="yes"),
    "general flag not sure": case("doctor", rf_general="not_sure"),
    "general flag with lower back": case("urgent", area="lower_back", rf_general="yes"),
    "pregnant": case("doctor", rf_pregnancy="yes"),
    "maybe pregnant": case("doctor", rf_pregnancy="not_sure"),
    # Groin numbness and bladder/bowel trouble are in the general screen, for every area.
    "back: groin numbness or bladder": case("urgent", area="lower_back", rf_general="yes"),
    "abs: nerves not sure": case("doctor", area="abs", rf_general="not_sure"),
    "back: leg weakness": case("doctor", area="lower_back", rf_back_leg="yes"),
    "back: leg not sure": case("doctor", area="lower_back", rf_back_leg="not_sure"),
    "hip: limp or night ache": case("doctor", area="hip_flexors", rf_hip="yes"),
    "area unknown gets back screen": case("doctor", area="not_sure", rf_back_leg="yes"),
    "area unknown gets hip screen": case("doctor", area="not_sure", rf_hip="not_sure"),
    # --- the everyday pattern ---
    "mild dull DOMS": case("continue"),
    "mild DOMS in the lower back": case("continue", area="lower_back"),
    "mild DOMS at the hip": case("continue", area="hip_flexors"),
    "moderate DOMS": case("active", severity="moderate"),
    "moderate, movement makes no difference": case("active", severity="moderate", movement="same"),
    "severe soreness": case("rest", severity="severe"),
    "severe with swelling": case("doctor", severity="severe", swelling="yes"),
    "severe still there after 4-7 days": case("doctor", severity="severe", duration="mid"),
    "more than a week": case("doctor", duration="long"),
    "mild for 4-7 days (borderline)": case("continue", duration="mid"),
    "moderate for 4-7 days": case("active", severity="moderate", duration="mid"),
    # --- strain signs ---
    "sharp and worse with movement": case("rest", feel="sharp", movement="worsens"),
    "sharp with swelling": case("rest", feel="sharp", swelling="yes"),
    "one sign, mild (borderline)": case("active", feel="sharp"),
    "one sign, moderate (borderline)": case("rest", feel="sharp", severity="moderate"),
    "worse with movement, moderate": case("rest", movement="worsens", severity="moderate"),
    "swelling only, mild": case("active", swelling="yes"),
    "strain signs, severity unknown": case("rest", movement="worsens", severity="not_sure"),
    # --- "not sure" ---
    "severity not sure, no signs": case("active", severity="not_sure"),
    "one unsure sign (borderline)": case("continue", feel="not_sure"),
    "two unsure signs (borderline)": case("active", feel="not_sure", movement="not_sure"),
    # "Not sure" never takes a mild, flag-free case past rest.
    "three unsure answers, mild": case(
        "active", feel="not_sure", movement="not_sure", swelling="not_sure"
    ),
    "three unsure answers, strength unknown": case(
        "doctor", feel="not_sure", movement="not_sure", severity="not_sure"
    ),
    "unsure timing and strength": case(
        "doctor", onset="not_sure", duration="not_sure", severity="not_sure"
    ),
    # --- during the run, and the side stitch ---
    "side stitch, now gone": case("continue", area="obliques", onset="during", stitch="yes"),
    "stitch-like pain in the abs": case("continue", onset="during", stitch="yes"),
    "began during run, still sore, mild": case("continue", onset="during", stitch="no"),
    "began during run, not sure if stitch": case(
        "continue", area="obliques", onset="during", stitch="not_sure"
    ),
    "began during run, sharp and worse": case(
        "rest", onset="during", stitch="no", feel="sharp", movement="worsens"
    ),
    "lower back during run: no stitch question": case(
        "continue", area="lower_back", onset="during"
    ),
}

# Run on both databases: one per outcome plus the stitch path.
ON_BOTH = [
    "chest pain or other general flag",
    "back: leg weakness",
    "mild dull DOMS",
    "moderate DOMS",
    "severe soreness",
    "side stitch, now gone",
]


async def check(bot: ChatHarness, content: ContentBundle, name: str, user: str = "runner") -> str:
    """Run one case; an empty string when it passes, else what went wrong."""
    answers, expected, changed = CASES[name]
    outcome, asked = await run_triage(bot.person(user), content.triage, answers)
    if outcome != expected:
        return f"{name}: expected {expected}, got {outcome} after {asked}"
    # The answers a case changes must really be asked, or the case tests nothing; a red flag
    # must be the last question.
    flags = [q for q in changed if q.startswith("rf_")]
    if flags and asked[-1] != flags[0]:
        return f"{name}: the dialog went on after {flags[0]}: {asked}"
    if not flags and not changed <= set(asked):
        return f"{name}: {sorted(changed - set(asked))} never asked: {asked}"
    return ""


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({expected for _, expected, _ in CASES.values()}) == 5


async def test_every_case_on_sqlite(quick_bot: ChatHarness, content: ContentBundle) -> None:
    # One database for all cases (one runner each) keeps this fast; every failure is listed.
    failures = [
        await check(quick_bot, content, name, user=f"runner{i}")
        for i, name in enumerate(sorted(CASES))
    ]
    assert [f for f in failures if f] == []


@pytest.mark.parametrize("name", ON_BOTH)
async def test_case_on_each_database(bot: ChatHarness, content: ContentBundle, name: str) -> None:
    assert await check(bot, content, name) == ""


async def test_stitch_path_is_short_and_skips_the_pattern(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    answers, _, _ = CASES["side stitch, now gone"]
    _, asked = await run_triage(quick_bot.person("runner"), content.triage, answers)
    assert asked[-2:] == ["onset", "stitch"]
    assert "severity" not in asked and "feel" not in asked
