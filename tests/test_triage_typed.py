"""Typed soreness checks, end to end through the real engine: openers and mid-dialog answers
with negations, misspellings, numbers and "not sure" forms. Each case asserts the outcome
(disposition) and exactly which questions were asked, in order (a re-asked question shows up
twice, so an answer that was not understood fails the case)."""

from __future__ import annotations

import statistics

import pytest

from bot.content.bundle import ContentBundle
from tests.harness import ChatHarness
from tests.typed_driver import run_typed

RF = ["rf_general", "rf_pregnancy"]  # asked for every area
BACK = [*RF, "rf_back_leg"]
HIP = [*RF, "rf_hip"]
SEVERAL = [*RF, "rf_back_leg", "rf_hip"]
PATTERN = ["onset", "duration", "feel", "movement", "swelling", "severity", "change"]
ABS = ["area", *RF, *PATTERN]  # the whole check for the abs, nothing said up front


def without(asked: list[str], *skipped: str) -> list[str]:
    return [q for q in asked if q not in skipped]


def upto(asked: list[str], last: str) -> list[str]:
    return asked[: asked.index(last) + 1]


# name: (opener, typed answers by question, outcome, questions asked)
Case = tuple[str, dict[str, str], str, list[str]]
CASES: dict[str, Case] = {
    # --- a red flag in the opener: its advice in the first reply, no question asked ---
    "opener chest tight": ("my chest is tight after my run", {}, "urgent", []),
    "opener faint": ("I feel faint and my abs hurt", {}, "urgent", []),
    "opener fever": ("abs sore and I have a fever", {}, "doctor", []),
    "opener cola urine alone": ("my pee is dark like cola after the race", {}, "urgent", []),
    "opener blood in urine, muscles fine": (
        "blood in my urine but my muscles feel fine",
        {},
        "urgent",
        [],
    ),
    "opener navel to lower right": (
        "the pain started at my belly button and moved to the lower right",
        {},
        "urgent",
        [],
    ),
    "opener bulge": ("there's a bulge in my groin that hurts", {}, "urgent", []),
    "opener groin numb": ("my groin is numb and my back hurts", {}, "urgent", []),
    "opener bladder": ("I can't control my bladder since the run", {}, "urgent", []),
    "opener weak leg": ("my left leg is weak and my lower back aches", {}, "doctor", []),
    "opener tearing": ("sudden tearing pain in my side", {}, "urgent", []),
    "opener fall": ("I fell on the trail and my ribs hurt", {}, "doctor", []),
    "opener night pain and weight loss": (
        "my back pain wakes me up at night and I've lost weight",
        {},
        "doctor",
        [],
    ),
    "opener misspelt fever": ("feaver and my abs ache", {}, "doctor", []),
    "opener breathless": ("sore abs and I can't catch my breath", {}, "urgent", []),
    "opener unsure chest": ("not sure if it's chest pain or my abs", {}, "urgent", []),
    # --- a red flag typed mid-dialog: screened at once, the check stops there ---
    "chest pain typed at the score": (
        "/sore",
        {"severity": "actually I have chest pain"},
        "urgent",
        upto(ABS, "severity"),
    ),
    "dizzy typed at the safety question": (
        "/sore",
        {"rf_general": "yes, I feel dizzy"},
        "urgent",
        ["area", "rf_general"],
    ),
    "dark urine typed at onset": (
        "/sore",
        {"onset": "next day, and my pee is brown"},
        "urgent",
        upto(ABS, "onset"),
    ),
    # --- negations: no red flag, the check goes on ---
    "opener no fever, full slots": (
        "no fever, my abs are sore since my long run, dull, 3/10",
        {},
        "continue",
        [*RF, "duration", "movement", "swelling", "change"],
    ),
    "opener no chest pain": ("I don't have chest pain, just sore abs", {}, "continue", ABS[1:]),
    "opener not numb, stiff back": (
        "not numb, my lower back is stiff since yesterday",
        {},
        "continue",
        [*BACK, "onset", "movement", "swelling", "severity", "change"],
    ),
    "opener no chest pain no fever": ("no chest pain, no fever, abs sore", {}, "continue", ABS[1:]),
    "safety typed as denials": ("/sore", {"rf_general": "no fever no chest pain"}, "continue", ABS),
    "safety: don't have any of those": (
        "/sore",
        {"rf_general": "I don't have any of those"},
        "continue",
        ABS,
    ),
    "back leg: no numbness or tingling": (
        "/sore",
        {"area": "lower back", "rf_back_leg": "no numbness or tingling"},
        "continue",
        ["area", *BACK, *PATTERN],
    ),
    "opener not sharp": ("my abs are kinda sore, not sharp", {}, "continue", ABS[1:]),
    # --- misspellings ---
    "opener stomache": ("my stomache hurts", {}, "continue", ABS[1:]),
    "opener obliqes": ("sore obliqes after intervals", {}, "continue", [*RF, *PATTERN]),
    "area typed with a typo": (
        "/sore",
        {"area": "lowr back"},
        "continue",
        ["area", *BACK, *PATTERN],
    ),
    "feel typed with a typo": ("/sore", {"feel": "stabing"}, "active", ABS),
    # --- numbers on the score question: the score, never a button index ---
    "score 3 is mild, not button 3": ("/sore", {"severity": "3"}, "continue", ABS),
    "score 7/10": ("/sore", {"severity": "7/10"}, "rest", ABS),
    "score about a six": ("/sore", {"severity": "about a six"}, "active", ABS),
    "score 8 out of 10": ("/sore", {"severity": "8 out of 10"}, "rest", ABS),
    "score five": ("/sore", {"severity": "five"}, "active", ABS),
    "score 0": ("/sore", {"severity": "0"}, "continue", ABS),
    "score 6.5 rounds up": ("/sore", {"severity": "6.5"}, "rest", ABS),
    "score 3 or 4 takes the higher": ("/sore", {"severity": "3 or 4"}, "active", ABS),
    "score 1 is mild, not button 1": ("/sore", {"severity": "1"}, "continue", ABS),
    "score it's a 2": ("/sore", {"severity": "it's about 2"}, "continue", ABS),
    # --- "not sure" in its many forms ---
    "safety: I don't know": ("/sore", {"rf_general": "I don't know"}, "doctor", ABS[:2]),
    "safety: idk": ("/sore", {"rf_general": "idk"}, "doctor", ABS[:2]),
    "pregnancy: not sure": ("/sore", {"rf_pregnancy": "not sure"}, "doctor", ABS[:3]),
    "mild with three unsure answers stays below rest": (
        "/sore",
        {"feel": "no idea", "movement": "dunno", "swelling": "I'm not sure"},
        "active",
        ABS,
    ),
    "unsure strength and signs escalate": (
        "/sore",
        {"feel": "no idea", "movement": "dunno", "severity": "I'm not sure"},
        "doctor",
        without(ABS, "change"),  # tips only, and escalations carry none
    ),
    # --- yes / no in many forms ---
    "safety: nope": ("/sore", {"rf_general": "nope"}, "continue", ABS),
    "safety: nah, none of them": ("/sore", {"rf_general": "nah, none of them"}, "continue", ABS),
    "pregnancy: no, not pregnant": (
        "/sore",
        {"rf_pregnancy": "no, I'm not pregnant"},
        "continue",
        ABS,
    ),
    "swelling: yeah": ("/sore", {"swelling": "yeah"}, "active", ABS),
    "swelling: yep, bruised": ("/sore", {"swelling": "yep, bruised"}, "active", ABS),
    "stitch: yeah": (
        "/sore",
        {"onset": "during my run", "stitch": "yeah"},
        "continue",
        ["area", *RF, "onset", "stitch"],
    ),
    "stitch: nope, still sore": (
        "/sore",
        {"onset": "during my run", "stitch": "nope, still sore"},
        "continue",
        ["area", *RF, "onset", "stitch", *PATTERN[1:]],
    ),
    "consent typed yeah sure": ("/sore", {}, "continue", ABS),
    "hip: yes, I limp": (
        "/sore",
        {"area": "hip", "rf_hip": "yes, I limp"},
        "doctor",
        ["area", *HIP],
    ),
    "back leg: yeah": (
        "/sore",
        {"area": "my back", "rf_back_leg": "yeah"},
        "doctor",
        ["area", *BACK],
    ),
    # --- pattern answers typed in words ---
    "sharp and worse": ("/sore", {"feel": "sharp", "movement": "it gets worse"}, "rest", ABS),
    "stabbing, moderate": ("/sore", {"feel": "stabbing", "severity": "5"}, "rest", ABS),
    "more than a week": (
        "/sore",
        {"duration": "more than a week"},
        "doctor",
        upto(ABS, "duration"),
    ),
    "about a week, severe": (
        "/sore",
        {"duration": "about a week", "severity": "8/10"},
        "doctor",
        without(ABS, "change"),
    ),
    "more miles": ("/sore", {"change": "more miles"}, "continue", ABS),
    "hill repeats": ("/sore", {"change": "hill repeats"}, "continue", ABS),
    # --- openers that fill in what they say ---
    "opener abs long run dull 3/10": (
        "my abs hurt since my long run, dull, 3/10",
        {},
        "continue",
        [*RF, "duration", "movement", "swelling", "change"],
    ),
    "opener sharp side during run 7/10": (
        "sharp pain in my side during my run, 7/10",
        {},
        "rest",
        [*RF, "stitch", "duration", "movement", "swelling", "change"],
    ),
    "opener tight hip flexors, about a 4": (
        "my hip flexors are tight for 2 days, about a 4",
        {},
        "active",
        [*HIP, "onset", "movement", "swelling", "change"],
    ),
    "opener lower back ache 2/10": (
        "lower back ache, 2/10",
        {},
        "continue",
        [*BACK, "onset", "duration", "feel", "movement", "swelling", "change"],
    ),
    "opener several spots": (
        "my abs and lower back are both sore",
        {},
        "continue",
        [*SEVERAL, *PATTERN],
    ),
    "opener all over": (
        "everything hurts all over after the marathon",
        {},
        "continue",
        [*SEVERAL, *PATTERN],
    ),
    "/sore with words": (
        "/sore my obliques are sore since yesterday",
        {},
        "continue",
        [*RF, "onset", "feel", "movement", "swelling", "severity", "change"],
    ),
}


def test_there_are_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60


async def test_every_typed_case(quick_bot: ChatHarness, content: ContentBundle) -> None:
    failures = []
    for i, (name, (opener, typed, expected, asked)) in enumerate(sorted(CASES.items())):
        consent = "yeah sure" if "consent" in name else "yes"
        got, seen = await run_typed(
            quick_bot.person(f"typist{i}"), content, opener, typed, consent=consent
        )
        if (got, seen) != (expected, asked):
            failures.append(f"{name}: expected {expected} after {asked}, got {got} after {seen}")
    assert failures == []


@pytest.mark.parametrize("word", ["nope", "not really"])
async def test_consent_typed_no(quick_bot: ChatHarness, content: ContentBundle, word: str) -> None:
    outcome, asked = await run_typed(quick_bot.person(), content, "/sore", {}, consent=word)
    assert (outcome, asked) == ("continue", ABS)


def question_counts(cases: dict[str, Case], outcomes: set[str]) -> list[int]:
    return [len(asked) for _, _, outcome, asked in cases.values() if outcome in outcomes]


def test_question_counts_stay_short() -> None:
    """Median questions asked: urgent cases reach advice at once; the figures are printed
    for the record (pytest -s)."""
    urgent = question_counts(CASES, {"urgent"})
    mild = question_counts(CASES, {"continue"})
    non_urgent = question_counts(CASES, {"continue", "active", "rest", "doctor"})
    print(
        f"\nquestions asked (median/max): urgent {statistics.median(urgent)}/{max(urgent)}, "
        f"mild self-care {statistics.median(mild)}/{max(mild)}, "
        f"non-urgent {statistics.median(non_urgent)}/{max(non_urgent)}"
    )
    assert statistics.median(urgent) == 0
    assert max(non_urgent) <= len(ABS) + 1
