"""Schemas of content/sessions/: session templates (format, warm-up, rounds, rest and dose per
level) in templates/*.yaml, and the messages of guided sessions and /progress in texts.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from bot.content.schema import (
    LEVELS,
    Area,
    Card,
    Level,
    Line,
    Paragraph,
    Slug,
    Strict,
    check_placeholders,
)
from bot.content.yamlsource import Problem, load_folder, load_model

ButtonLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class WarmupItem(Strict):
    text: Line
    seconds: int = Field(ge=10, le=300)
    # Left out of the warm-up while one of these areas is sore.
    areas: list[Area] = Field(default_factory=list)


class LevelPlan(Strict):
    # Which cards this level draws its moves from (a card's own `level`).
    card_levels: list[Level] = Field(min_length=1)
    rest_between_moves: int = Field(ge=0, le=180)
    rest_between_rounds: int = Field(ge=0, le=600)
    # Scales the cards' holds and reps (100 = the card's dose), before any progression.
    dose_pct: int = Field(default=100, ge=50, le=200)


class SessionTemplate(Strict):
    id: Slug
    name: Line
    summary: Line
    # The template /session uses when none is named; exactly one template has it.
    default: bool = False
    rounds: int = Field(ge=1, le=6)
    moves_per_round: int = Field(ge=1, le=8)
    # With soreness ruling moves out, fewer moves are fine down to this; below it, no session.
    min_moves: int = Field(ge=1, le=8)
    # For estimating the time of rep-based moves (minutes of core work, session length).
    seconds_per_rep: int = Field(default=3, ge=1, le=10)
    warmup: list[WarmupItem] = Field(min_length=1, max_length=8)
    levels: dict[Level, LevelPlan]
    sources: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SessionTemplate:
        if self.min_moves > self.moves_per_round:
            raise ValueError("min_moves cannot be more than moves_per_round")
        missing = [level for level in LEVELS if level not in self.levels]
        if missing:
            raise ValueError(f"levels needs an entry for {', '.join(missing)}")
        for level, plan in self.levels.items():
            if level not in plan.card_levels:
                raise ValueError(f"levels.{level}.card_levels must include {level}")
        return self


class LevelText(Strict):
    label: ButtonLabel
    description: Line


# The {placeholders} each message may use; anything else is a typo the loader reports.
_PLACEHOLDERS: dict[str, set[str]] = {
    "level_set": {"level"},
    "level_current": {"level"},
    "overview_title": {"level", "minutes"},
    "overview_rounds": {"rounds"},
    "move_reps": {"amount"},
    "move_hold": {"amount"},
    "sore_note": {"areas"},
    "too_few_moves": {"areas"},
    "refused_rest": {"date", "until"},
    "refused_escalation": {"date", "title"},
    "progression_offer": {"pct"},
    "stepped_up": {"pct"},
    "rest_between_moves": {"seconds"},
    "hold_go": {"hold"},
    "hold_early": {"seconds"},
    "hold_ended_early": {"held", "planned"},
    "round_rest": {"round", "rounds", "seconds", "next"},
    "open_session": {"done", "total"},
    "abandoned_saved": {"done"},
    "finished": {"done", "minutes", "week"},
    "progress_week": {"count", "minutes"},
    "progress_streak": {"weeks"},
    "progress_total": {"weeks", "count", "minutes"},
    "chart_weeks": {"zone"},
    "chart_title": {"weeks"},
    "progress_line": {"day", "level", "moves", "minutes", "how"},
}


class SessionTexts(Strict):
    """What guided sessions and /progress say. Markup: **bold**; {names} are filled in."""

    group_redirect: Paragraph
    group_button: ButtonLabel
    ask_level: Paragraph
    levels: dict[Level, LevelText]
    level_set: Line
    level_current: Line
    level_unset: Line
    overview_title: Line
    overview_rounds: Line
    move_reps: Line
    move_hold: Line
    # After a dose, for moves done on each side; its leading space is kept.
    per_side: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    form_reminder: Line
    sore_note: Line
    unsure_note: Line
    too_few_moves: Paragraph
    refused_rest: Paragraph
    refused_escalation: Paragraph
    check_again_button: ButtonLabel
    # The safety question before a session for people who keep no soreness checks.
    screen_question: Paragraph
    screen_yes: ButtonLabel
    screen_no: ButtonLabel
    screen_refused: Paragraph
    progression_offer: Paragraph
    progression_at_cap: Paragraph
    stepped_up: Line
    rest_between_moves: Line
    hold_ready: Line
    hold_go: Line
    # Done before a hold's timer is up; End early, which counts the seconds held.
    hold_early: Paragraph
    hold_ended_early: Line
    round_rest: Line
    paused: Line
    open_session: Line
    abandoned: Line
    abandoned_saved: Line
    not_now: Line
    finished: Paragraph
    goal_met: Line
    pain_stop: Paragraph
    unknown_input: Line
    content_changed: Line
    progress_title: Line
    progress_empty: Paragraph
    progress_week: Line
    progress_streak: Line
    progress_no_streak: Line
    progress_total: Line
    progress_last: Line
    progress_line: Line  # one of the last sessions
    progress_finished: Line
    progress_stopped: Line
    chart_title: Line
    chart_weeks: Line  # under the chart's title: what a bar and its label stand for
    sources: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_placeholders(self) -> SessionTexts:
        check_placeholders(self, _PLACEHOLDERS)
        missing = [level for level in LEVELS if level not in self.levels]
        if missing:
            raise ValueError(f"levels needs an entry for {', '.join(missing)}")
        return self


@dataclass(frozen=True)
class SessionContent:
    templates: dict[str, SessionTemplate]
    texts: SessionTexts

    @property
    def default(self) -> SessionTemplate:
        return next(t for t in self.templates.values() if t.default)


def eligible_cards(cards: dict[str, Card], plan: LevelPlan) -> list[Card]:
    """The cards a level may draw from, before soreness rules any out."""
    return [card for card in cards.values() if card.level in plan.card_levels]


def load_sessions(
    folder: Path, cards: dict[str, Card], problems: list[Problem]
) -> SessionContent | None:
    """Load and cross-check content/sessions/; None (with problems added) when anything is off."""
    if not folder.is_dir():
        problems.append(Problem(folder, 1, "folder is missing"))
        return None
    before = len(problems)
    texts, found = load_model(folder / "texts.yaml", SessionTexts)
    problems.extend(found)
    templates = load_folder(folder / "templates", SessionTemplate, problems)
    defaults = [t.id for t in templates.values() if t.default]
    if templates and len(defaults) != 1:
        which = ", ".join(defaults) if defaults else "none"
        message = f"exactly one template needs `default: true` (now: {which})"
        problems.append(Problem(folder / "templates", 1, message))
    for template in templates.values():
        for level, plan in template.levels.items():
            available = len(eligible_cards(cards, plan))
            if cards and available < template.moves_per_round:
                problems.append(
                    Problem(
                        folder / "templates" / f"{template.id}.yaml",
                        1,
                        f"levels.{level}: {template.moves_per_round} moves per round, but only "
                        f"{available} cards have a level in {plan.card_levels}",
                    )
                )
    if texts is None or len(problems) > before:
        return None
    return SessionContent(templates=templates, texts=texts)
