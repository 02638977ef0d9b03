"""Choosing today's core session: which moves, in which order and at what dose.

Pure functions of (content, level, sore areas, progression, person, day): the same person on
the same day gets the same session, so a session resumed after a restart is the one they began.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, get_args

from bot.content.plural import fill
from bot.content.schema import Area, Card, Level
from bot.content.session_schema import SessionTemplate, SessionTexts, eligible_cards

CARD_AREAS: frozenset[str] = frozenset(get_args(Area))
# Progression: holds and reps as a percentage of the cards' doses, rising at most STEP_PCT %
# a week (the seed's 10 % rule, applied to core work) and never past MAX_DOSE_PCT, where
# harder variants or the next level are the better way on.
STEP_PCT = 10
MAX_DOSE_PCT = 200


@dataclass(frozen=True)
class Move:
    """One move of the session at today's dose (the same in every round)."""

    card_id: str
    kind: Literal["reps", "hold"]
    amount: int  # reps, or seconds of hold
    per_side: bool

    def describe(self, texts: SessionTexts) -> str:
        """ "30 s hold", "12 reps per side": the dose in the words of content."""
        text = texts.move_hold if self.kind == "hold" else texts.move_reps
        return fill(text, amount=self.amount) + (texts.per_side if self.per_side else "")

    def work_seconds(self, seconds_per_rep: int) -> int:
        """Time under work for one set: what "minutes of core work" add up."""
        each = self.amount if self.kind == "hold" else self.amount * seconds_per_rep
        return each * (2 if self.per_side else 1)


@dataclass(frozen=True)
class Plan:
    """Today's session, stored in the dialog (RunState.plan) so a resumed session is exactly
    the same."""

    template: str
    level: Level
    day: str  # the person's local date, ISO
    dose_pct: int  # progression: 100 = the cards' doses (times the level's own scale)
    moves: tuple[Move, ...]
    warmup: tuple[int, ...]  # indices of the template's warm-up items kept today
    rounds: int
    rest_between_moves: int
    rest_between_rounds: int
    seconds_per_rep: int

    def work_seconds(self) -> int:
        return self.rounds * sum(m.work_seconds(self.seconds_per_rep) for m in self.moves)

    def total_seconds(self, template: SessionTemplate) -> int:
        warmup = sum(template.warmup[i].seconds for i in self.warmup)
        rests = self.rounds * max(len(self.moves) - 1, 0) * self.rest_between_moves
        rests += (self.rounds - 1) * self.rest_between_rounds
        return warmup + self.work_seconds() + rests


@dataclass(frozen=True)
class Step:
    kind: Literal["warmup", "move", "rest"]
    round: int = 0  # 0-based
    move: int = 0  # index into Plan.moves


def steps(plan: Plan) -> list[Step]:
    """The session in order: warm-up, then rounds of the moves, a rest between rounds."""
    out = [Step("warmup")] if plan.warmup else []
    for round_ in range(plan.rounds):
        out.extend(Step("move", round_, i) for i in range(len(plan.moves)))
        if round_ < plan.rounds - 1:
            out.append(Step("rest", round_))
    return out


def seed_for(user_id: int, day: date, template: str, level: str) -> int:
    # hashlib, not hash(): Python salts str hashes per process, and a restart must not reshuffle.
    digest = hashlib.blake2b(
        f"{user_id}:{day.isoformat()}:{template}:{level}".encode(), digest_size=8
    )
    return int.from_bytes(digest.digest(), "big")


def next_dose(pct: int) -> int:
    """One week's step up: at most STEP_PCT % more, rounded down (the 10 % rule)."""
    return min(MAX_DOSE_PCT, max(pct + 1, pct * (100 + STEP_PCT) // 100))


def scaled(card: Card, pct: int) -> Move:
    """The card's dose times pct/100, rounded down."""
    dose = card.dose
    if dose.kind == "hold":
        assert dose.hold_seconds is not None  # the schema guarantees it for holds
        return Move(card.id, "hold", max(5, dose.hold_seconds * pct // 100), dose.per_side)
    assert dose.reps is not None
    return Move(card.id, "reps", max(1, dose.reps * pct // 100), dose.per_side)


def dosed_moves(
    cards: list[Card], level_pct: int, dose_pct: int, seconds_per_rep: int
) -> tuple[Move, ...]:
    """The moves at a progression dose, reached one weekly step at a time from 100 %.

    Whole reps and seconds round unevenly (8 reps → 9 is 12.5 %), so each step is checked on
    the session's total work: no step adds more than STEP_PCT % to what the previous dose gave,
    trimming a rep or a second at a time from the moves that grew the most.
    """
    moves = [scaled(card, level_pct) for card in cards]
    pct = 100
    while pct < dose_pct:
        pct = min(dose_pct, next_dose(pct))
        target = [scaled(card, level_pct * pct // 100) for card in cards]
        moves = _capped(moves, target, seconds_per_rep)
    return tuple(moves)


def _capped(before: list[Move], target: list[Move], seconds_per_rep: int) -> list[Move]:
    def total(moves: list[Move]) -> int:
        return sum(m.work_seconds(seconds_per_rep) for m in moves)

    cap = total(before) * (100 + STEP_PCT) // 100
    moves = [t if t.amount >= b.amount else b for b, t in zip(before, target, strict=True)]
    while total(moves) > cap:
        grown = [
            i for i, (b, m) in enumerate(zip(before, moves, strict=True)) if m.amount > b.amount
        ]
        i = max(grown, key=lambda i: (moves[i].amount / before[i].amount, -i))
        moves[i] = replace(moves[i], amount=moves[i].amount - 1)
    return moves


def choose_cards(
    cards: dict[str, Card],
    template: SessionTemplate,
    level: Level,
    sore_areas: frozenset[str],
    seed: int,
) -> list[Card] | None:
    """Up to moves_per_round cards for this level that spare the sore areas, about half of them
    at the person's own level; None when fewer than the template's min_moves remain."""
    plan = template.levels[level]
    pool = sorted(
        (c for c in eligible_cards(cards, plan) if not set(c.areas) & sore_areas),
        key=lambda c: c.id,
    )
    if len(pool) < template.min_moves:
        return None
    rng = random.Random(seed)
    own = [c for c in pool if c.level == level]
    other = [c for c in pool if c.level != level]
    rng.shuffle(own)
    rng.shuffle(other)
    count = min(template.moves_per_round, len(pool))
    from_own = min(len(own), max(math.ceil(count / 2), count - len(other)))
    return _spread(own[:from_own] + other[: count - from_own], rng)


def _spread(chosen: list[Card], rng: random.Random) -> list[Card]:
    """Order the moves so one area is not worked twice in a row where that can be helped."""
    rng.shuffle(chosen)
    ordered: list[Card] = []
    left = list(chosen)
    while left:
        previous = ordered[-1].areas[0] if ordered else None
        pick = next((c for c in left if c.areas[0] != previous), left[0])
        ordered.append(pick)
        left.remove(pick)
    return ordered


def build_plan(
    cards: dict[str, Card],
    template: SessionTemplate,
    level: Level,
    *,
    user_id: int,
    day: date,
    sore_areas: frozenset[str],
    dose_pct: int,
) -> Plan | None:
    """Today's plan, or None when soreness leaves too few moves at this level."""
    chosen = choose_cards(
        cards, template, level, sore_areas, seed_for(user_id, day, template.id, level)
    )
    if chosen is None:
        return None
    level_plan = template.levels[level]
    moves = dosed_moves(chosen, level_plan.dose_pct, dose_pct, template.seconds_per_rep)
    warmup = tuple(i for i, item in enumerate(template.warmup) if not set(item.areas) & sore_areas)
    return Plan(
        template=template.id,
        level=level,
        day=day.isoformat(),
        dose_pct=dose_pct,
        moves=moves,
        warmup=warmup,
        rounds=template.rounds,
        rest_between_moves=level_plan.rest_between_moves,
        rest_between_rounds=level_plan.rest_between_rounds,
        seconds_per_rep=template.seconds_per_rep,
    )
