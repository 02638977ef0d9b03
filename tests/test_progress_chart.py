"""/progress in the chat: streak and minutes from the real log, and the chart PNG read back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.events import ReplyIntent
from handlers.progress import chart as progress_chart
from handlers.progress.commands import chart_path
from handlers.sessions.progression import Week
from tests.harness import ChatHarness, FakeClock, Person
from tests.sessions_support import add_log, press_through, session_bot, user_of

BARS = {progress_chart.BAR_MET, progress_chart.BAR_BELOW}


def _bar_height(image: Image.Image, index: int, weeks: int = 8) -> int:
    """Pixels of bar colour in the middle column of the index-th bar."""
    x0, x1 = progress_chart.bar_span(index, weeks)
    x = (x0 + x1) // 2
    pixels = image.convert("RGB")
    return sum(1 for y in range(image.height) if pixels.getpixel((x, y)) in BARS)


async def _finish_session(person: Person) -> None:
    await person.say("/session")
    if "Beginner" in person.labels():
        await person.press("Beginner")
    await press_through(person)


async def test_progress_shows_streak_minutes_and_a_chart_of_real_sessions(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await _finish_session(ann)  # a real session through the chat, this week
    user = await user_of(bot.engine, ann)
    # Earlier weeks: three sessions two weeks ago, one last week, one abandoned.
    for days_ago in (14, 13, 11):
        await add_log(bot.engine, user, clock.now - timedelta(days=days_ago), work_seconds=540)
    await add_log(bot.engine, user, clock.now - timedelta(days=4), work_seconds=600)
    await add_log(
        bot.engine, user, clock.now - timedelta(days=3), completed=False, work_seconds=120
    )

    await ann.say("/progress")
    assert ann.last_turn is not None
    [reply] = ann.last_turn.replies
    assert reply.title == content.sessions.texts.progress_title
    assert "This week: 1 of 2–3 sessions" in reply.text
    assert "none yet" in reply.text  # last week had one completed session: no streak
    assert "Last 8 weeks: 5 sessions" in reply.text
    assert reply.text.count("• ") == 5 and "stopped early" in reply.text
    assert reply.image == chart_path(tmp_path, user.id).resolve()

    with Image.open(reply.image) as image:
        assert image.format == "PNG"
        assert image.size == (progress_chart.WIDTH, progress_chart.HEIGHT)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 10  # not blank
        heights = [_bar_height(image, i) for i in range(8)]
    # Oldest first: two weeks ago (index 5) three sessions, last week one, this week one.
    assert heights[:5] == [0] * 5
    assert heights[5] > heights[6] > 0
    assert heights[6] == heights[7]
    assert abs(heights[5] - 3 * heights[6]) <= 2


async def test_streak_and_progression_note(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/progress")
    assert ann.text().strip() == content.sessions.texts.progress_empty.strip()
    assert ann.last_turn is not None and ann.last_turn.replies[0].image is None
    user = await user_of(bot.engine, ann)
    for days_ago in (13, 10, 6, 3):
        await add_log(bot.engine, user, clock.now - timedelta(days=days_ago))
    await ann.say("/progress")
    assert "Streak: 2 weeks in a row" in ann.text()
    assert "about 10 % bigger" in ann.text()


async def test_progress_in_a_group_is_sent_privately(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person("ann", group="runners")
    await ann.say("/progress")
    assert ann.last_turn is not None
    assert all(r.intent is ReplyIntent.PRIVATE for r in ann.last_turn.replies)


def test_the_chart_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "charts" / "progress-1.png"
    mondays = [date(2026, 10, 5) + timedelta(weeks=n) for n in range(8)]
    weeks = [Week(start, n % 4, n * 300) for n, start in enumerate(mondays)]
    progress_chart.render(weeks, target, "title")
    progress_chart.render(weeks[::-1], target, "title")
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left


async def test_an_unwritable_data_folder_still_gives_the_numbers(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    bot = session_bot(sqlite_db, content, clock, blocked)
    ann = bot.person()
    await _finish_session(ann)
    await ann.say("/progress")
    assert ann.last_turn is not None
    [reply] = ann.last_turn.replies
    assert reply.image is None and "This week: 1 of 2–3 sessions" in reply.text


async def _chart_weeks(
    bot: ChatHarness, person: Person, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Week], str]:
    """/progress, returning the weeks the chart was drawn from and its caption."""
    drawn: dict[str, object] = {}
    render = progress_chart.render

    def spy(weeks: list[Week], path: Path, title: str, caption: str = "") -> Path:
        drawn.update(weeks=weeks, caption=caption)
        return render(weeks, path, title, caption)

    monkeypatch.setattr(progress_chart, "render", spy)
    await person.say("/progress")
    weeks = drawn["weeks"]
    caption = drawn["caption"]
    assert isinstance(weeks, list) and isinstance(caption, str)
    return weeks, caption


@pytest.mark.parametrize(
    ("zone", "finished", "local_day", "week_of"),
    [
        # Sunday evening in New York is already Monday in UTC: still the week of Mon 30 Nov.
        ("America/New_York", datetime(2026, 12, 7, 2, 40, tzinfo=UTC), "Sun 06 Dec", "30 Nov"),
        # Sunday morning in Auckland is Saturday in UTC: the same week.
        ("Pacific/Auckland", datetime(2026, 12, 5, 20, 40, tzinfo=UTC), "Sun 06 Dec", "30 Nov"),
        # Just after midnight on Monday in Auckland is Sunday in UTC: the next week.
        ("Pacific/Auckland", datetime(2026, 12, 6, 11, 40, tzinfo=UTC), "Mon 07 Dec", "07 Dec"),
    ],
)
async def test_a_session_counts_in_its_own_local_week_and_the_label_is_that_weeks_monday(
    sqlite_db: AsyncEngine,
    content: ContentBundle,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    finished: datetime,
    local_day: str,
    week_of: str,
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say(f"/timezone {zone}")
    # A real session through the chat, finishing at `finished` (each step a minute or its timer).
    clock.now = finished - timedelta(minutes=14)
    await ann.say("/session")
    await ann.press("Beginner")
    await press_through(ann, step_seconds=25)
    assert abs((clock.now - finished).total_seconds()) < 3600
    clock.now = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # Wednesday, everywhere

    weeks, caption = await _chart_weeks(bot, ann, monkeypatch)
    assert f"• {local_day}:" in ann.text()
    [counted] = [w for w in weeks if w.sessions]
    assert progress_chart.week_label(counted) == week_of
    assert counted.start.weekday() == 0 and counted.start <= date(2026, 12, 9)
    assert counted.start <= date.fromisoformat(f"2026-12-{local_day[4:6]}")
    assert counted.start + timedelta(days=6) >= date.fromisoformat(f"2026-12-{local_day[4:6]}")
    assert [w.start for w in weeks][-1] == date(2026, 12, 7)  # this week, last
    assert zone in caption and "Monday to Sunday" in caption
