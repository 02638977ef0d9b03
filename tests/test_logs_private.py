"""Logs hold event names and hashed ids, never health data, message text or tokens.

Every logger is captured at DEBUG, set up exactly as `COACH_LOG_LEVEL=DEBUG` sets it up
(bot.logsafe.configure), while a full soreness check runs: typed and pressed answers, the
bot's replies, a crashing handler whose failing statement carries health data, and the real
Telegram adapter (python-telegram-bot and httpx) against the local fake Bot API, errors
included. No answer, message, name, platform id or token may appear in any record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import logsafe
from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.engine.context import TurnContext
from bot.engine.engine import SOMETHING_WRONG
from bot.engine.feature import Feature
from bot.engine.payloads import DIALOG_PREFIX
from bot.storage.models import TriageReport
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}
NOISY = ("httpx", "httpcore", "telegram", "discord", "sqlalchemy", "asyncio")


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger, at DEBUG, with the bot's own logging set-up in place."""
    root = logging.getLogger()
    saved = root.level, list(root.handlers), {n: logging.getLogger(n).level for n in NOISY}
    logsafe.configure("DEBUG")  # what the CLI does for COACH_LOG_LEVEL=DEBUG
    keep = _Keep()
    root.addHandler(keep)
    try:
        yield keep.records
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def record_text(record: logging.LogRecord) -> str:
    """Everything a log handler could write: message, extras, exception and stack."""
    extras = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD)
    return f"{logging.Formatter().format(record)} {extras}"


def leaks(records: list[logging.LogRecord], secrets: set[str]) -> list[str]:
    texts = [record_text(r) for r in records]
    return sorted({s for s in secrets for t in texts if s in t})


def _dialog_choices(person: Person) -> list[tuple[str, str]]:
    turn = person.last_turn
    assert turn is not None
    return [
        (b.label, b.payload)
        for r in turn.replies
        for b in r.flat_buttons()
        if b.payload.startswith(DIALOG_PREFIX)
    ]


async def test_a_full_soreness_check_leaves_no_health_data_in_logs(
    all_logs: list[logging.LogRecord], sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    bot = ChatHarness(build_engine(sqlite_db, content))
    zoe = bot.person("zoe-q7x3")
    secrets = {"zoe-q7x3", "Zoe-Q7X3"}
    opening = "my abs are really sore after the hill reps zq88"
    await zoe.say(opening)
    secrets.add(opening)
    assert zoe.dialog == "triage"
    typed = False
    for _ in range(40):
        if zoe.dialog is None:
            break
        label, payload = _dialog_choices(zoe)[0]
        if typed:  # alternate: type the answer's label, or press its button
            await zoe.say(label)
            if len(label) >= 6:  # "No" would match anywhere; longer labels are distinctive
                secrets.add(label)
        else:
            await zoe.press_payload(payload)
            secrets.add(payload)
        typed = not typed
        secrets.update(r.text[:60] for r in zoe.inbox if len(r.text) >= 30)
    assert zoe.dialog is None, "the soreness check did not finish"
    await zoe.say("/history")
    await zoe.say("my private note about my marathon plan zq99")
    secrets.add("my private note about my marathon plan zq99")
    secrets.update(r.text[:60] for r in zoe.inbox if len(r.text) >= 30)

    assert len(all_logs) > 0  # logging really was on, at DEBUG
    assert any(r.name == "corecoach.engine" for r in all_logs)
    assert leaks(all_logs, secrets) == []


async def test_a_crash_while_storing_health_data_logs_no_parameters(
    all_logs: list[logging.LogRecord], sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    """SQLAlchemy puts a failing statement's parameters into the exception text, and the
    engine logs failures with their traceback: the engine hides parameters (make_engine)."""
    secret = "sharp stabbing pain under the ribs zq77"
    router = build_router()
    extra = Feature("leak")

    @extra.command("leak", "test: store a report with a naive time, which must fail")
    async def leak(ctx: TurnContext) -> None:
        await ctx.session.execute(
            insert(TriageReport).values(
                user_id=ctx.user.id,
                created_at=datetime(2026, 1, 1),  # naive: refused while binding parameters
                outcome="rest",
                rule="r",
                answers={"note": ctx.event.args},
            )
        )

    router.include(extra)
    bot = ChatHarness(build_engine(sqlite_db, content, router=router))
    zoe = bot.person("zoe-q7x3")
    await zoe.say(f"/leak {secret}")
    assert zoe.text().strip() == SOMETHING_WRONG
    failures = [r for r in all_logs if r.getMessage() == "turn.failed"]
    assert failures and failures[0].exc_info is not None  # the traceback was logged...
    assert "naive datetime" in record_text(failures[0])
    assert leaks(all_logs, {secret, "zq77"}) == []  # ...without the parameters


def test_configure_keeps_chatty_libraries_quiet(all_logs: list[logging.LogRecord]) -> None:
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token; the
    # others write statements with parameters, or whole updates, at DEBUG.
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    for name in ("telegram.ext.ExtBot", "discord.gateway", "sqlalchemy.engine"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    assert logging.getLogger("corecoach.engine").isEnabledFor(logging.DEBUG)


def test_a_log_line_carries_each_field_once(all_logs: list[logging.LogRecord]) -> None:
    formatter = logging.getLogger().handlers[0].formatter  # the one logsafe.configure set
    assert formatter is not None
    record = logging.LogRecord("corecoach.engine", logging.INFO, "", 0, "turn.ok", (), None)
    record.who = "a1b2c3"
    line = formatter.format(record)
    assert line.endswith(" INFO corecoach.engine turn.ok who=a1b2c3"), line
    assert "asctime=" not in line


async def test_telegram_adapter_logs_no_token_and_no_text(
    all_logs: list[logging.LogRecord],
    sqlite_db: AsyncEngine,
    content: ContentBundle,
    clock: FakeClock,
) -> None:
    harness = pytest.importorskip("tests.telegram_harness")
    fakes = pytest.importorskip("tests.fakes.telegram_api")
    async with fakes.FakeTelegramAPI() as fake:
        app = harness.make_app(fake, sqlite_db, content)
        async with harness.running(fake, app) as bot:
            user = fake.add_user("Zoe", username="zoe_q7x3")
            runner = bot.runner(user)
            opening = "my sides ache after the long run zq66"
            await runner.say(opening)
            fake.fail_next("sendMessage", 500, times=1)  # an error path, logged by someone
            presses = 0
            for presses in range(40):  # noqa: B007
                found = _newest_dialog_button(fake, user.id)
                if found is None:
                    break
                await runner.press_data(*found)
    assert presses >= 4  # consent and several answers: a whole soreness check ran
    secrets: set[str] = {fake.token, fake.token.split(":", 1)[1], opening, "zoe_q7x3"}
    assert any(r.name.startswith("corecoach") for r in all_logs)
    assert leaks(all_logs, secrets) == []


def _newest_dialog_button(fake: Any, chat_id: int) -> tuple[int, str] | None:
    mine = [m for m in fake.messages_in(chat_id) if m["from"]["id"] == fake.bot.id]
    if not mine:
        return None
    message = mine[-1]
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if str(button.get("callback_data", "")).startswith(DIALOG_PREFIX):
                return message["message_id"], button["callback_data"]
    return None
