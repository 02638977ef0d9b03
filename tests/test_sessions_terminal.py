"""A whole core session in `corecoach chat` with piped input, as a script would run it: timers
are printed, never waited for; an interrupted run is resumed by the next; /progress prints
where its chart is."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from bot.adapters.terminal import TerminalChat
from tests.harness import ChatHarness

CORECOACH = Path(sys.executable).parent / "corecoach"
# "Start", "End early", "Done" moves any step on: a timed move starts its timer and is ended
# early (a script cannot wait for a hold, and Done before the timer is up keeps it open);
# elsewhere a word that is not offered is answered with the buttons again. 18 steps.
FORWARD = "Start\nEnd early\nDone\n" * 24


def _run(tmp_path: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}",
        "COACH_DATA_DIR": str(tmp_path / "data"),
    }
    for name in ("COACH_CONTENT_DIR", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    # The timeout is far below the session's timers added up: a run that waited would fail.
    return subprocess.run(
        [str(CORECOACH), "chat", "--user", "pia", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_piped_session_is_interrupted_resumed_and_finished(tmp_path: Path) -> None:
    first = _run(tmp_path, "/session\nBeginner\nStart\nDone\nStart\nDone\n")  # then input ends
    assert first.returncode == 0, first.stderr
    assert "Round 1 of 3" in first.stdout and "Session done!" not in first.stdout

    second = _run(tmp_path, "/session\nResume\n" + FORWARD + "/progress\n")
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Resume it, or start over?" in out
    assert out.count("Session done!") == 1
    timers = [int(n) for n in re.findall(r"^timer: (\d+) s$", out, re.M)]
    assert timers and sum(timers) > 60  # shown as one line each, not counted down
    assert "\033[" not in out  # no terminal control codes in piped output

    [chart] = re.findall(r"\[picture saved at (.+\.png)\]", out.split("Your core progress")[1])
    assert Path(chart).is_relative_to((tmp_path / "data").resolve())
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 0
    assert "This week: 1 of 2–3 sessions" in out


async def test_json_lines_carry_the_countdown(quick_bot: ChatHarness) -> None:
    out = io.StringIO()
    lines = "/session\nIntermediate\nStart\n"
    await TerminalChat(
        quick_bot.engine, user="pia", json_mode=True, stdin=io.StringIO(lines), stdout=out
    ).run()
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    warmup = replies[-1]
    assert warmup["title"] == "Warm-up" and warmup["dialog"] == "session"
    assert warmup["countdown_seconds"] > 0
    assert all("countdown_seconds" in reply for reply in replies)


class _Screen(io.StringIO):
    """Standard output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def test_on_a_terminal_the_timer_is_a_live_line_that_the_next_input_stops(
    quick_bot: ChatHarness,
) -> None:
    screen = _Screen()
    chat = TerminalChat(quick_bot.engine, user="pia", stdin=io.StringIO(""), stdout=screen)
    for line in ("/session", "Beginner", "Start"):
        chat.show(await quick_bot.engine.handle(chat.to_event(line)))
    assert "timer:" not in screen.getvalue()
    assert re.search(r"⏱ +\d+ s  \[-+\]", screen.getvalue())  # the line, before any tick
    assert chat._timer is not None and not chat._timer.done()
    timer = chat._timer
    await chat.run()  # the input ends at once: the timer stops with it
    await asyncio.sleep(0)
    assert timer.cancelled()
