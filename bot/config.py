"""Settings, all from environment variables. A wrong value stops the bot with the variable named.

`Settings.from_env` is the one place that reads the environment: the CLI builds one Settings
at start-up and passes it (or values from it) down; no other module looks at os.environ.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.logsafe import DEFAULT_SALT

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/corecoach.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The content/ folder of this checkout: bot.content.bundle's DEFAULT_CONTENT_DIR, not imported
# from there because that pulls in the content schemas and scheduler/ (config stays a leaf).
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[1] / "content"
# Files the bot writes besides the database (progress charts), relative to the working folder.
DEFAULT_DATA_DIR = Path("data")
MINUTES_PER_DAY = 24 * 60
STRAVA_API_BASE_URL = "https://www.strava.com/api/v3"
STRAVA_OAUTH_BASE_URL = "https://www.strava.com/oauth"
_SPAN_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class QuietSpan:
    """COACH_QUIET_HOURS as plain values: a daily local span [start, end) in minutes after
    midnight; start == end means none. scheduler/quiet.py does the clock maths on it."""

    start: int = 22 * 60
    end: int = 7 * 60

    def __post_init__(self) -> None:
        if not (0 <= self.start < MINUTES_PER_DAY and 0 <= self.end < MINUTES_PER_DAY):
            raise ValueError(f"minutes of the day are 0-{MINUTES_PER_DAY - 1}")

    @classmethod
    def parse(cls, text: str) -> QuietSpan:
        """ "22:00-07:00", or "off" (or "none") for none."""
        if text.strip().casefold() in ("off", "none"):
            return cls(0, 0)
        match = _SPAN_RE.match(text.strip())
        if match is None:
            raise ValueError("expected HH:MM-HH:MM or off")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError("hours 0-23, minutes 0-59")
        return cls(h1 * 60 + m1, h2 * 60 + m2)


@dataclass(frozen=True)
class Settings:
    # repr=False on whatever may hold a secret (a password in the URL, tokens, the log salt):
    # a Settings that ends up in a log or a traceback does not carry them along.
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    content_dir: Path = DEFAULT_CONTENT_DIR
    log_level: str = "WARNING"
    data_dir: Path = DEFAULT_DATA_DIR
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str | None = None
    discord_token: str | None = field(default=None, repr=False)
    # Key of the hashed ids in logs (bot.logsafe.configure).
    log_salt: str = field(default=DEFAULT_SALT, repr=False)
    # Proactive messages (scheduler/): see the README's configuration table.
    sweep_seconds: float = 20.0
    reminder_grace_minutes: int = 60
    quiet_hours: QuietSpan = QuietSpan()
    default_timezone: str = "UTC"
    telegram_rate: float = 30.0
    discord_rate: float = 10.0
    # Discord (bot/adapters/discord/): see the README's "Discord" section.
    discord_sync_on_start: bool = False
    discord_guild_ids: tuple[int, ...] = ()
    discord_coach_role: str | None = None
    discord_sharded: bool = False
    # Telegram (bot/adapters/telegram/): see the README's "Telegram" section.
    telegram_mode: str = "polling"  # or "webhook"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    # Operations (bot/ops/): /healthz and /metrics; port 0 turns the server off.
    health_host: str = "127.0.0.1"
    health_port: int = 8080
    # Detailed soreness answers are reduced to the outcome after this many days; None: the
    # content's detail_retention_days (what people are told). The shorter of the two wins.
    triage_retention_days: int | None = None
    # Strava (handlers/strava/): see the README's "Strava" section. Connecting needs the
    # client id and secret, the public URL and the token key; the webhook needs the verify token.
    strava_client_id: int | None = None
    strava_client_secret: str | None = field(default=None, repr=False)
    strava_verify_token: str | None = field(default=None, repr=False)
    strava_token_key: str | None = field(default=None, repr=False)
    strava_public_url: str | None = None
    strava_api_base_url: str = STRAVA_API_BASE_URL
    strava_oauth_base_url: str = STRAVA_OAUTH_BASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        url = get("COACH_DATABASE_URL") or DEFAULT_DATABASE_URL
        if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
            raise ConfigError(
                "COACH_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        content_dir = Path(get("COACH_CONTENT_DIR") or DEFAULT_CONTENT_DIR)
        if not content_dir.is_dir():
            raise ConfigError(f"COACH_CONTENT_DIR: {content_dir} is not a folder")
        level = (get("COACH_LOG_LEVEL") or "WARNING").upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"COACH_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        try:
            quiet = QuietSpan.parse(get("COACH_QUIET_HOURS") or "22:00-07:00")
        except ValueError as exc:
            raise ConfigError(f"COACH_QUIET_HOURS: {exc} (e.g. 22:00-07:00)") from None
        default_tz = get("COACH_DEFAULT_TIMEZONE") or "UTC"
        if default_tz not in zoneinfo.available_timezones():
            raise ConfigError("COACH_DEFAULT_TIMEZONE must be an IANA zone like Europe/Berlin")
        return cls(
            database_url=url,
            content_dir=content_dir,
            log_level=level,
            data_dir=_data_dir(get),
            telegram_token=_matching(get, "TELEGRAM_BOT_TOKEN", r"\d+:[A-Za-z0-9_-]+", "123:AbC"),
            telegram_api_base_url=_matching(
                get, "TELEGRAM_API_BASE_URL", r"https?://\S+", "https://api.telegram.org"
            ),
            discord_token=_matching(get, "DISCORD_BOT_TOKEN", r"[A-Za-z0-9_.-]+", "MTk4.Cl2F.ZnCj"),
            log_salt=get("COACH_LOG_SALT") or DEFAULT_SALT,
            sweep_seconds=_number(get, "COACH_SWEEP_SECONDS", 20.0, 1.0, 3600.0),
            reminder_grace_minutes=int(
                _number(get, "COACH_REMINDER_GRACE_MINUTES", 60, 0, 24 * 60, whole=True)
            ),
            quiet_hours=quiet,
            default_timezone=default_tz,
            telegram_rate=_number(get, "COACH_TELEGRAM_RATE", 30.0, 0.1, 30.0),
            discord_rate=_number(get, "COACH_DISCORD_RATE", 10.0, 0.1, 50.0),
            discord_sync_on_start=_flag(get, "DISCORD_SYNC_ON_START"),
            discord_guild_ids=_snowflakes(get, "DISCORD_GUILD_IDS"),
            discord_coach_role=_matching(get, "DISCORD_COACH_ROLE", r".{1,100}", "Coach"),
            discord_sharded=_flag(get, "DISCORD_SHARDED"),
            **_telegram_webhook(get),
            health_host=get("COACH_HEALTH_HOST") or "127.0.0.1",
            health_port=int(_number(get, "COACH_HEALTH_PORT", 8080, 0, 65535, whole=True)),
            triage_retention_days=(
                int(_number(get, "COACH_TRIAGE_RETENTION_DAYS", 0, 1, 3650, whole=True))
                if get("COACH_TRIAGE_RETENTION_DAYS")
                else None
            ),
            **_strava(get),
        )

    @property
    def has_platform(self) -> bool:
        return bool(self.telegram_token or self.discord_token)


def _matching(
    get: Callable[[str], str | None], name: str, pattern: str, example: str
) -> str | None:
    """A value with a known shape: a pasted token with quotes or a "Bot " prefix fails here,
    with the variable named, instead of as a puzzling login error later."""
    value = get(name)
    if value is not None and not re.fullmatch(pattern, value):
        raise ConfigError(f"{name} does not look right (expected something like {example})")
    return value


def _telegram_webhook(get: Callable[[str], str | None]) -> dict[str, Any]:
    """Polling needs nothing; a webhook needs the public URL and a secret Telegram echoes in
    every request, so forged updates posted to the URL are refused."""
    mode = (get("TELEGRAM_MODE") or "polling").lower()
    if mode not in ("polling", "webhook"):
        raise ConfigError("TELEGRAM_MODE must be polling or webhook")
    url = _matching(
        get, "TELEGRAM_WEBHOOK_URL", r"https?://[^\s/]+(/\S*)?", "https://bot.example.org/tg"
    )
    secret = _matching(
        get, "TELEGRAM_WEBHOOK_SECRET", r"[A-Za-z0-9_-]{16,256}", "16+ letters, digits, _ or -"
    )
    if mode == "webhook" and url is None:
        raise ConfigError("TELEGRAM_WEBHOOK_URL is needed when TELEGRAM_MODE is webhook")
    if mode == "webhook" and secret is None:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET is needed when TELEGRAM_MODE is webhook")
    return {
        "telegram_mode": mode,
        "telegram_webhook_url": url,
        "telegram_webhook_secret": secret,
        "telegram_webhook_listen": get("TELEGRAM_WEBHOOK_LISTEN") or "0.0.0.0",
        "telegram_webhook_port": int(
            _number(get, "TELEGRAM_WEBHOOK_PORT", 8443, 1, 65535, whole=True)
        ),
    }


def _strava(get: Callable[[str], str | None]) -> dict[str, Any]:
    """All optional: without the client id, secret, key and public URL /strava says Strava is
    not set up here. The key is checked for Fernet's shape (32 url-safe base64 bytes)."""
    client_id = _matching(get, "STRAVA_CLIENT_ID", r"[0-9]{1,12}", "12345")
    key = _matching(get, "STRAVA_TOKEN_KEY", r"[A-Za-z0-9_-]{43}=", "a Fernet.generate_key()")
    return {
        "strava_client_id": int(client_id) if client_id else None,
        "strava_client_secret": _matching(
            get, "STRAVA_CLIENT_SECRET", r"[A-Za-z0-9]{16,128}", "the 40-character secret"
        ),
        "strava_verify_token": _matching(
            get, "STRAVA_VERIFY_TOKEN", r"[A-Za-z0-9_-]{16,256}", "16+ letters, digits, _ or -"
        ),
        "strava_token_key": key,
        "strava_public_url": _matching(
            get, "STRAVA_PUBLIC_URL", r"https?://[^\s/]+(/\S*)?", "https://coach.example.org"
        ),
        "strava_api_base_url": _matching(
            get, "STRAVA_API_BASE_URL", r"https?://\S+", STRAVA_API_BASE_URL
        )
        or STRAVA_API_BASE_URL,
        "strava_oauth_base_url": _matching(
            get, "STRAVA_OAUTH_BASE_URL", r"https?://\S+", STRAVA_OAUTH_BASE_URL
        )
        or STRAVA_OAUTH_BASE_URL,
    }


def _flag(get: Callable[[str], str | None], name: str) -> bool:
    raw = (get(name) or "0").lower()
    if raw not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name} must be 1 or 0")
    return raw in ("1", "true", "yes")


def _snowflakes(get: Callable[[str], str | None], name: str) -> tuple[int, ...]:
    """Comma-separated Discord ids (server ids: right-click the server, Copy Server ID)."""
    parts = [p.strip() for p in (get(name) or "").split(",") if p.strip()]
    if not all(re.fullmatch(r"[0-9]{15,21}", p) for p in parts):
        raise ConfigError(f"{name} must be comma-separated server ids like 1234567890123456789")
    return tuple(dict.fromkeys(int(p) for p in parts))


def _number(
    get: Callable[[str], str | None],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    whole: bool = False,
) -> float:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name} must be {kind} between {low:g} and {high:g}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}")
    return value


def _data_dir(get: Callable[[str], str | None]) -> Path:
    """COACH_DATA_DIR: where progress charts are written (created when missing)."""
    data_dir = Path(get("COACH_DATA_DIR") or DEFAULT_DATA_DIR)
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"COACH_DATA_DIR: {data_dir} exists but is not a folder")
    return data_dir
