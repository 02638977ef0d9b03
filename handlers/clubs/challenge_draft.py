"""The state of a coach's /challenge set-up dialog ("club_challenge"): the challenge as drafted
so far, kept between the questions handlers/clubs/challenge_setup.py asks."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from bot.engine.state_model import StateModel

DIALOG = "club_challenge"


class Stage(StrEnum):
    PICK = "pick"  # from the library, or the coach's own words
    CUSTOM = "custom"  # their own: typing its title
    BODY = "body"  # their own: typing what to do
    DAY = "day"
    TIME = "time"
    LENGTH = "length"
    TARGET = "target"  # own words only: a library challenge scales its weekly target
    REPEAT = "repeat"  # challenges of a week or less
    CONFIRM = "confirm"
    REPLACE = "replace"  # another challenge is set for the club: replace it, or keep it


class ChallengeDraft(StateModel):
    stage: Stage
    tz: str  # the zone of day and time: the club's last, or one typed at those questions
    template: str | None = None  # the library challenge; None: the coach's own words
    title: str = ""
    details: str = ""
    week_target: int | None = None  # the library's days for a week, scaled to the length
    day: date | None = None  # the local start day
    minute: int | None = None  # the local start time; None once past TIME: right away
    days: int = 0
    target: int = 0  # days of Done that reach the goal
    repeat: bool = False
    # The club's challenges in the way, as shown at the replace-or-keep question.
    replacing: list[int] = Field(default_factory=list)
