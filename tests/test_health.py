"""The operations endpoint: /healthz says whether the database and content are there, and
/metrics reports turns, outbox depth and age, delivery failures and triage outcomes in
Prometheus' text format, over real HTTP, without anything that identifies a person."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.config import ConfigError, Settings
from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.ops.health import HealthServer, start_ops
from bot.ops.metrics import METRICS, Metrics, Sample, render
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import Outbox, TriageReport
from scheduler.outbox import NewMessage, enqueue
from tests.echo_dialog import echo_router
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock
from tests.ports import free_port
from tests.privacy_world import full_triage

_SAMPLE = re.compile(
    r'^(?P<name>[a-z_]+)(?P<labels>\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})?'
    r" (?P<value>-?[0-9.e+]+|NaN|[+-]Inf)$"
)


def parse(body: str) -> dict[str, float]:
    """`name{labels}` → value; checks every line against the text format on the way."""
    values: dict[str, float] = {}
    declared: set[str] = set()
    for line in body.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            declared.add(line.split()[2])
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        assert match["name"] in declared, f"{match['name']} has no HELP/TYPE before it"
        values[match["name"] + (match["labels"] or "")] = float(match["value"])
    return values


@pytest.fixture
async def served(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> AsyncIterator[tuple[str, ChatHarness, Metrics]]:
    metrics = Metrics()
    sessions = make_sessionmaker(db)
    engine = build_engine(
        sessions, content, router=echo_router(), clock=clock, on_turn=metrics.count_turn
    )
    server = HealthServer(sessions, content, metrics, clock=clock)
    port = await server.start("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}", ChatHarness(engine), metrics
    finally:
        await server.stop()


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def test_healthz_is_ok_with_database_and_content(
    served: tuple[str, ChatHarness, Metrics],
) -> None:
    base, _, _ = served
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as response:
        assert response.status == 200
        body = await response.json()
    assert (body["status"], body["database"], body["content"]) == ("ok", "ok", "ok")


async def test_healthz_fails_without_database_or_content(content: ContentBundle) -> None:
    down = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/test")  # refused at once
    empty = dataclasses.replace(content, cards={})
    server = HealthServer(make_sessionmaker(down), empty, Metrics())
    port = await server.start("127.0.0.1", 0)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 503
            body = await response.json()
        status, _, metrics_body = await _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await server.stop()
        await down.dispose()
    assert body["status"] == "unhealthy"
    assert body["database"].startswith("unavailable")
    assert body["content"] == "not loaded"
    assert "postgres@" not in str(body)  # no connection string in the answer
    assert status == 200  # metrics still answer, and say the database is down
    assert parse(metrics_body)["corecoach_database_up"] == 0


async def test_metrics_count_turns_outbox_failures_and_outcomes(
    served: tuple[str, ChatHarness, Metrics], db: AsyncEngine, clock: FakeClock
) -> None:
    base, bot, _ = served
    zoe = bot.person("zoe-q7x3")
    await full_triage(zoe)  # commands and button presses; stores one report
    triage_turns = zoe.last_turn
    assert triage_turns is not None
    await zoe.say("hello there")
    await zoe.say("/boom")  # the test router's failing command
    await bot.person("bob-k9w2", group="club-x1").say("/help")

    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        message = Reply("Core time!")
        await enqueue(
            session,
            [
                NewMessage("m:late", "test", "dm:zoe-q7x3", message, not_before=clock.now),
                NewMessage("m:due", "test", "dm:bob-k9w2", message, not_before=clock.now),
                NewMessage(
                    "m:later", "test", "dm:zoe-q7x3", message, not_before=clock.now + timedelta(1)
                ),
                NewMessage("m:retry", "test", "dm:bob-k9w2", message, not_before=clock.now),
                NewMessage("m:failed", "test", "dm:bob-k9w2", message),
            ],
            now=clock.now - timedelta(seconds=90),
        )
        await session.execute(
            update(Outbox)
            .where(Outbox.dedupe_key == "m:late")
            .values(not_before=clock.now - timedelta(seconds=90))
        )
        await session.execute(
            update(Outbox).where(Outbox.dedupe_key == "m:retry").values(last_error="429")
        )
        await session.execute(
            update(Outbox).where(Outbox.dedupe_key == "m:failed").values(status="failed")
        )
        outcome = (await session.get(TriageReport, 1) or TriageReport()).outcome

    status, content_type, body = await _get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    values = parse(body)
    commands = values['corecoach_messages_in_total{kind="command",platform="test"}']
    buttons = values['corecoach_messages_in_total{kind="button",platform="test"}']
    assert values['corecoach_messages_in_total{kind="text",platform="test"}'] == 1
    assert commands == 3  # /sore, /boom, /help
    assert buttons >= 3  # consent plus at least two answers
    assert values['corecoach_messages_out_total{platform="test"}'] >= commands + buttons + 1
    assert values['corecoach_turn_failures_total{reason="error"}'] == 1
    assert values["corecoach_outbox_pending"] == 4
    assert values["corecoach_outbox_due"] == 3
    assert values["corecoach_outbox_oldest_due_age_seconds"] == 90
    assert values["corecoach_outbox_retrying"] == 1
    assert values['corecoach_outbox_messages{status="failed"}'] == 1
    assert values[f'corecoach_triage_reports{{outcome="{outcome}"}}'] == 1
    assert values["corecoach_database_up"] == 1
    for personal in ("zoe-q7x3", "bob-k9w2", "Zoe", "dm:", "club-x1", "Core time"):
        assert personal not in body


async def test_start_ops_counts_turns_and_serves_unless_port_is_zero(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    sessions = make_sessionmaker(sqlite_db)
    engine = build_engine(sessions, content, router=echo_router(), clock=clock)
    off = App(Settings(health_port=0), sqlite_db, sessions, content, engine)
    assert await start_ops(off) is None
    await ChatHarness(engine).person().say("/help")
    metrics = engine.on_turn.__self__  # type: ignore[union-attr]  # counting goes on anyway
    assert metrics.value("corecoach_messages_in_total", platform="test", kind="command") == 1

    serving = Settings(health_host="127.0.0.1", health_port=free_port())
    on = App(serving, sqlite_db, sessions, content, engine)
    server = await start_ops(on)
    assert server is not None
    try:
        status, _, _ = await _get(f"http://127.0.0.1:{on.settings.health_port}/healthz")
    finally:
        await server.stop()
    assert status == 200


def test_render_escapes_label_values_and_declares_every_metric() -> None:
    body = render(
        [
            Sample("corecoach_outbox_messages", 2, (("status", 'we"ird\\\nvalue'),)),
            Sample("corecoach_outbox_pending", 0.5),
        ]
    )
    assert 'status="we\\"ird\\\\\\nvalue"' in body
    assert parse(body)["corecoach_outbox_pending"] == 0.5
    with pytest.raises(KeyError):
        render([Sample("corecoach_undeclared", 1)])
    assert all(kind in ("counter", "gauge") for kind, _ in METRICS.values())


def test_health_settings_are_checked() -> None:
    defaults = Settings.from_env({})
    assert (defaults.health_host, defaults.health_port) == ("127.0.0.1", 8080)
    chosen = Settings.from_env({"COACH_HEALTH_PORT": "0", "COACH_HEALTH_HOST": "0.0.0.0"})
    assert (chosen.health_host, chosen.health_port) == ("0.0.0.0", 0)
    for bad in ("-1", "65536", "http", "80.5"):
        with pytest.raises(ConfigError, match="COACH_HEALTH_PORT"):
            Settings.from_env({"COACH_HEALTH_PORT": bad})
