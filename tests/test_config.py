"""Settings from the environment: sensible defaults, and a bad value names its variable."""

from __future__ import annotations

import ast
import hashlib
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot
import scheduler
from bot import logsafe
from bot.config import (
    DEFAULT_DATABASE_URL,
    ConfigError,
    QuietSpan,
    Settings,
)
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
        ("COACH_QUIET_HOURS", "22-7"),
        ("COACH_QUIET_HOURS", "24:00-07:00"),
        ("COACH_QUIET_HOURS", "22:00-07:60"),
        ("COACH_DATA_DIR", __file__),  # a file where the folder should be
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


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("22:00-07:00", 22 * 60, 7 * 60),
        (" 6:30 - 7:05 ", 6 * 60 + 30, 7 * 60 + 5),
        ("13:00-14:00", 13 * 60, 14 * 60),
        ("off", 0, 0),
        ("None", 0, 0),
    ],
)
def test_quiet_hours_become_minutes_of_the_day(text: str, start: int, end: int) -> None:
    assert Settings.from_env({"COACH_QUIET_HOURS": text}).quiet_hours == QuietSpan(start, end)


def test_quiet_hours_default_to_the_night() -> None:
    assert Settings.from_env({}).quiet_hours == QuietSpan(22 * 60, 7 * 60) == QuietSpan()


def test_a_quiet_span_outside_the_day_is_refused() -> None:
    with pytest.raises(ValueError):
        QuietSpan(0, 24 * 60)


def test_the_log_salt_comes_from_the_environment() -> None:
    assert Settings.from_env({"COACH_LOG_SALT": " pepper "}).log_salt == "pepper"
    assert Settings.from_env({"COACH_LOG_SALT": ""}).log_salt == logsafe.DEFAULT_SALT


def test_the_data_dir_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"COACH_DATA_DIR": f" {tmp_path / 'charts'} "}
    assert Settings.from_env(env).data_dir == tmp_path / "charts"
    assert Settings.from_env({}).data_dir == Path("data")


def test_secrets_stay_out_of_the_settings_repr() -> None:
    secrets = {
        "COACH_DATABASE_URL": "postgresql+asyncpg://coach:hunter2pw@db/coach",
        "TELEGRAM_BOT_TOKEN": "123456:tgSECRETtoken",
        "DISCORD_BOT_TOKEN": "dcSECRETtoken",
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg",
        "TELEGRAM_WEBHOOK_SECRET": "whSECRETwhSECRETwh",
        "COACH_LOG_SALT": "saltSECRET",
    }
    text = repr(Settings.from_env(secrets))
    assert "log_level='WARNING'" in text  # the rest is still there to help
    for leaked in ("hunter2pw", "tgSECRET", "dcSECRET", "whSECRET", "saltSECRET"):
        assert leaked not in text


@pytest.fixture
def salt_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """logsafe's key and the root logger as they were (configure() changes both)."""
    monkeypatch.setattr(logsafe, "_key", logsafe._key)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def _blake(identifier: str, key: bytes) -> str:
    return hashlib.blake2s(identifier.encode(), key=key, digest_size=6).hexdigest()


@pytest.mark.usefixtures("salt_restored")
def test_logsafe_hashes_with_the_configured_salt() -> None:
    assert logsafe.hashed("tg:42") == _blake("tg:42", b"corecoach")  # before configure()
    logsafe.configure("WARNING", salt="pepper")
    assert logsafe.hashed("tg:42") == _blake("tg:42", b"pepper")
    logsafe.configure("WARNING")  # no salt given: the configured one stays
    assert logsafe.hashed("tg:42") == _blake("tg:42", b"pepper")
    long_salt = "x" * 40  # longer than blake2s's 32-byte key: its first 32 bytes
    logsafe.configure("WARNING", salt=long_salt)
    assert logsafe.hashed("tg:42") == _blake("tg:42", b"x" * 32)


@pytest.mark.usefixtures("salt_restored")
def test_the_cli_hands_the_salt_to_logsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main

    monkeypatch.setenv("COACH_LOG_SALT", "from-the-env")
    monkeypatch.delenv("COACH_CONTENT_DIR", raising=False)
    assert main(["content", "check"]) == 0
    assert logsafe.hashed("tg:42") == _blake("tg:42", b"from-the-env")


def test_config_does_not_load_the_scheduler() -> None:
    """Not even through another module: the scheduler builds on config, never the reverse."""
    probe = "import sys, bot.config; print(sorted(m for m in sys.modules if m.startswith('sched')))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout


READERS = {"environ", "environb", "getenv", "getenvb"}


def _environment_reads(path: Path) -> list[int]:
    """Lines that read the process environment (os.environ, os.getenv, ...)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and node.attr in READERS) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {a.name for a in node.names} & READERS
        ):
            lines.append(node.lineno)
    return lines


def test_only_settings_read_the_environment() -> None:
    """One Settings object, built by the CLI at start-up, is passed down instead."""
    top = Path(bot.__file__).parent.parent
    found = {
        path.relative_to(top).as_posix(): lines
        for package in (bot, scheduler)
        for path in sorted(Path(package.__file__).parent.rglob("*.py"))
        if (lines := _environment_reads(path))
    }
    assert set(found) == {"bot/config.py"}, found
