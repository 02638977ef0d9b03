"""The /progress chart: completed sessions per week for the last weeks, drawn with Pillow.

Bars are sessions, the shaded band is the goal (two to three a week), and the minutes of core
work stand under each week. Written to a temporary file and renamed, so a reader (the sender
of another process) never sees half a picture.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from handlers.sessions.api import GOAL_MAX, GOAL_MIN, Week

WIDTH, HEIGHT = 800, 420
LEFT, RIGHT, TOP, BOTTOM = 60, 24, 64, 84  # plot margins
BACKGROUND = (255, 255, 255)
GOAL_BAND = (220, 240, 222)
GRID = (225, 228, 232)
AXIS = (120, 128, 138)
BAR_MET = (34, 110, 180)  # a week that reached the goal
BAR_BELOW = (150, 180, 210)
TEXT = (40, 48, 60)


def plot_box() -> tuple[int, int, int, int]:
    return LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM


def bar_span(index: int, count: int) -> tuple[int, int]:
    """Left and right x of the index-th bar (tests read the picture back with these)."""
    left, _, right, _ = plot_box()
    slot = (right - left) / count
    return round(left + slot * index + slot * 0.2), round(left + slot * (index + 1) - slot * 0.2)


def week_label(week: Week) -> str:
    """A bar's label: the first day (a Monday, on the person's calendar) of the week it counts."""
    return f"{week.start:%d %b}"


def render(weeks: Sequence[Week], path: Path, title: str, caption: str = "") -> Path:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    big = ImageFont.load_default(size=22)
    left, top, right, bottom = plot_box()
    top_value = max(GOAL_MAX + 1, *(w.sessions for w in weeks))

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    draw.rectangle((left, y_of(GOAL_MAX), right, y_of(GOAL_MIN)), fill=GOAL_BAND)
    for value in range(top_value + 1):
        y = y_of(value)
        draw.line((left, y, right, y), fill=GRID, width=1)
        draw.text((left - 10, y), str(value), fill=AXIS, font=font, anchor="rm")
    draw.text(
        (right, y_of(GOAL_MAX) - 4),
        f"goal: {GOAL_MIN} to {GOAL_MAX} a week",
        fill=AXIS,
        font=font,
        anchor="rb",
    )
    for index, week in enumerate(weeks):
        x0, x1 = bar_span(index, len(weeks))
        middle = (x0 + x1) / 2
        if week.sessions:
            colour = BAR_MET if week.sessions >= GOAL_MIN else BAR_BELOW
            draw.rectangle((x0, y_of(week.sessions), x1, bottom), fill=colour)
            draw.text(
                (middle, y_of(week.sessions) - 4),
                str(week.sessions),
                fill=TEXT,
                font=font,
                anchor="mb",
            )
        draw.text((middle, bottom + 10), week_label(week), fill=TEXT, font=font, anchor="mt")
        work = f"{round(week.work_seconds / 60)} min"
        draw.text((middle, bottom + 32), work, fill=AXIS, font=font, anchor="mt")
    draw.line((left, bottom, right, bottom), fill=AXIS, width=2)
    draw.text((left, 16), title, fill=TEXT, font=big, anchor="lt")
    if caption:
        draw.text((left, 42), caption, fill=AXIS, font=font, anchor="lt")
    # The bot's user only: a chart shows a person's training.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A name of its own per render: two processes drawing one person's chart never collide.
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
        image.save(file, format="PNG", optimize=True)
    os.replace(partial, path)
    return path
