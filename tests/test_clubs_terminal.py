"""A club run from the real `corecoach chat` command: a coach (--admin) and members
(--user … --group harriers) in separate processes on one database file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

CORECOACH = Path(sys.executable).parent / "corecoach"


def chat(db: Path, *args: str, lines: list[str]) -> list[dict[str, Any]]:
    env = {**os.environ, "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    for name in ("COACH_CONTENT_DIR", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        [str(CORECOACH), "chat", "--json", "--group", "harriers", *args],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # Answers to what was typed; club posts the sender delivers meanwhile are marked proactive.
    shown = [json.loads(line) for line in done.stdout.splitlines()]
    return [reply for reply in shown if not reply["proactive"]]


def test_a_coach_and_members_run_a_club_from_the_terminal(tmp_path: Path) -> None:
    db = tmp_path / "club.db"
    coach = chat(
        db,
        "--user",
        "ann",
        "--admin",
        lines=[
            "/challenge",
            "New challenge",
            "Plank ladder: 3 × 45 s daily",
            "Today",
            "Now",
            "1 week",
            "Just once",
            "Start now",
        ],
    )
    assert coach[0]["dialog"] is None and "No challenge is set" in coach[0]["text"]
    assert coach[1]["dialog"] == "club_challenge"
    assert "is on its way to the group now" in coach[-1]["text"]
    assert coach[-1]["dialog"] is None

    with sqlite3.connect(db) as conn:
        [(challenge_id,)] = conn.execute("SELECT id FROM challenges").fetchall()
    # A reply without buttons clears the numbered choices; a button offered earlier in the
    # session is still pressed by its payload, as a member taps the post again the same day.
    done_today = f"cdone:{challenge_id}"
    bob = chat(
        db,
        "--user",
        "bob",
        lines=[
            "/leaderboard",
            "Join",
            done_today,
            done_today,
            "/leaderboard",
            "/challenge",
            "/coach add bob",
        ],
    )
    # The challenge's own post reaches bob's terminal when the sender gets to it (at his
    # start, or not yet): only the answers to his lines are unpacked.
    bob = [r for r in bob if not r["text"].startswith("**Club challenge:")]
    board, joined, done, again, board_after, current, refused = bob
    assert "Leaderboard: Plank ladder" in board["text"] and "Nobody has joined yet" in board["text"]
    assert [b["label"] for b in board["buttons"]] == ["Join", "Done today"]
    assert joined["private"] and "You're in" in joined["text"]
    assert done["private"] and "1 of 5 days" in done["text"]
    assert "Already counted" in again["text"]
    assert "1. bob: 1 day" in board_after["text"]
    assert current["text"].startswith("The current challenge:")
    assert "Club challenge: Plank ladder" in current["text"]
    assert refused["text"].startswith("Only a coach of this club")

    granted = chat(db, "--user", "ann", "--admin", lines=["/coach add bob", "/coach list"])
    assert granted[0]["text"].startswith("bob is now a coach of this club")
    assert "Also coaching here: bob" in granted[1]["text"]

    with sqlite3.connect(db) as conn:
        dones = conn.execute("SELECT user_id, day FROM challenge_dones").fetchall()
        roles = conn.execute(
            "SELECT users.platform_user_id, role FROM club_members "
            "JOIN users ON users.id = club_members.user_id ORDER BY 1"
        ).fetchall()
    assert len(dones) == 1
    assert roles == [("ann", "member"), ("bob", "coach")]
