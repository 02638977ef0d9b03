"""What the Strava feature needs from the settings, set once at start by the composition root
(bot/app.py): handlers get no Settings in a turn, and this stays the one place they are read."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import STRAVA_API_BASE_URL, STRAVA_OAUTH_BASE_URL, Settings

CALLBACK_PATH = "/strava/callback"
WEBHOOK_PATH = "/strava/webhook"


@dataclass(frozen=True)
class StravaSetup:
    client_id: int
    client_secret: str = field(repr=False)
    token_key: str = field(repr=False)
    public_url: str  # the bot's public https root; the callback and webhook live under it
    verify_token: str | None = field(default=None, repr=False)
    api_base_url: str = STRAVA_API_BASE_URL
    oauth_base_url: str = STRAVA_OAUTH_BASE_URL

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + CALLBACK_PATH

    @property
    def webhook_url(self) -> str:
        return self.public_url.rstrip("/") + WEBHOOK_PATH


_current: StravaSetup | None = None


def setup_from(settings: Settings) -> StravaSetup | None:
    """None unless connecting can work: client id, secret, token key and public URL."""
    if not (
        settings.strava_client_id
        and settings.strava_client_secret
        and settings.strava_token_key
        and settings.strava_public_url
    ):
        return None
    return StravaSetup(
        client_id=settings.strava_client_id,
        client_secret=settings.strava_client_secret,
        token_key=settings.strava_token_key,
        public_url=settings.strava_public_url,
        verify_token=settings.strava_verify_token,
        api_base_url=settings.strava_api_base_url,
        oauth_base_url=settings.strava_oauth_base_url,
    )


def configure(setup: StravaSetup | None) -> None:
    global _current
    _current = setup


def current() -> StravaSetup | None:
    return _current
