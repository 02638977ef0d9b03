"""The weekly summary as a person reads it: one message with the week's figures, the change
against the week before, and the chart. The same message for /summary and for the Sunday post."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.bundle import ContentBundle
from bot.content.plural import fill
from bot.content.training_schema import TrainingTexts
from bot.storage.models import User
from handlers.sessions.api import zone_of
from handlers.summary import chart
from handlers.summary.figures import CHART_WEEKS, WeekFigures, gather
from handlers.training.api import distance_text, rose_too_fast

log = logging.getLogger("corecoach.summary")

CHARTS_FOLDER = "charts"
SAME_WITHIN_PCT = 5  # as /week: a change under 5 % reads "about the same"


@dataclass(frozen=True)
class Summary:
    text: str
    image: Path | None
    figures: WeekFigures


def chart_path(data_dir: Path, user_id: int) -> Path:
    # The internal row id, never the platform id: the file name says nothing about the person.
    return data_dir / CHARTS_FOLDER / f"summary-{user_id}.png"


def charts_of(data_dir: Path, user_id: int) -> list[Path]:
    """The person's summary chart, if one was drawn (/forget deletes it, /privacy counts it)."""
    path = chart_path(data_dir, user_id)
    return [path] if path.exists() else []


def describe(texts: TrainingTexts, figures: WeekFigures) -> str:
    week, unit = figures.this_week, figures.unit
    lines = [
        fill(
            texts.summary_body,
            week=f"{week.start:%d %b}",
            runs=week.runs,
            distance=distance_text(week.distance_m, unit),
            sessions=week.core_sessions,
            checks=figures.soreness_checks,
        )
    ]
    before = figures.weeks[-2].distance_m if len(figures.weeks) > 1 else 0
    last = distance_text(before, unit)
    if before <= 0:
        lines.append(texts.week_change_none)
    else:
        pct = round((week.distance_m - before) * 100 / before)
        if pct >= SAME_WITHIN_PCT:
            lines.append(fill(texts.week_change_up, pct=pct, last=last))
        elif pct <= -SAME_WITHIN_PCT:
            lines.append(fill(texts.week_change_down, pct=-pct, last=last))
        else:
            lines.append(fill(texts.week_change_same, last=last))
    if rose_too_fast(week.distance_m, before):
        lines.append(texts.summary_jump)
    return "\n\n".join(lines)


async def compose(
    session: AsyncSession, user: User, now: datetime, content: ContentBundle, data_dir: Path
) -> Summary:
    texts = content.training.texts
    figures = await gather(session, user, now)
    title = fill(texts.summary_chart_title, weeks=CHART_WEEKS)
    caption = fill(texts.summary_chart_caption, zone=zone_of(user).key)
    target = chart_path(data_dir, user.id).resolve()
    try:
        # Drawing takes milliseconds of CPU: off the event loop other turns run on.
        image: Path | None = await asyncio.to_thread(
            chart.render, figures.weeks, figures.unit, target, title, caption
        )
    except OSError as exc:  # a read-only or full data folder: the figures still go out
        log.warning("summary.chart_failed", extra={"error": type(exc).__name__})
        image = None
    return Summary(describe(texts, figures), image, figures)
