"""Settings from the environment: sensible defaults, and a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, ConfigError, Settings
from bot.content.bundle import DEFAULT_CONTENT_DIR


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.content_dir == DEFAULT_CONTENT_DIR
    assert settings.log_level == "WARNING"
    assert settings.telegram_token is None and settings.discord_token is None
    assert not settings.has_platform


def test_good_values_are_taken(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "COACH_DATABASE_URL": " postgresql+asyncpg://coach@db:5432/coach ",
            "COACH_CONTENT_DIR": str(tmp_path),
            "COACH_LOG_LEVEL": "info",
            "TELEGRAM_BOT_TOKEN": "123456:AA-bc_D",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "DISCORD_BOT_TOKEN": "MTk4NjIy.Cl2FMQ.ZnCjm1X-_",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://coach@db:5432/coach"
    assert settings.content_dir == tmp_path
    assert settings.log_level == "INFO"
    assert settings.telegram_token == "123456:AA-bc_D"
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.has_platform


def test_blank_values_mean_the_default() -> None:
    settings = Settings.from_env({"COACH_LOG_LEVEL": "  ", "TELEGRAM_BOT_TOKEN": ""})
    assert settings.log_level == "WARNING"
    assert settings.telegram_token is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COACH_DATABASE_URL", "sqlite:///data/corecoach.db"),  # the sync driver
        ("COACH_DATABASE_URL", "postgres://coach@db/coach"),
        ("COACH_DATABASE_URL", "mysql+aiomysql://db/coach"),
        ("COACH_CONTENT_DIR", "/no/such/folder"),
        ("COACH_CONTENT_DIR", __file__),  # a file, not a folder
        ("COACH_LOG_LEVEL", "LOUD"),
        ("TELEGRAM_BOT_TOKEN", '"123456:AAbc"'),  # pasted with its quotes
        ("TELEGRAM_BOT_TOKEN", "bot123456:AAbc"),
        ("TELEGRAM_BOT_TOKEN", "123456 AAbc"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org"),
        ("TELEGRAM_API_BASE_URL", "ftp://api.telegram.org"),
        ("DISCORD_BOT_TOKEN", "Bot MTk4NjIy.Cl2FMQ.ZnCj"),
        ("COACH_QUIET_HOURS", "late"),
        ("COACH_DEFAULT_TIMEZONE", "Mars/Olympus_Mons"),
        ("COACH_SWEEP_SECONDS", "often"),
        ("COACH_SWEEP_SECONDS", "-5"),
        ("COACH_REMINDER_GRACE_MINUTES", "1.5"),
        ("COACH_REMINDER_GRACE_MINUTES", "999999"),
        ("COACH_TELEGRAM_RATE", "fast"),
        ("COACH_TELEGRAM_RATE", "0"),
        ("COACH_DISCORD_RATE", "1e9"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({name: value})
    assert str(error.value).startswith(name)


def test_the_cli_reports_a_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("COACH_LOG_LEVEL", "LOUD")
    assert main(["content", "check"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "COACH_LOG_LEVEL" in err
