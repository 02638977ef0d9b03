"""The soreness check's dialog state, typed (bot/engine/state_model.py): the engine reads and
writes it; rows stored by the previous release have the same keys."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from bot.engine.state_model import StateModel


class Phase(StrEnum):
    CONSENT = "consent"
    ASK = "ask"


class Answered(StateModel):
    """One step back: the question asked and the facts as they were before its answer."""

    q: str
    facts: dict[str, str] = Field(default_factory=dict)


class TriageState(StateModel):
    phase: Phase = Phase.ASK
    q: str = ""  # the question waiting for an answer
    facts: dict[str, str] = Field(default_factory=dict)  # option values only, never typed text
    stack: list[Answered] = Field(default_factory=list)
    # Facts read from the opening message (confirmed in one line, their questions skipped).
    prefilled: dict[str, str] = Field(default_factory=dict)
    # What the training log said when the check began (kept with the report if it is stored).
    load_jumped: bool = False
    run_id: int | None = None
