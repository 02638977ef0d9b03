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

RF = ["rf_general"]  # one safety screen, the same for every area
PATTERN = ["signs", "severity", "change"]
ABS = ["area", *RF, *PATTERN]  # the whole check, nothing said up front
SEVERE = [*ABS[:-1], "duration", "change"]  # severe pain: how long it has lasted decides


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
    "dark urine typed at which fits": (
        "/sore",
        {"signs": "it eases, and my pee is brown"},
        "urgent",
        upto(ABS, "signs"),
    ),
    # --- negations: no red flag, the check goes on ---
    "opener no fever, full slots": (
        "no fever, my abs are sore since my long run, dull, 3/10",
        {},
        "continue",
        [*RF, "signs", "change"],
    ),
    "opener no chest pain": ("I don't have chest pain, just sore abs", {}, "continue", ABS[1:]),
    "opener not numb, stiff back": (
        "not numb, my lower back is stiff since yesterday",
        {},
        "continue",
        ABS[1:],
    ),
    "opener no chest pain no fever": ("no chest pain, no fever, abs sore", {}, "continue", ABS[1:]),
    "safety typed as denials": ("/sore", {"rf_general": "no fever no chest pain"}, "continue", ABS),
    "safety: don't have any of those": (
        "/sore",
        {"rf_general": "I don't have any of those"},
        "continue",
        ABS,
    ),
    "back: no numbness or tingling": (
        "/sore",
        {"area": "lower back", "rf_general": "no numbness or tingling"},
        "continue",
        ABS,
    ),
    "opener not sharp": ("my abs are kinda sore, not sharp", {}, "continue", ABS[1:]),
    # --- misspellings ---
    "opener stomache": ("my stomache hurts", {}, "continue", ABS[1:]),
    "opener obliqes": ("sore obliqes after intervals", {}, "continue", [*RF, *PATTERN]),
    "area typed with a typo": (
        "/sore",
        {"area": "lowr back"},
        "continue",
        ABS,
    ),
    "sharp typed with a typo": ("/sore", {"signs": "stabing"}, "active", ABS),
    # --- numbers on the score question: the score, never a button index ---
    "score 3 is mild, not button 3": ("/sore", {"severity": "3"}, "continue", ABS),
    "score 7/10": ("/sore", {"severity": "7/10"}, "rest", SEVERE),
    "score about a six": ("/sore", {"severity": "about a six"}, "active", ABS),
    "score 8 out of 10": ("/sore", {"severity": "8 out of 10"}, "rest", SEVERE),
    "score five": ("/sore", {"severity": "five"}, "active", ABS),
    "score 0": ("/sore", {"severity": "0"}, "continue", ABS),
    "score 6.5 rounds up": ("/sore", {"severity": "6.5"}, "rest", SEVERE),
    "score 3 or 4 takes the higher": ("/sore", {"severity": "3 or 4"}, "active", ABS),
    "score 1 is mild, not button 1": ("/sore", {"severity": "1"}, "continue", ABS),
    "score it's a 2": ("/sore", {"severity": "it's about 2"}, "continue", ABS),
    # --- "not sure" in its many forms ---
    "safety: I don't know": ("/sore", {"rf_general": "I don't know"}, "doctor", ABS[:2]),
    "safety: idk": ("/sore", {"rf_general": "idk"}, "doctor", ABS[:2]),
    "safety: not sure": ("/sore", {"rf_general": "not sure"}, "doctor", ABS[:2]),
    "mild with unsure answers stays below rest": (
        "/sore",
        {"signs": "no idea", "change": "dunno"},
        "active",
        ABS,
    ),
    "unsure strength and signs escalate": (
        "/sore",
        {"signs": "no idea", "severity": "I'm not sure"},
        "doctor",
        without(ABS, "change"),  # tips only, and escalations carry none
    ),
    # --- yes / no in many forms ---
    "safety: nope": ("/sore", {"rf_general": "nope"}, "continue", ABS),
    "safety: nah, none of them": ("/sore", {"rf_general": "nah, none of them"}, "continue", ABS),
    "safety: no, not pregnant": (
        "/sore",
        {"rf_general": "no, I'm not pregnant"},
        "continue",
        ABS,
    ),
    "safety: pregnant": ("/sore", {"rf_general": "pregnant"}, "doctor", ABS[:2]),
    "safety: for weeks": ("/sore", {"rf_general": "for weeks"}, "doctor", ABS[:2]),
    "swelling: swollen": ("/sore", {"signs": "swollen"}, "active", ABS),
    "swelling: bruised": ("/sore", {"signs": "bruised"}, "active", ABS),
    "stitch: a stitch": (
        "/sore",
        {"signs": "a stitch"},
        "continue",
        ["area", *RF, "signs"],
    ),
    "stitch: side stitch, 5": (
        "/sore",
        {"signs": "side stitch", "severity": "5"},
        "continue",
        ["area", *RF, "signs"],
    ),
    "consent typed yeah sure": ("/sore", {}, "continue", ABS),
    "hip: I limp": (
        "/sore",
        {"area": "hip", "rf_general": "limp"},
        "doctor",
        ["area", *RF],
    ),
    "back: weak leg": (
        "/sore",
        {"area": "my back", "rf_general": "weak leg"},
        "doctor",
        ["area", *RF],
    ),
    "safety: yeah is the emergency list": (
        "/sore",
        {"area": "my back", "rf_general": "yeah"},
        "urgent",
        ["area", *RF],
    ),
    # --- pattern answers typed in words ---
    "sharp and worse": ("/sore", {"signs": "sharp and it gets worse"}, "rest", ABS),
    "aches after every run: overuse, not a doctor": (
        "/sore",
        {"signs": "it keeps coming back after every run"},
        "active",
        ABS,
    ),
    "it gets worse, mild": ("/sore", {"signs": "it gets worse"}, "active", ABS),
    "stabbing, moderate": ("/sore", {"signs": "stabbing", "severity": "5"}, "rest", ABS),
    "more than a week": (
        "/sore",
        {"rf_general": "more than a week"},
        "doctor",
        upto(ABS, "rf_general"),
    ),
    "about a week, severe": (
        "/sore",
        {"duration": "about a week", "severity": "8/10"},
        "doctor",
        without(SEVERE, "change"),
    ),
    "severe, swollen: no duration asked": (
        "/sore",
        {"signs": "swollen", "severity": "9"},
        "doctor",
        upto(ABS, "severity"),
    ),
    "more miles": ("/sore", {"change": "more miles"}, "continue", ABS),
    "hill repeats": ("/sore", {"change": "hill repeats"}, "continue", ABS),
    # --- openers that fill in what they say ---
    "opener abs long run dull 3/10": (
        "my abs hurt since my long run, dull, 3/10",
        {},
        "continue",
        [*RF, "signs", "change"],
    ),
    "opener sharp side during run 7/10": (
        "sharp pain in my side during my run, 7/10",
        {"signs": "sharp"},
        "rest",
        [*RF, "signs", "duration", "change"],
    ),
    "opener severe for 2 days: duration from the opener": (
        "my abs are really sore for 2 days, 8/10",
        {},
        "rest",
        [*RF, "signs", "change"],
    ),
    "opener tight hip flexors, about a 4": (
        "my hip flexors are tight for 2 days, about a 4",
        {},
        "active",
        [*RF, "signs", "change"],
    ),
    "opener lower back ache 2/10": (
        "lower back ache, 2/10",
        {},
        "continue",
        [*RF, "signs", "change"],
    ),
    "opener several spots": (
        "my abs and lower back are both sore",
        {},
        "continue",
        ABS[1:],
    ),
    "opener all over": (
        "everything hurts all over after the marathon",
        {},
        "continue",
        ABS[1:],
    ),
    "/sore with words": (
        "/sore my obliques are sore since yesterday",
        {},
        "continue",
        ABS[1:],
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
    assert statistics.median(mild) <= 5
    assert statistics.median(non_urgent) <= 8 and max(non_urgent) <= 8
