"""The state of one guided session, kept in the persisted dialog ("session"): what was planned,
where the person is, and what they did so far."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from bot.content.bundle import ContentBundle
from bot.engine.state_model import StateModel
from handlers.sessions.builder import Move, Plan, Step, steps


class Phase(StrEnum):
    LEVEL = "level"  # asking the person's level (first session only)
    READY = "ready"  # the overview is shown; Start begins
    STEP = "step"  # at steps[pos]: warm-up, a move, or the rest between rounds
    HOLD = "hold"  # a timed move's timer is running
    PAUSED = "paused"  # stopped: Resume or Abandon
    OPEN = "open"  # /session while one is open: Resume or Start over


class Variant(StrEnum):
    """A card's easier or harder version (also the choice values of their buttons)."""

    EASIER = "easier"
    HARDER = "harder"


class RunState(StateModel):
    phase: Phase
    template: str
    plan: Plan | None = None  # None while asking the level
    pos: int = 0
    # The variant chosen for a card, in this and every later round.
    variants: dict[str, Variant] = Field(default_factory=dict)
    done: int = 0
    skipped: int = 0
    # Seconds of work credited so far: time actually spent, each move at most its plan.
    work_seconds: int = 0
    started_at: datetime | None = None
    # When the current step was first shown (a rep move's time runs from here), and when the
    # running hold's Start was pressed; both on the turn's clock (ctx.now).
    step_started_at: datetime | None = None
    hold_started_at: datetime | None = None
    resume_to: Phase | None = None  # the phase Resume returns to
    offer: int | None = None  # a step-up dose on offer in the overview
    stepped_up: int = 0  # the step taken in the overview, in percent (0: none)
    at_cap: bool = False
    sore: list[str] = Field(default_factory=list)
    unsure: bool = False

    @property
    def steps(self) -> list[Step]:
        return steps(self.plan) if self.plan else []

    @property
    def step(self) -> Step:
        return self.steps[self.pos]

    @property
    def move(self) -> Move:
        assert self.plan is not None
        return self.plan.moves[self.step.move]

    @property
    def total_moves(self) -> int:
        return len(self.plan.moves) * self.plan.rounds if self.plan else 0

    def fits(self, content: ContentBundle) -> bool:
        """False when the content changed under a stored session (template or card gone)."""
        template = content.sessions.templates.get(self.template)
        if template is None:
            return False
        if self.plan is None:
            return self.phase == Phase.LEVEL
        return (
            all(m.card_id in content.cards for m in self.plan.moves)
            and all(i < len(template.warmup) for i in self.plan.warmup)
            and 0 <= self.pos < len(self.steps)
        )
