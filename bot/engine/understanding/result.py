"""What the understanding layer found in one message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


@dataclass(frozen=True)
class Understanding:
    # Red flags said (or said with uncertainty, which counts), in the order they appear.
    red_flags: tuple[str, ...] = ()
    # Red flags explicitly denied ("no fever") and not also said elsewhere.
    denied_flags: tuple[str, ...] = ()
    # slot → the values said ("area" → ("abs",)), negated mentions left out.
    slots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    score: int | None = None  # a pain score the text calls one (N/10, "about N")
    number: int | None = None  # any other number that is not a time or a distance
    answer: Answer | None = None  # a typed yes / no / unsure
    small_talk: str | None = None  # the kind ("thanks", "hello", "ok"...) when that is all

    def slot(self, name: str) -> str | None:
        """The one value said for this slot; None when none or several were."""
        values = self.slots.get(name, ())
        return values[0] if len(values) == 1 else None

    @property
    def pain_score(self) -> int | None:
        """A score, or a lone number where a score is asked for."""
        return self.score if self.score is not None else self.number
