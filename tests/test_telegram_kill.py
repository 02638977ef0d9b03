"""`kill -9` of a real `corecoach run` against the fake Bot API, at the two moments issue 16
found messages lost, then a restart on the same database:

(a) updates fetched (and stored) but their turn not run yet: after the restart each is
    answered exactly once;
(b) a turn committed but its reply not sent yet: after the restart the reply arrives, once.

The bot runs in a subprocess polling the fake, which runs in this test; the test kills the
bot while the fake holds a request the bot makes at the chosen moment. Each test prints the
time from the restart to the first message the new process sent (the figure in the report).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import InboundUpdate
from tests.fakes.telegram_api import FakeTelegramAPI, SentRecord

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60.0  # a cold start on a busy machine (content, migrations, getMe)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


class Bot:
    """`corecoach run` on one SQLite file, started and killed at will."""

    def __init__(self, fake: FakeTelegramAPI, folder: Path) -> None:
        self.fake = fake
        self.folder = folder
        self.database_url = f"sqlite+aiosqlite:///{folder / 'coach.db'}"
        self.process: asyncio.subprocess.Process | None = None
        self.calls_before_start = 0

    async def start(self) -> float:
        """Start the bot and wait until it polls; returns the monotonic time of the start."""
        self.calls_before_start = len(self.fake.calls)
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE_URL": self.fake.url,
            "COACH_DATABASE_URL": self.database_url,
            "COACH_DATA_DIR": str(self.folder / "data"),
            "COACH_HEALTH_PORT": "0",
        }
        polls = len([c for c in self.fake.calls if c.method == "getUpdates"])
        started = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from bot.cli import main; main()", "run", cwd=ROOT, env=env
        )
        await self.fake.wait_for_calls("getUpdates", count=polls + 1, timeout=START_SECONDS)
        return started

    def connected_at(self) -> float:
        """When the latest process first spoke to Telegram (getMe: content, database and
        migrations done)."""
        return next(
            c.timestamp for c in self.fake.calls[self.calls_before_start :] if c.method == "getMe"
        )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)

    async def statuses(self) -> list[str]:
        engine = make_engine(self.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return list(
                    await session.scalars(select(InboundUpdate.status).order_by(InboundUpdate.id))
                )
        finally:
            await engine.dispose()


@pytest.fixture
async def bot(fake: FakeTelegramAPI, tmp_path: Path) -> AsyncIterator[Bot]:
    process = Bot(fake, tmp_path)
    try:
        yield process
    finally:
        await process.stop()


def _texts(records: list[SentRecord]) -> list[str]:
    return [r.plain_text or r.caption or "" for r in records]


async def test_kill_after_fetching_before_the_turn_answers_each_update_once(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    ann, ben = fake.add_user("Ann"), fake.add_user("Ben")
    club = fake.add_group("Harriers", members={ann: "member", ben: "member"})
    await bot.start()
    # A command in a group asks Telegram whether its sender is an admin before the turn:
    # held there, the bot dies with both updates fetched and stored, neither turn run.
    fake.delay_next("getChatMember", 60, times=2)
    fake.user_sends(ann, club, "/help")
    fake.user_sends(ben, club, "/help")
    await fake.wait_for_calls("getChatMember", count=1, timeout=10)
    await bot.kill()
    assert fake.sent == []
    assert await bot.statuses() == ["received", "received"]

    fake.clear_faults()
    restarted = await bot.start()
    first = await fake.wait_for_sent(chat_id=club, count=2, timeout=20)
    print(
        f"\n(a) restart → first answer: {first[0].timestamp - restarted:.2f} s "
        f"(getMe → first answer: {first[0].timestamp - bot.connected_at():.2f} s)"
    )
    await asyncio.sleep(1.0)  # anything sent twice would arrive by now
    answers = fake.sent_to(club)
    assert len(answers) == 2  # each answered once: none lost, none twice
    assert all("/sore" in text for text in _texts(answers))
    await bot.stop()
    assert await bot.statuses() == ["done", "done"]


async def test_kill_after_the_turn_committed_before_its_reply_sends_it_after_restart(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    ann = fake.add_user("Ann")
    await bot.start()
    fake.user_sends(ann, None, "/sore")
    [question] = await fake.wait_for_sent(chat_id=ann, timeout=20)
    buttons = (question.reply_markup or {}).get("inline_keyboard", [])
    pressed = buttons[0][0]
    # Pressing answers the callback after the turn commits and before its reply is sent:
    # held there, the bot dies with the turn's replies stored and none delivered.
    fake.delay_next("answerCallbackQuery", 60)
    mark = len(fake.sent)
    fake.user_presses(ann, ann.id, question.message_id, pressed["callback_data"])
    await fake.wait_for_calls("answerCallbackQuery", timeout=10)
    await bot.kill()
    assert fake.sent[mark:] == []
    assert await bot.statuses() == ["done", "answered"]

    fake.clear_faults()
    restarted = await bot.start()
    [resent] = await fake.wait_for_sent(chat_id=ann, start=mark, timeout=20)
    print(
        f"\n(b) restart → first resent reply: {resent.timestamp - restarted:.2f} s "
        f"(getMe → first resent reply: {resent.timestamp - bot.connected_at():.2f} s)"
    )
    await asyncio.sleep(1.0)
    assert len(fake.sent[mark:]) == 1  # the reply, once
    assert resent.reply_markup is not None  # the next question, with buttons that work
    await bot.stop()
    assert await bot.statuses() == ["done", "done"]
