"""The terminal chat: numbered buttons, piped input, --json, acting as someone, resuming."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.terminal import PLATFORM, TerminalChat
from bot.app import build_router
from bot.cli import main
from bot.content.bundle import ContentBundle
from bot.engine.engine import FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON, Engine
from bot.engine.events import Button, Reply
from bot.storage.db import make_engine, migrate
from bot.storage.models import Chat, DialogState, Outbox
from scheduler.outbox import NewMessage, enqueue
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender, SenderConfig
from tests.echo_dialog import echo_engine
from tests.factory import build_engine
from tests.harness import FakeClock

CORECOACH = Path(sys.executable).parent / "corecoach"
REFUSALS = {FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON}


async def _chat(engine: Engine, lines: list[str], **options: Any) -> str:
    out = io.StringIO()
    chat = TerminalChat(
        engine, stdin=io.StringIO("".join(f"{x}\n" for x in lines)), stdout=out, **options
    )
    await chat.run()
    return out.getvalue()


def _json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture
def echo(sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> Engine:
    return echo_engine(sqlite_db, content, clock)


# --- in process: the adapter's own logic ------------------------------------------------------


async def test_number_label_and_payload_press_buttons(echo: Engine, content: ContentBundle) -> None:
    output = await _chat(
        echo, ["/start", "1", "side plank", "Plank", "card:dead_bug"], json_mode=True
    )
    replies = _json_lines(output)
    assert replies[0]["text"] == content.texts.welcome
    assert replies[1]["text"] == content.texts.cards_intro  # "1" pressed "Exercise cards"
    assert replies[2]["title"] == "Side plank"  # a label, in any case
    # "Plank" is no button of the side plank card's reply: plain words find the card.
    assert replies[3]["title"] == "Plank"
    assert replies[4]["title"] == "Dead bug"  # a payload offered earlier in the session


async def test_numbers_refer_only_to_the_latest_buttons(
    echo: Engine, content: ContentBundle
) -> None:
    # /cancel has no buttons, so "1" afterwards is text, not the card list's first button.
    output = await _chat(
        echo, ["/cards", "/cancel", "1", "/cards", "0", "13", "²", "١"], json_mode=True
    )
    replies = _json_lines(output)
    assert [r["text"] for r in replies[2:3]] == [content.texts.fallback]
    assert [r["text"] for r in replies[4:]] == [content.texts.fallback] * 4


async def test_plain_output_numbers_buttons_across_replies(echo: Engine) -> None:
    output = await _chat(echo, ["/start", "/cards"])
    assert "[1] Exercise cards   [2] Help" in output
    assert "[1] Bear walk   [2] Bird dog" in output
    assert "**" not in output  # no terminal, so bold is plain text


async def test_json_has_one_object_per_reply_and_names_the_dialog(echo: Engine) -> None:
    output = await _chat(echo, ["/echo", "Red", "/card plank", "4", "/cancel"], json_mode=True)
    replies = _json_lines(output)
    assert len(replies) == 5
    for reply in replies:
        assert {"text", "buttons", "image", "dialog"} <= set(reply)
        assert reply["image"] is None or isinstance(reply["image"], str)  # a path
        for button in reply["buttons"]:
            assert set(button) == {"label", "payload"}
    assert [r["dialog"] for r in replies] == ["echo", "echo", "echo", "echo", None]
    assert replies[1]["text"] == "Echo 1: red"
    # The plank card's buttons are now [1]-[3], so "4" went to the dialog as text.
    assert replies[3]["text"] == "Echo 2: 4"


async def test_user_group_and_admin_become_the_event(echo: Engine) -> None:
    chat = TerminalChat(
        echo, user="kim", group="Riverside Runners", admin=True, stdin=io.StringIO()
    )
    event = chat.to_event("/card plank")
    assert (event.actor.platform, event.actor.user_id, event.actor.display_name) == (
        "terminal",
        "kim",
        "kim",
    )
    assert event.actor.is_chat_admin is True
    assert event.place.chat_id == "group:Riverside Runners" and not event.place.is_private
    assert (event.command, event.args) == ("card", "plank")
    alone = TerminalChat(echo, user="kim", stdin=io.StringIO()).to_event("hello")
    assert alone.place.chat_id == "dm:kim" and alone.place.is_private
    assert alone.actor.is_chat_admin is None
    assert alone.text == "hello" and alone.command is None


async def test_quit_stops_and_blank_lines_are_skipped(echo: Engine) -> None:
    output = await _chat(echo, ["", "  ", "/privacy", "/quit", "/start"], json_mode=True)
    assert len(_json_lines(output)) == 1


async def test_dialog_resumes_in_a_new_run(
    tmp_path: Path, content: ContentBundle, clock: FakeClock
) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    await migrate(db)
    first = _json_lines(
        await _chat(echo_engine(db, content, clock), ["/echo", "Red"], json_mode=True)
    )
    blue = next(b["payload"] for b in first[-1]["buttons"] if b["label"] == "Blue")
    await db.dispose()  # the first run is over

    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    second = _json_lines(
        await _chat(echo_engine(db, content, clock), [blue, "hello", blue], json_mode=True)
    )
    # The stale press asks the open question again.
    assert [r["text"] for r in second] == ["Echo 2: blue", "Echo 3: hello", "Echo 3: hello"]
    assert second[-1]["dialog"] == "echo"
    await db.dispose()


# --- the real command, as a script would run it -----------------------------------------------


def _run(db: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    for name in ("COACH_CONTENT_DIR", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    return subprocess.run(
        [str(CORECOACH), "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_readme_script(tmp_path: Path, content: ContentBundle) -> None:
    done = _run(tmp_path / "coach.db", stdin="/start\n/cards\n/card plank\n/card plnk\n/quit\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(content.texts.welcome.replace("**", "").split("\n")[0])
    assert "not a clinician" in out and "doctor" in out
    assert content.texts.cards_intro in out
    for number, name in enumerate(sorted(c.name for c in content.cards.values()), start=1):
        assert f"[{number}] {name}" in out
    assert "\nPlank\n" in out and content.cards["plank"].steps[0] in out
    assert "Did you mean Plank?" in out
    assert done.stderr == ""


def test_json_as_someone_in_a_group_until_end_of_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In process through main(), the console script's own entry point (one subprocess fewer).
    db = tmp_path / "coach.db"
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    for name in ("COACH_CONTENT_DIR", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # No /quit: the end of the input ends the chat.
    monkeypatch.setattr(sys, "stdin", io.StringIO("/cards\n2\nAll cards\ncard:plank\n"))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(["chat", "--json", "--user", "kim", "--group", "riverside", "--admin"])
    finally:
        root.handlers[:], root.level = handlers, level
    out, err = capsys.readouterr()
    assert code == 0, err
    replies = _json_lines(out)
    assert [r["title"] for r in replies] == [None, "Bird dog", None, "Plank"]
    assert all(r["dialog"] is None for r in replies)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT platform, platform_user_id FROM users").fetchall() == [
            ("terminal", "kim")
        ]
        assert conn.execute("SELECT platform_chat_id, is_private FROM chats").fetchall() == [
            ("group:riverside", 0)
        ]


@pytest.mark.parametrize(
    "args", [("--admin",), ("--user", "x" * 200), ("--group", "  "), ("--user", "")]
)
def test_bad_names_and_admin_without_group_are_refused(
    args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["chat", *args])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"error: {'argument ' if len(args) > 1 else ''}{args[0]}" in err


_HAS_TRIAGE = "sore" in build_router().commands


@pytest.mark.skipif(not _HAS_TRIAGE, reason="no /sore dialog registered yet (issue 3)")
def test_a_dialog_left_half_way_resumes_in_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    first = _json_lines(_run(db, "--json", stdin="/sore\n").stdout)
    kind = first[-1]["dialog"]
    assert kind is not None
    answer = next(b for b in first[-1]["buttons"] if b["payload"].startswith("~"))

    second = _run(db, "--json", stdin=f"{answer['payload']}\n")
    assert second.returncode == 0, second.stderr
    replies = _json_lines(second.stdout)
    assert replies, "no answer in the second run"
    assert not {r["text"] for r in replies} & REFUSALS
    assert replies[-1]["dialog"] == kind
    assert replies[-1]["text"] != first[-1]["text"]  # it moved on to the next question


# --- the terminal as a platform: proactive messages and private continuations -----------------


async def test_the_open_chat_shows_its_proactive_messages_and_leaves_others_waiting(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    """The terminal is a Transport like Telegram's: the sender delivers what is due for the
    chat it shows (a reminder, with its buttons numbered), and never claims another chat's."""
    engine = build_engine(sqlite_db, content, clock=clock)
    out = io.StringIO()
    chat = TerminalChat(engine, user="ana", stdin=io.StringIO(""), stdout=out)
    reminder = Reply("Time for your core session.", buttons=[[Button("Start session", "s:1")]])
    async with engine.sessions() as session, session.begin():
        await enqueue(
            session,
            [
                NewMessage("t:ana", PLATFORM, "dm:ana", reminder, is_private=True),
                NewMessage("t:bob", PLATFORM, "dm:bob", Reply("For Bob."), is_private=True),
            ],
            now=clock.now,
        )
    sender = Sender(
        engine.sessions,
        chat,
        pacing=PacingPolicy.unlimited(),
        config=SenderConfig(chats=chat.reachable_chats),
        clock=clock,
    )
    assert await sender.drain_once() == 1
    shown = out.getvalue()
    assert "🔔 Core Coach" in shown and "Time for your core session." in shown
    assert "[1] Start session" in shown and "For Bob." not in shown
    assert chat.to_event("1").payload == "s:1"  # its buttons are pressed like a reply's
    async with engine.sessions() as session:
        statuses = dict((await session.execute(select(Outbox.dedupe_key, Outbox.status))).all())
    assert statuses == {"t:ana": "sent", "t:bob": "pending"}


async def test_continue_privately_from_a_group_continues_in_the_private_chat(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    """As Telegram's deep link does: the soreness check started from a group runs in the
    person's private chat, so its own buttons there are accepted."""
    engine = build_engine(sqlite_db, content, clock=clock)
    output = await _chat(engine, ["/sore", "1", "1", "1"], user="ana", group="harriers")
    assert "(now in your private chat with Core Coach)" in output
    assert not REFUSALS & set(output.split("\n\n"))
    async with engine.sessions() as session:
        [row] = (
            await session.execute(
                select(Chat.platform_chat_id, DialogState.kind).join(
                    DialogState, DialogState.chat_id == Chat.id
                )
            )
        ).all()
    assert row == ("dm:ana", "triage")


def test_piped_input_still_ends_cleanly_with_the_scheduler_running(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        "COACH_DATA_DIR": str(tmp_path / "data"),
        "COACH_SWEEP_SECONDS": "1",
    }
    done = subprocess.run(
        [str(CORECOACH), "chat", "--user", "ana"],
        input="/start\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Core Coach" in done.stdout and "Traceback" not in done.stderr
