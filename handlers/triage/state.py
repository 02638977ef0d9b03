"""The soreness check's dialog state, typed: stored with model_dump(mode="json") in
ctx.dialog.data and read back with model_validate (old rows have the same keys)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Phase(StrEnum):
    CONSENT = "consent"
    ASK = "ask"


class Answered(BaseModel):
    """One step back: the question asked and the facts as they were before its answer."""

    model_config = ConfigDict(extra="ignore")

    q: str
    facts: dict[str, str] = Field(default_factory=dict)


class TriageState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    phase: Phase = Phase.ASK
    q: str = ""  # the question waiting for an answer
    facts: dict[str, str] = Field(default_factory=dict)  # option values only, never typed text
    stack: list[Answered] = Field(default_factory=list)
    # Facts read from the opening message (confirmed in one line, their questions skipped).
    prefilled: dict[str, str] = Field(default_factory=dict)
