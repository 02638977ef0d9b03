"""Settings, all from environment variables. A wrong value stops the bot with the variable named."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.content.bundle import DEFAULT_CONTENT_DIR

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/corecoach.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    content_dir: Path = DEFAULT_CONTENT_DIR
    log_level: str = "WARNING"
    telegram_token: str | None = None
    telegram_api_base_url: str | None = None
    discord_token: str | None = None

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
        return cls(
            database_url=url,
            content_dir=content_dir,
            log_level=level,
            telegram_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_base_url=get("TELEGRAM_API_BASE_URL"),
            discord_token=get("DISCORD_BOT_TOKEN"),
        )

    @property
    def has_platform(self) -> bool:
        return bool(self.telegram_token or self.discord_token)
