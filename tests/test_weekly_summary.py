"""The weekly summary: /summary now, on and off, the Sunday-evening post through the real sweep,
outbox and sender (once a week, never in quiet hours), the chart read back, and /forget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import QuietSpan, Settings
from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.storage.models import WeeklySummaryOptIn
from handlers.summary import chart
from handlers.summary.figures import ChartWeek
from handlers.summary.message import chart_path
from scheduler.pacing import PacingPolicy
from scheduler.sender import Sender
from scheduler.sweep import Sweeper
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person
from tests.sessions_support import add_log, user_of
from tests.test_scheduler_reminders import Inbox

SUNDAY_EVENING = datetime(2026, 11, 29, 18, 30, tzinfo=UTC)  # Sunday 18:30 UTC


def _bot(db: AsyncEngine, content: ContentBundle, clock: FakeClock, data_dir: Path) -> ChatHarness:
    return ChatHarness(build_engine(db, content, clock=clock, data_dir=data_dir))


async def _deliver(
    bot: ChatHarness, clock: FakeClock, content: ContentBundle, settings: Settings
) -> list[Reply]:
    hooks = bot.engine.router.sweep_hooks
    await Sweeper(bot.engine.sessions, content, settings, hooks, clock=clock).run_once()
    inbox = Inbox()
    sender = Sender(bot.engine.sessions, inbox, pacing=PacingPolicy.unlimited(), clock=clock)
    await sender.drain_once()
    return [m.reply for m in inbox.delivered]


async def _log(person: Person, text: str) -> None:
    await person.say(text)
    await person.press("Save")


async def test_summary_now_then_on_sunday_once_and_off(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    texts = content.training.texts
    bot = _bot(db, content, clock, tmp_path)
    settings = Settings(data_dir=tmp_path)
    ann = bot.person()
    clock.advance(days=-7)  # Monday of last week: 20 km
    await _log(ann, "ran 20 km easy")
    clock.advance(days=7)  # Monday 23 November: 30 km this week, one core session
    await _log(ann, "ran 12 km easy")
    clock.advance(days=2)
    await _log(ann, "ran 18 km long")
    await add_log(bot.engine, await user_of(bot.engine, ann), clock.now)

    await ann.say("/summary")
    assert ann.last_turn is not None
    [reply] = ann.last_turn.replies
    assert (
        "**Week of 23 Nov:** 2 runs, **30.0 km**; 1 core session; 0 soreness checks" in reply.text
    )
    assert "50% more than last week (20.0 km)" in reply.text
    assert texts.summary_jump in reply.text  # +10 km: over the 10 % rule and the floor
    assert reply.image is not None and reply.image == chart_path(tmp_path, 1).resolve()
    assert texts.summary_on_button in ann.labels()

    clock.now = SUNDAY_EVENING
    assert await _deliver(bot, clock, content, settings) == []  # not asked for: nothing
    await ann.press(texts.summary_on_button)
    assert ann.text().strip() == texts.summary_on
    clock.now = SUNDAY_EVENING - timedelta(hours=1)  # 17:30: not yet
    assert await _deliver(bot, clock, content, settings) == []
    clock.now = SUNDAY_EVENING
    [post] = await _deliver(bot, clock, content, settings)
    assert post.title == texts.summary_title and "2 runs, **30.0 km**" in post.text
    assert post.image is not None and post.image.exists()
    clock.advance(hours=1)
    assert await _deliver(bot, clock, content, settings) == []  # once a week

    await ann.press_payload(post.flat_buttons()[0].payload)  # "Stop the weekly summary"
    assert ann.text().strip() == texts.summary_off
    clock.now = SUNDAY_EVENING + timedelta(days=7)
    assert await _deliver(bot, clock, content, settings) == []
    async with bot.engine.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WeeklySummaryOptIn)) == 0


async def test_never_in_quiet_hours_and_in_the_persons_zone(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = _bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/timezone Asia/Tokyo")  # UTC+9
    await ann.say("/summary on")
    # Sunday 18:30 UTC is Monday 03:30 in Tokyo: no longer Sunday, and quiet.
    clock.now = SUNDAY_EVENING
    assert await _deliver(bot, clock, content, Settings(data_dir=tmp_path)) == []
    # Sunday 19:00 in Tokyo, with quiet hours set from 18:00: held back, then skipped.
    clock.now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    quiet = Settings(data_dir=tmp_path, quiet_hours=QuietSpan(start=18 * 60, end=7 * 60))
    assert await _deliver(bot, clock, content, quiet) == []
    # The default quiet hours (22:00-07:00): 19:00 in Tokyo is fine.
    [post] = await _deliver(bot, clock, content, Settings(data_dir=tmp_path))
    assert "**Week of 30 Nov:** 0 runs" in post.text


async def test_forget_removes_the_opt_in_and_the_chart(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = _bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/summary on")
    await ann.say("/summary")
    user = await user_of(bot.engine, ann)
    assert chart_path(tmp_path, user.id).exists()
    await ann.say("/privacy")
    assert "1 weekly summary subscription" in ann.text()
    await ann.say("/forget")
    await ann.press("Delete everything")
    assert not chart_path(tmp_path, user.id).exists()
    async with bot.engine.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WeeklySummaryOptIn)) == 0


def _column(image: Image.Image, x: int, colour: tuple[int, int, int]) -> int:
    pixels = image.convert("RGB")
    return sum(1 for y in range(image.height) if pixels.getpixel((x, y)) == colour)


def test_chart_bars_band_jumps_and_core_dots(tmp_path: Path) -> None:
    monday = date(2026, 10, 5)
    km = [10, 10, 11, 20, 0, 15, 16, 30]
    weeks = [
        ChartWeek(monday + timedelta(weeks=i), d * 1000, 1 if d else 0, core)
        for i, (d, core) in enumerate(zip(km, [0, 1, 2, 3, 0, 0, 7, 2], strict=True))
    ]
    path = chart.render(weeks, "km", tmp_path / "c.png", "title", "caption")
    image = Image.open(path)
    assert image.size == (chart.WIDTH, chart.HEIGHT)
    heights = []
    for index in range(len(weeks)):
        x0, x1 = chart.bar_span(index, len(weeks))
        middle = (x0 + x1) // 2
        heights.append(_column(image, middle, chart.BAR) + _column(image, middle, chart.BAR_JUMP))
        jump = _column(image, middle, chart.BAR_JUMP) > 0
        # +10 km over 10 km and +15 km over 15 km are jumps; +1 km is neither over 10 % nor
        # over the floor.
        assert jump is (index in (3, 7)), index
        band_x = chart.band_span(index, len(weeks))[0] + 2  # beside the bar, inside the band
        has_band = _column(image, band_x, chart.BAND) > 0
        assert has_band is (index > 0 and km[index - 1] > 0), index
    assert heights[4] == 0 and heights[0] == heights[1] and heights[7] == 2 * heights[5]
    dots = image.convert("RGB")
    y = chart.dot_row_y()
    row = [dots.getpixel((x, y)) == chart.CORE_DOT for x in range(chart.WIDTH)]
    runs = sum(1 for a, b in zip([False, *row], row, strict=False) if b and not a)
    # Seven sessions show six dots and a "+" (whose bar crosses the row once).
    assert runs == 0 + 1 + 2 + 3 + (6 + 1) + 2
