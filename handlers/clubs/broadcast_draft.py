"""The state of a coach's /broadcast set-up dialog ("club_broadcast"): the message as drafted so
far, kept between the questions handlers/clubs/broadcast.py asks."""

from __future__ import annotations

from enum import StrEnum

from bot.engine.state_model import StateModel

DIALOG = "club_broadcast"


class Stage(StrEnum):
    TEXT = "text"  # waiting for the message
    ATTACH = "attach"  # nothing, a card or a challenge
    CARD = "card"
    CHALLENGE = "challenge"
    PREVIEW = "preview"  # shown; Send confirms


class BroadcastDraft(StateModel):
    stage: Stage
    text: str = ""
    card: str | None = None  # the card a button under the message opens
    template: str | None = None  # the library challenge started in every club
