"""The weekly summary's chart: 8 weeks of running distance, drawn with Pillow like /progress.

Bars are each week's distance, labelled by the week's own first day (a Monday on the person's
calendar). Over each week from the second on, the shaded band runs from the week before's
distance to 10 % above it: a bar reaching past its band (by at least /week's floor) rose too
fast and is drawn in the warning colour. Dots under each label mark the week's core sessions.
Written to a temporary file and renamed, so the sender never reads half a picture.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from handlers.summary.figures import ChartWeek
from handlers.training.api import METRES_PER, rose_too_fast

WIDTH, HEIGHT = 800, 440
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 64, 104  # plot margins
BACKGROUND = (255, 255, 255)
BAND = (222, 240, 224)  # up to 10 % over the week before
GRID = (225, 228, 232)
AXIS = (120, 128, 138)
BAR = (34, 110, 180)
BAR_JUMP = (214, 120, 40)  # rose more than 10 % (and by the floor)
CORE_DOT = (120, 70, 170)
TEXT = (40, 48, 60)
DOTS_SHOWN = 6  # more than this many sessions: the dots end in a "+"


def plot_box() -> tuple[int, int, int, int]:
    return LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM


def bar_span(index: int, count: int) -> tuple[int, int]:
    """Left and right x of the index-th bar (tests read the picture back with these)."""
    left, _, right, _ = plot_box()
    slot = (right - left) / count
    return round(left + slot * index + slot * 0.22), round(left + slot * (index + 1) - slot * 0.22)


def band_span(index: int, count: int) -> tuple[int, int]:
    """The band is a little wider than its bar, so it shows beside a bar that fills it."""
    left, _, right, _ = plot_box()
    slot = (right - left) / count
    return round(left + slot * index + slot * 0.1), round(left + slot * (index + 1) - slot * 0.1)


def dot_row_y() -> int:
    return HEIGHT - BOTTOM + 40


def week_label(week: ChartWeek) -> str:
    return f"{week.start:%d %b}"


_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
TICKS = 4


def nice_top(value: float) -> float:
    """A round axis maximum at or above `value`: four even steps of 1, 2, 5, 10, 20, 25, …"""
    step = next((s for s in _STEPS if s * TICKS >= value), _STEPS[-1])
    return float(step * TICKS)


def render(
    weeks: Sequence[ChartWeek], unit: str, path: Path, title: str, caption: str = ""
) -> Path:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    big = ImageFont.load_default(size=22)
    left, top, right, bottom = plot_box()
    per = METRES_PER[unit]
    values = [w.distance_m / per for w in weeks]
    bands = [values[i - 1] * 1.1 for i in range(1, len(values))]
    top_value = nice_top(max([1.0, *values, *bands]))

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    for tick in range(TICKS + 1):
        value = top_value * tick / TICKS
        y = y_of(value)
        draw.line((left, y, right, y), fill=GRID, width=1)
        draw.text((left - 10, y), f"{value:g}", fill=AXIS, font=font, anchor="rm")
    draw.text((left - 10, top - 18), unit, fill=AXIS, font=font, anchor="rm")
    for index, week in enumerate(weeks):
        if index > 0 and weeks[index - 1].distance_m > 0:
            b0, b1 = band_span(index, len(weeks))
            draw.rectangle(
                (b0, y_of(values[index - 1] * 1.1), b1, y_of(values[index - 1])), fill=BAND
            )
        x0, x1 = bar_span(index, len(weeks))
        middle = (x0 + x1) / 2
        if week.distance_m:
            jump = index > 0 and rose_too_fast(week.distance_m, weeks[index - 1].distance_m)
            draw.rectangle((x0, y_of(values[index]), x1, bottom), fill=BAR_JUMP if jump else BAR)
            draw.text(
                (middle, y_of(values[index]) - 4),
                f"{values[index]:.0f}",
                fill=TEXT,
                font=font,
                anchor="mb",
            )
        draw.text((middle, bottom + 10), week_label(week), fill=TEXT, font=font, anchor="mt")
        _core_dots(draw, middle, week.core_sessions, font)
    draw.line((left, bottom, right, bottom), fill=AXIS, width=2)
    draw.text((left, 16), title, fill=TEXT, font=big, anchor="lt")
    if caption:
        draw.text((left, 42), caption, fill=AXIS, font=font, anchor="lt")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the bot's user only
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
        # Encoding is most of the cost: optimize=True tripled it to save 5 % of the bytes;
        # level 3 is as fast as 1 and a little smaller.
        image.save(file, format="PNG", compress_level=3)
    os.replace(partial, path)
    return path


def _core_dots(
    draw: ImageDraw.ImageDraw,
    middle: float,
    count: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    shown = min(count, DOTS_SHOWN)
    radius, gap = 4, 11
    first = middle - gap * (shown - 1) / 2
    y = dot_row_y()
    for n in range(shown):
        x = first + gap * n
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=CORE_DOT)
    if count > DOTS_SHOWN:
        draw.text((first + gap * shown, y), "+", fill=CORE_DOT, font=font, anchor="lm")
