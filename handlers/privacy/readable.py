"""/export in words a person reads: times as "08:00", days by name, soreness results by their
title, consent as yes/no, plus a short summary on top. The raw rows stay beside it, so the file
is still a complete copy of what is stored."""

from __future__ import annotations

from typing import Any

from bot.content.bundle import ContentBundle
from scheduler.occurrences import DAY_NAMES

# What a column means, for the readable copy; other columns are shown as stored.
_RENAMED = {"minute_of_day": "time", "days": "days", "outcome": "result", "granted": "agreed"}


def readable(tables: dict[str, list[dict[str, Any]]], content: ContentBundle) -> dict[str, Any]:
    return {
        name: [{_RENAMED.get(k, k): _value(k, v, content) for k, v in row.items()} for row in rows]
        for name, rows in tables.items()
    }


def _value(column: str, value: Any, content: ContentBundle) -> Any:
    if column == "minute_of_day" and isinstance(value, int):
        return f"{value // 60:02d}:{value % 60:02d}"
    if column == "days" and isinstance(value, int):
        return [day for bit, day in enumerate(DAY_NAMES) if value & (1 << bit)]
    if column == "outcome" and isinstance(value, str) and value in content.triage.outcomes:
        return content.triage.outcomes[value].title
    if column == "granted" and isinstance(value, bool):
        return "yes" if value else "no"
    return value
