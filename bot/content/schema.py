"""Schemas of the content files. Strict: an unknown key is an error, so typos never pass."""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from bot.content.plural import is_forms

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=40)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)]
Area = Literal["abs", "obliques", "lower_back", "hip_flexors", "glutes"]
Level = Literal["beginner", "intermediate", "advanced"]

LEVELS: tuple[Level, ...] = ("beginner", "intermediate", "advanced")


def _forms(value: str) -> str:
    if not is_forms(value):
        raise ValueError("must be the singular and the plural, as in: # reminder|# reminders")
    return value


# A count's two forms, "one|other" ("#" stands for the number): bot/content/plural.py.
Forms = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_forms)
]


def check_placeholders(model: BaseModel, allowed: Mapping[str, Collection[str]]) -> None:
    """Every {placeholder} in a text field must be one its code fills in, so a typo in a
    content file fails the content check instead of a message at run time. The only format
    spec a placeholder may carry is a count's forms, "{count:session|sessions}"
    (bot/content/plural.py)."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if not isinstance(value, str):
            continue
        permitted = set(allowed.get(name, ()))
        try:
            # A bare "{}" has the name "" and counts as used: .format(**fields) cannot fill it.
            parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(value)]
        except ValueError as exc:
            raise ValueError(f"{name}: broken {{placeholder}} ({exc})") from None
        used = {f for f, _, _ in parsed if f is not None}
        for field, spec, conversion in parsed:
            if field is not None and (conversion or (spec and not is_forms(spec))):
                raise ValueError(
                    f"{name}: {{{field}:{spec}}} is not a count's forms; write them as "
                    f"{{{field}:one|other}}, e.g. {{count:session|sessions}}"
                )
        unknown = used - permitted
        if unknown:
            known = ", ".join(f"{{{p}}}" for p in sorted(permitted)) or "none"
            raise ValueError(
                f"{name}: unknown placeholder {{{sorted(unknown)[0]}}} (allowed: {known})"
            )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dose(Strict):
    kind: Literal["reps", "hold"]
    sets: int = Field(ge=1, le=10)
    reps: int | None = Field(default=None, ge=1, le=100)
    hold_seconds: int | None = Field(default=None, ge=5, le=600)
    per_side: bool = False
    rest_seconds: int = Field(ge=0, le=300)
    times_per_week: Annotated[str, StringConstraints(pattern=r"^\d(-\d)?$")]

    @model_validator(mode="after")
    def _amount_matches_kind(self) -> Dose:
        if self.kind == "reps" and (self.reps is None or self.hold_seconds is not None):
            raise ValueError("a reps dose needs reps and no hold_seconds")
        if self.kind == "hold" and (self.hold_seconds is None or self.reps is not None):
            raise ValueError("a hold dose needs hold_seconds and no reps")
        return self

    def describe(self) -> str:
        side = " per side" if self.per_side else ""
        amount = f"{self.hold_seconds} s hold" if self.kind == "hold" else f"{self.reps} reps"
        return (
            f"{self.sets} × {amount}{side}, {self.rest_seconds} s rest, "
            f"{self.times_per_week} times a week"
        )


class Variant(Strict):
    id: Slug  # names the variant; its animation is images/<card id>--easier.gif (or --harder)
    name: Line
    how: Paragraph


class Card(Strict):
    id: Slug
    name: Line
    aliases: list[Line] = []
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
    level: Level
    areas: list[Area] = Field(min_length=1)
    muscles: list[Line] = Field(min_length=1, max_length=8)
    why_for_runners: Paragraph
    dose: Dose
    steps: list[Line] = Field(min_length=2, max_length=10)
    form_cues: list[Line] = Field(min_length=1, max_length=8)
    common_mistakes: list[Line] = Field(min_length=1, max_length=6)
    easier: Variant
    harder: Variant
    skip_when: list[Line] = Field(min_length=1, max_length=6)
    sources: list[Line] = Field(min_length=1)

    def lookup_names(self) -> list[str]:
        """Every way a person might name this card, normalised for matching."""
        words = [self.id.replace("_", " "), self.name, *self.aliases]
        return sorted({re.sub(r"[^\w ]+", " ", w.casefold()).strip() for w in words})


class PrivacyCentre(Strict):
    """/privacy: what is stored now, and the buttons to change it."""

    stored_heading: Line
    soreness_kept: Line  # {days}: how long detailed answers are kept
    soreness_not_kept: Line
    soreness_not_asked: Line
    keep_button: Line
    stop_button: Line
    export_button: Line
    forget_button: Line
    now_keeping: Paragraph  # {days}
    stopped: Paragraph  # {count}: soreness check results deleted
    # Table name → what its rows are called: "# reminder|# reminders" (bot/content/plural.py).
    kinds: dict[Slug, Forms]

    @model_validator(mode="after")
    def _known_placeholders(self) -> PrivacyCentre:
        check_placeholders(
            self, {"soreness_kept": {"days"}, "now_keeping": {"days"}, "stopped": {"count"}}
        )
        return self


class Texts(Strict):
    """Fixed messages of the bot (onboarding, help, privacy...), kept out of code."""

    welcome: Paragraph
    help_intro: Paragraph
    privacy: Paragraph
    privacy_centre: PrivacyCentre
    fallback: Paragraph
    # A conversation whose stored state this release cannot read (saved by an older one).
    dialog_restarted: Paragraph
    card_not_found: Line
    cards_intro: Line
    sources: list[Line] = Field(min_length=1)
