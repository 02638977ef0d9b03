"""Facts → expected outcome, pressed through the real engine, one runner per case.

Each case names the answers that matter; the red-flag screen, when not named, is answered
"none of these", and `duration`/`change` default to "up to 3 days"/"nothing new". Borderline
cases sit on either side of a rule's edge (one strain sign vs two, one "not sure" vs two, 4–7
days vs more than a week...).
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
    # --- red flags: one screen for every area; stop at once, whatever else ---
    "chest pain or other general flag": case("urgent", rf_general="yes"),
    "general flag not sure": case("doctor", rf_general="not_sure"),
    "general flag with lower back": case("urgent", area="lower_back", rf_general="yes"),
    "pregnant": case("doctor", rf_general="pregnant"),
    "pregnant, hip flexors": case("doctor", area="hip_flexors", rf_general="pregnant"),
    # Groin numbness and bladder/bowel trouble are in the emergency list, for every area.
    "back: groin numbness or bladder": case("urgent", area="lower_back", rf_general="yes"),
    "abs: not sure about the list": case("doctor", area="abs", rf_general="not_sure"),
    "back: leg weakness": case("doctor", area="lower_back", rf_general="leg"),
    "abs: leg weakness is asked too": case("doctor", area="abs", rf_general="leg"),
    "hip: limp or night ache": case("doctor", area="hip_flexors", rf_general="hip"),
    "area unknown, hip signs": case("doctor", area="not_sure", rf_general="hip"),
    "lasted more than a week": case("doctor", rf_general="long"),
    # --- the everyday pattern ---
    "mild dull DOMS": case("continue"),
    "mild DOMS in the lower back": case("continue", area="lower_back"),
    "mild DOMS at the hip": case("continue", area="hip_flexors"),
    "mild ache that comes back after each run: overuse": case("active", signs="recurring"),
    "moderate DOMS": case("active", severity="moderate"),
    "moderate ache after each run: overuse, not a doctor": case(
        "active", severity="moderate", signs="recurring"
    ),
    "severe soreness": case("rest", severity="severe", duration="short"),
    "severe with swelling": case("doctor", severity="severe", signs="swollen"),
    "severe still there after 4-7 days": case("doctor", severity="severe", duration="mid"),
    "severe, more than a week after all": case("doctor", severity="severe", duration="long"),
    # --- strain signs ---
    "sharp and worse with movement": case("rest", signs="strain"),
    "sharp and worse, moderate": case("rest", signs="strain", severity="moderate"),
    "one sign, mild (borderline)": case("active", signs="sharp"),
    "one sign, moderate (borderline)": case("rest", signs="sharp", severity="moderate"),
    "worse with movement, moderate": case("rest", signs="worse", severity="moderate"),
    "worse with movement, mild": case("active", signs="worse"),
    "swelling only, mild": case("active", signs="swollen"),
    "strain signs, severity unknown": case("rest", signs="worse", severity="not_sure"),
    # --- "not sure" ---
    "severity not sure, no signs": case("active", severity="not_sure"),
    # "Not sure" never takes a mild, flag-free case past rest.
    "unsure which fits, mild (borderline)": case("active", signs="not_sure"),
    "unsure which fits, moderate": case("active", signs="not_sure", severity="moderate"),
    "unsure which fits and strength": case("doctor", signs="not_sure", severity="not_sure"),
    "severe, unsure which fits and how long": case(
        "doctor", signs="not_sure", severity="severe", duration="not_sure"
    ),
    "severe, unsure how long (borderline)": case("rest", severity="severe", duration="not_sure"),
    # --- the side stitch ---
    "side stitch, now gone": case("continue", area="obliques", signs="stitch"),
    "stitch-like pain in the abs": case("continue", signs="stitch"),
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
    assert asked == ["area", "rf_general", "signs"]
