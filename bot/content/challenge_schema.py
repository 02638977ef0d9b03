"""Club content: the challenge library (content/challenges/*.yaml) and what the club features
say (content/clubs.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from bot.content.schema import Level, Line, Paragraph, Slug, Strict, check_placeholders
from bot.content.yamlsource import Problem, load_folder, read_yaml

# Challenge ids travel in dialog button payloads ("t:<id>", at most 40 characters).
ChallengeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=30)]
# Shown on a button, so short enough for a phone screen.
ButtonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# Copied into a challenge row (challenges.details holds 1,200 characters with the summary).
Details = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=900)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]


class ChallengeTemplate(Strict):
    """A ready-made club challenge a coach can pick with /challenge."""

    id: ChallengeId
    name: ButtonName
    summary: Summary
    how: Details
    # Exercise cards the challenge uses: each must exist in content/cards/.
    cards: list[Slug] = Field(min_length=1, max_length=6)
    # Days with a "Done" that finish the challenge in one week (scaled for longer ones).
    target_days: int = Field(ge=1, le=7)
    level: Level
    sources: list[Line] = Field(min_length=1)

    def details(self) -> str:
        return f"{self.summary}\n\n{self.how}"


# Which {placeholders} each club text may use; anything else is a content error.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "joined": frozenset({"title"}),
    "already_joined": frozenset({"title"}),
    "done": frozenset({"day", "count", "target"}),
    "done_finished": frozenset({"day", "count", "target"}),
    "done_again": frozenset({"day"}),
    "summary_thanks": frozenset({"club"}),
    "resume_question": frozenset({"club", "title"}),
    "link_code": frozenset({"code", "minutes"}),
    "linked": frozenset({"club"}),
    "report_unreachable": frozenset(),
    "next_challenge": frozenset({"title", "when"}),
    "custom_title": frozenset({"max"}),
    "custom_body": frozenset({"max"}),
    "replace_question": frozenset({"current", "count", "new"}),
    "replaced": frozenset({"titles"}),
    "goal": frozenset({"target", "days"}),
    "day_count": frozenset({"n"}),
    "board_line": frozenset({"rank", "name", "distance", "runs"}),
    "streak_days": frozenset({"n"}),
    "report_joined": frozenset({"joined", "seen"}),
    "target_question": frozenset({"days"}),
    "length_days": frozenset({"n"}),
    "length_weeks": frozenset({"n"}),
    "broadcast_preview": frozenset({"count", "clubs"}),
    "broadcast_send": frozenset({"count"}),
    "broadcast_sending": frozenset({"count"}),
    "broadcast_skipped": frozenset({"count"}),
    "broadcast_report": frozenset({"sent", "tz", "count"}),
    "report_done": frozenset(),
    "report_so_far": frozenset(),
    "report_delivered": frozenset({"count"}),
    "report_failed": frozenset({"count"}),
    "report_gone": frozenset({"count"}),
    "report_pending": frozenset({"count"}),
    "report_maybe_twice": frozenset({"count"}),
}


class ClubTexts(Strict):
    """Fixed messages of the club features."""

    not_in_group: Line
    coach_only: Paragraph
    coach_help: Paragraph
    member_help: Paragraph
    post_footer: Paragraph
    safety_note: Paragraph
    joined: Line
    already_joined: Line
    done: Line
    done_finished: Line
    done_again: Line
    ended: Line
    not_started: Line
    paused: Line
    goal: Line
    day_count: Line
    streak_days: Line
    # The opt-in distance board (/board): names, distance and runs only, never health.
    board_title: Line
    board_line: Line
    board_note: Line
    board_empty: Paragraph
    board_join_button: Line
    board_leave_button: Line
    board_joined: Paragraph
    board_left: Paragraph
    report_joined: Line
    target_question: Paragraph
    target_every_day: ButtonName
    length_days: ButtonName
    length_weeks: ButtonName
    broadcast_preview: Line
    broadcast_send: ButtonName
    broadcast_sending: Line
    broadcast_skipped: Paragraph
    broadcast_report: Line
    # The broadcast's delivery report, a line each (handlers/clubs/broadcast.py).
    report_done: Line
    report_so_far: Line
    report_delivered: Line
    report_failed: Line
    report_gone: Line
    report_pending: Line
    report_maybe_twice: Paragraph
    wrong_chat: Line
    no_challenge: Line
    next_challenge: Line
    current_lead: Line
    coach_status_none: Line
    coach_new_prompt: Paragraph
    new_challenge_button: ButtonName
    custom_title: Paragraph
    custom_body: Paragraph
    replace_question: Paragraph
    replace_button: ButtonName
    keep_button: ButtonName
    kept: Line
    replaced: Line
    summary_thanks: Line
    report_unreachable: Paragraph
    resume_question: Paragraph
    resumed_lead: Line  # heads the challenge post when a coach carries on after a pause
    link_code: Paragraph
    linked: Line
    broadcast_ask: Paragraph
    broadcast_no_clubs: Paragraph
    sources: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_placeholders(self) -> ClubTexts:
        check_placeholders(self, PLACEHOLDERS)
        return self


def load_challenges(
    folder: Path, card_ids: set[str], problems: list[Problem]
) -> dict[str, ChallengeTemplate]:
    """The library, keyed by id; every card it names must exist."""
    templates = load_folder(folder, ChallengeTemplate, problems)
    for template in templates.values():
        missing = [card for card in template.cards if card not in card_ids]
        if missing:
            path = folder / f"{template.id}.yaml"
            _, lines, _ = read_yaml(path)
            problems.append(
                Problem(path, lines.get(("cards",), 1), f"cards: no card {missing[0]!r}")
            )
    return templates
