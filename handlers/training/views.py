"""How runs read in messages: distances in the person's unit, times, days on their calendar."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from handlers.training.parse import METRES_PER


def distance(metres: float, unit: str) -> str:
    value = metres / METRES_PER[unit]
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" if not secs else f"{minutes}:{secs:02d} min"


def pace(metres: int, seconds: int, unit: str) -> str:
    per = seconds / (metres / METRES_PER[unit])
    minutes, secs = divmod(round(per), 60)
    return f"{minutes}:{secs:02d} /{unit}"


def day_label(day: date, today: date) -> str:
    if day == today:
        return "today"
    if (today - day).days == 1:
        return "yesterday"
    return day.strftime("%a %d %b")


def summary(
    *,
    distance_m: int,
    duration_s: int | None,
    effort: str | None,
    started: datetime,
    zone: tzinfo,
    today: date,
    unit: str,
    elevation_gain_m: int | None = None,
    with_time: bool = False,
) -> str:
    """'10.0 km in 52 min (5:12 /km), easy, yesterday'."""
    local = started.astimezone(zone)
    parts = [distance(distance_m, unit)]
    if duration_s:
        parts[0] += f" in {duration(duration_s)} ({pace(distance_m, duration_s, unit)})"
    if elevation_gain_m:
        parts.append(f"{elevation_gain_m} m climb")
    if effort:
        parts.append(effort)
    when = day_label(local.date(), today)
    parts.append(f"{when} {local:%H:%M}" if with_time else when)
    return ", ".join(parts)
