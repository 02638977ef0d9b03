"""The real AsyncIOScheduler: one sweep job that runs on its interval, writes outbox rows, and
hands them to the sender; started and stopped like `corecoach run` does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_router
from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.engine import Engine
from bot.storage.db import make_sessionmaker
from bot.storage.models import Outbox
from scheduler.service import SWEEP_JOB, Background, make_scheduler, start_background
from scheduler.sweep import Sweeper
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def next_sweep(sweeper: Sweeper) -> None:
    sweeper.swept.clear()
    await asyncio.wait_for(sweeper.swept.wait(), 10)


async def test_the_sweep_job_runs_on_its_interval_and_writes_outbox_rows(
    quick_bot: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 23, 8)
    ann = quick_bot.person("ann")
    await ann.say("/timezone Europe/Berlin")
    await ann.say("/remind daily 10:00")
    sessions = quick_bot.engine.sessions
    sweeper = Sweeper(sessions, content, Settings(), build_router().sweep_hooks, clock=clock)
    scheduler = make_scheduler(sweeper, interval_seconds=0.05)
    [job] = scheduler.get_jobs()
    assert (job.id, job.max_instances, job.coalesce) == (SWEEP_JOB, 1, True)
    scheduler.start()
    try:
        await next_sweep(sweeper)  # runs at once on start: nothing due yet
        async with sessions() as session:
            assert list(await session.scalars(select(Outbox))) == []
        clock.now = utc(2026, 11, 23, 9, 0, 3)  # 10:00 Berlin
        await next_sweep(sweeper)
        await next_sweep(sweeper)  # and again: still one row for this occurrence
        async with sessions() as session:
            rows = list(await session.scalars(select(Outbox)))
        assert [r.platform_chat_id for r in rows] == ["dm:ann"]
        assert sweeper.runs >= 3
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


class Inbox:
    platform = "test"

    def __init__(self) -> None:
        self.delivered: list[OutboundMessage] = []
        self.arrived = asyncio.Event()

    async def deliver(self, message: OutboundMessage) -> Delivery:
        self.delivered.append(message)
        self.arrived.set()
        return Delivery(DeliveryStatus.SENT)


async def first_delivery(
    db: AsyncEngine, engine: Engine, clock: FakeClock
) -> tuple[Background, list[OutboundMessage]]:
    """start_background as `corecoach run` does, until something is delivered; then stop."""
    app = App(Settings(sweep_seconds=0.05), db, engine.sessions, engine.content, engine)
    inbox = Inbox()
    background = start_background(app, [inbox], clock=clock)
    try:
        await asyncio.wait_for(inbox.arrived.wait(), 10)
    finally:
        await background.stop()
    return background, inbox.delivered


async def test_start_background_sweeps_sends_and_stops_cleanly(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    sessions = make_sessionmaker(sqlite_db)
    engine = build_engine(sessions, content, clock=clock)
    clock.now = utc(2026, 11, 23, 8)
    ann = ChatHarness(engine).person("ann")
    await ann.say("/timezone Europe/Berlin")
    await ann.say("/remind daily 10:00")
    clock.now = utc(2026, 11, 23, 9, 0, 3)
    background, [message] = await first_delivery(sqlite_db, engine, clock)
    assert not background.scheduler.running
    assert "Monday 10:00" in message.reply.text
    async with sessions() as session:
        [row] = list(await session.scalars(select(Outbox)))
    assert row.status == "sent"


async def test_club_posts_go_out_through_the_apps_sweep_hooks(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    """The scheduler knows no feature: clubs register their sweep on the router, and
    start_background hands the router's hooks to the sweep."""
    sessions = make_sessionmaker(sqlite_db)
    engine = build_engine(sessions, content, clock=clock)
    clock.now = utc(2026, 11, 23, 8)
    coach = ChatHarness(engine).person("anna", group="harriers", admin=True)
    await coach.say("/challenge new")
    for label in ("Plank ladder: 3 × 45 s daily", "Tomorrow", "07:00", "1 week", "Just once"):
        await coach.press(label)
    await coach.press("Schedule it")
    clock.now = utc(2026, 11, 24, 7, 0, 3)
    _, [post] = await first_delivery(sqlite_db, engine, clock)
    assert post.chat_id == "group:harriers" and "Plank ladder" in post.reply.text
