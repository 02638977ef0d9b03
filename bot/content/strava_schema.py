"""The schema of content/strava.yaml: what the Strava connection says in the chat, and the
words of the small web pages the OAuth callback shows."""

from __future__ import annotations

from pydantic import model_validator

from bot.content.schema import Line, Paragraph, Strict, check_placeholders


class StravaPage(Strict):
    """One page of the callback: its title (also the tab's name) and a short paragraph."""

    title: Line
    body: Paragraph


class StravaPages(Strict):
    connected: StravaPage
    denied: StravaPage
    expired: StravaPage
    already: StravaPage
    failed: StravaPage
    not_found: StravaPage


class StravaTexts(Strict):
    not_configured: Paragraph
    private_only: Paragraph
    ask_scope: Paragraph
    public_button: Line
    private_button: Line
    link: Paragraph
    link_button: Line
    status: Paragraph
    all_sports_on: Line
    all_sports_off: Line
    checkins_on: Line
    checkins_off: Line
    sports_button_on: Line
    sports_button_off: Line
    checkins_button_on: Line
    checkins_button_off: Line
    disconnect_button: Line
    not_connected: Paragraph
    disconnected: Paragraph
    connected_chat: Paragraph
    revoked_chat: Paragraph
    settings_saved: Paragraph
    checkin_question: Paragraph
    fine_button: Line
    bit_sore_button: Line
    sore_button: Line
    off_button: Line
    fine_answer: Paragraph
    bit_sore_answer: Paragraph
    checkins_stopped: Paragraph
    not_yours: Paragraph
    pages: StravaPages

    @model_validator(mode="after")
    def _placeholders(self) -> StravaTexts:
        check_placeholders(
            self,
            {
                "status": ["summary"],
                "checkin_question": ["distance"],
            },
        )
        return self
