"""/progress: sessions this week against the goal, the streak, minutes of core work, the last
sessions, and a chart of the last weeks (a PNG under the data folder, sent as a picture)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.storage.models import SessionLog
from handlers.progress import chart as progress_chart
from handlers.sessions import api as sessions
from handlers.sessions.api import (
    CHART_WEEKS,
    SESSION_ACTION,
    dose_advice,
    local_label,
    minutes,
    step_pct,
    streak,
    weeks,
)

log = logging.getLogger("corecoach.progress")

LAST_SHOWN = 5
CHARTS_FOLDER = "charts"


def chart_path(data_dir: Path, user_id: int) -> Path:
    # The internal row id, not the platform id: file names leak nothing about the person.
    return data_dir / CHARTS_FOLDER / f"progress-{user_id}.png"


def charts_of(data_dir: Path, user_id: int) -> list[Path]:
    """The person's chart, if one was drawn (/forget deletes it)."""
    path = chart_path(data_dir, user_id)
    return [path] if path.exists() else []


async def progress(ctx: TurnContext) -> None:
    await show_progress(ctx, ctx.data_dir)


async def show_progress(ctx: TurnContext, data_dir: Path) -> None:
    texts = ctx.content.sessions.texts
    rows = await sessions.history(ctx.session, ctx.user, ctx.now)
    if not rows:
        ctx.say(
            texts.progress_empty,
            buttons=[[ctx.action("Start a session", SESSION_ACTION, "start")]],
        )
        return
    today = sessions.local_day(ctx.user, ctx.now)
    logged = sessions.as_logged(ctx.user, rows)
    recent = weeks(logged, today)
    this_week = recent[-1]
    in_chart = sum(w.sessions for w in recent)
    chart_seconds = sum(w.work_seconds for w in recent)
    run = streak(logged, today)
    lines = [
        fill(
            texts.progress_week,
            count=this_week.sessions,
            minutes=round(this_week.work_seconds / 60),
        ),
        fill(texts.progress_streak, weeks=run) if run else texts.progress_no_streak,
        fill(
            texts.progress_total,
            weeks=CHART_WEEKS,
            count=in_chart,
            minutes=round(chart_seconds / 60),
        ),
        "",
        texts.progress_last,
        *(_line(ctx, row) for row in rows[:LAST_SHOWN]),
    ]
    advice = dose_advice(logged, today)
    if advice.suggested:
        lines += [
            "",
            fill(texts.progression_offer, pct=step_pct(advice.current, advice.suggested)),
        ]
    elif advice.at_cap:
        lines += ["", texts.progression_at_cap]
    title = fill(texts.chart_title, weeks=CHART_WEEKS)
    # Weeks are the person's own: Monday to Sunday on the clock of their zone.
    caption = fill(texts.chart_weeks, zone=sessions.zone_of(ctx.user).key)
    target = chart_path(data_dir, ctx.user.id).resolve()
    try:
        # Drawing and writing take a few milliseconds: off the event loop other turns run on.
        image: Path | None = await asyncio.to_thread(
            progress_chart.render, recent, target, title, caption
        )
    except OSError as exc:  # a read-only or full data folder: the numbers still go out
        log.warning("progress.chart_failed", extra={"error": type(exc).__name__})
        image = None
    ctx.say(
        "\n".join(lines),
        title=texts.progress_title,
        image=image,
        buttons=[[ctx.action("Start a session", SESSION_ACTION, "start")]],
    )


def _line(ctx: TurnContext, row: SessionLog) -> str:
    texts = ctx.content.sessions.texts
    day = local_label(row.finished_at.astimezone(sessions.zone_of(ctx.user)))
    level = texts.levels[row.level].label.casefold() if row.level in texts.levels else row.level
    how = texts.progress_finished if row.completed else texts.progress_stopped
    return fill(
        texts.progress_line,
        day=day,
        level=level,
        moves=row.moves_done,
        minutes=minutes(row.work_seconds),
        how=how,
    )
