"""The `corecoach` command: migrate, run without tokens, and stopping quietly."""

from __future__ import annotations

import io
import logging
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from tests.ports import free_port

CORECOACH = Path(sys.executable).parent / "corecoach"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh database file and no platform tokens; the root logger restored afterwards
    (main() configures logging for the whole process)."""
    db = tmp_path / "data" / "coach.db"
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    for name in ("COACH_CONTENT_DIR", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield db
    root.handlers[:], root.level = handlers, level


def test_migrate_creates_the_schema(_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    with sqlite3.connect(_env) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {"users", "chats", "dialog_states", "alembic_version"} <= tables
    assert main(["migrate"]) == 0  # again: a no-op


def test_run_without_tokens_opens_the_terminal_chat(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/privacy\n"))
    assert main(["run"]) == 0
    assert "What I keep about you" in capsys.readouterr().out


def test_run_without_tokens_or_input_says_what_is_missing(_env: Path) -> None:
    """As in a container started without a token: stdin is /dev/null."""
    run = subprocess.run(
        [str(CORECOACH), "run"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60
    )
    assert run.returncode == 2
    assert b"set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN" in run.stderr
    assert not _env.exists()  # refused before touching the database


def test_a_platform_that_cannot_start_ends_the_run_with_one_line(
    _env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram unreachable at start: exit 1 (a restart policy tries again) with the reason,
    and no traceback or warnings about connections left open."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:not-checked")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("COACH_HEALTH_PORT", "0")
    run = subprocess.run(
        [str(CORECOACH), "run"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60
    )
    assert run.returncode == 1
    assert run.stderr.decode().splitlines() == [
        "corecoach: couldn't reach Telegram to start (NetworkError); check the network or "
        "TELEGRAM_API_BASE_URL"
    ]


@pytest.mark.parametrize("where", ["a folder", "under a file", "a server that is not there"])
def test_a_database_that_cannot_be_opened_is_named_not_traced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    blocker = tmp_path / "blocker"
    if where == "a folder":
        blocker.mkdir()  # SQLite cannot open a folder as its file
        url = f"sqlite+aiosqlite:///{blocker}"
    elif where == "under a file":
        blocker.write_text("")  # nor create a file below a file
        url = f"sqlite+aiosqlite:///{blocker / 'coach.db'}"
    else:
        url = f"postgresql+asyncpg://coach:s3cret@127.0.0.1:{free_port()}/coach"
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    assert main(["migrate"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("corecoach: cannot open the database of COACH_DATABASE_URL (")
    assert "s3cret" not in line  # the URL's password stays out


def test_content_check_of_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["content", "check", str(tmp_path / "nowhere")]) == 1
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'nowhere' / 'cards'}:1: folder is missing" in out
    assert re.search(r"^\d+ problems? in ", err, re.M) and "(s)" not in err


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([])
    assert stop.value.code == 2
    assert "usage: corecoach" in capsys.readouterr().err


def test_a_reader_that_goes_away_stops_the_chat_quietly(_env: Path) -> None:
    chat = subprocess.Popen(
        [str(CORECOACH), "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert chat.stdin and chat.stdout and chat.stderr
    chat.stdout.close()  # like `corecoach chat | head -1` after head has its line
    chat.stdin.write(b"/start\n/cards\n/card plank\n" * 5)
    chat.stdin.close()
    assert chat.wait(timeout=60) == 1
    err = chat.stderr.read()
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err
    chat.stderr.close()
