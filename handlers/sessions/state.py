"""The state of one guided session, as kept in the persisted dialog (JSON in DialogState.data):
what was planned, where the person is, and what they did so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.content.bundle import ContentBundle
from handlers.sessions.builder import Move, Plan, Step, steps

# Phases of the dialog.
LEVEL = "level"  # asking the person's level (first session only)
READY = "ready"  # the overview is shown; Start begins
STEP = "step"  # at steps[pos]: warm-up, a move, or the rest between rounds
HOLD = "hold"  # a timed move's timer is running
PAUSED = "paused"  # stopped: Resume or Abandon
OPEN = "open"  # /session while one is open: Resume or Start over

EASIER, HARDER = "easier", "harder"


@dataclass
class RunState:
    phase: str
    template: str
    plan: Plan | None = None
    pos: int = 0
    variants: dict[str, str] = field(default_factory=dict)  # card id → easier | harder
    done: int = 0
    skipped: int = 0
    work_seconds: int = 0
    started_at: datetime | None = None
    resume_to: str | None = None  # the phase Resume returns to
    offer: int | None = None  # a step-up dose on offer in the overview
    stepped_up: int = 0  # the step taken in the overview, in percent (0: none)
    at_cap: bool = False
    sore: list[str] = field(default_factory=list)
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
            return self.phase == LEVEL
        return (
            all(m.card_id in content.cards for m in self.plan.moves)
            and all(i < len(template.warmup) for i in self.plan.warmup)
            and 0 <= self.pos < len(self.steps)
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "template": self.template,
            "plan": self.plan.to_data() if self.plan else None,
            "pos": self.pos,
            "variants": dict(self.variants),
            "done": self.done,
            "skipped": self.skipped,
            "work": self.work_seconds,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "resume_to": self.resume_to,
            "offer": self.offer,
            "stepped_up": self.stepped_up,
            "at_cap": self.at_cap,
            "sore": list(self.sore),
            "unsure": self.unsure,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RunState | None:
        """None for data this version cannot read (a session from an older release)."""
        try:
            started = data.get("started_at")
            return cls(
                phase=str(data["phase"]),
                template=str(data["template"]),
                plan=Plan.from_data(data["plan"]) if data.get("plan") else None,
                pos=int(data["pos"]),
                variants={str(k): str(v) for k, v in data.get("variants", {}).items()},
                done=int(data["done"]),
                skipped=int(data["skipped"]),
                work_seconds=int(data["work"]),
                started_at=datetime.fromisoformat(started) if started else None,
                resume_to=data.get("resume_to"),
                offer=data.get("offer"),
                stepped_up=int(data.get("stepped_up") or 0),
                at_cap=bool(data.get("at_cap")),
                sore=[str(a) for a in data.get("sore", [])],
                unsure=bool(data.get("unsure")),
            )
        except (KeyError, TypeError, ValueError):
            return None
