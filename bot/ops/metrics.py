"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand: a few
counters do not need a client library.

Labels are platforms, kinds, statuses and outcomes, never people: nothing here can tell who
did what.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.engine.engine import Turn
from bot.engine.events import Inbound

Labels = tuple[tuple[str, str], ...]

# name → (type, help). Every metric the bot exposes is listed here, counters and gauges.
METRICS: dict[str, tuple[str, str]] = {
    "corecoach_messages_in_total": (
        "counter",
        "Events received: typed text, commands and button presses.",
    ),
    "corecoach_messages_out_total": ("counter", "Replies given in answer to events."),
    "corecoach_turn_failures_total": (
        "counter",
        "Turns answered with an apology: db_unavailable (try again) or error (a bug).",
    ),
    "corecoach_database_up": ("gauge", "1 when the database answered the last scrape."),
    "corecoach_outbox_pending": ("gauge", "Proactive messages not sent yet (due now or later)."),
    "corecoach_outbox_due": ("gauge", "Pending messages whose time has come."),
    "corecoach_outbox_oldest_due_age_seconds": (
        "gauge",
        "How long the oldest due message has been waiting (0 when none is due).",
    ),
    "corecoach_outbox_retrying": (
        "gauge",
        "Pending messages that failed at least once and wait for a retry.",
    ),
    "corecoach_outbox_messages": (
        "gauge",
        "Outbox rows by status, kept a few days after delivery: failed, unreachable and "
        "expired are the delivery failures.",
    ),
    "corecoach_triage_reports": (
        "gauge",
        "Stored soreness check results by outcome (only those people agreed to store).",
    ),
}


@dataclass(frozen=True)
class Sample:
    name: str
    value: float
    labels: Labels = ()


class Metrics:
    """This process's counters. `count_turn` is the engine's per-turn hook."""

    def __init__(self) -> None:
        self._counts: defaultdict[tuple[str, Labels], float] = defaultdict(float)

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        self._counts[(name, tuple(sorted(labels.items())))] += amount

    def value(self, name: str, **labels: str) -> float:
        return self._counts.get((name, tuple(sorted(labels.items()))), 0.0)

    def count_turn(self, event: Inbound, turn: Turn) -> None:
        platform = event.actor.platform
        self.inc("corecoach_messages_in_total", platform=platform, kind=event.kind)
        if turn.replies:
            self.inc("corecoach_messages_out_total", len(turn.replies), platform=platform)
        if turn.failure is not None:
            self.inc("corecoach_turn_failures_total", reason=turn.failure)

    def samples(self) -> list[Sample]:
        return [Sample(name, value, labels) for (name, labels), value in self._counts.items()]


def render(samples: Iterable[Sample]) -> str:
    """The text format: per metric one HELP and TYPE line, then its samples."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        if sample.name not in METRICS:
            raise KeyError(f"metric {sample.name!r} is not declared in METRICS")
        by_name.setdefault(sample.name, []).append(sample)
    lines: list[str] = []
    for name, (kind, help_text) in METRICS.items():
        if name not in by_name:
            continue
        lines.append(f"# HELP {name} {_escape(help_text, quotes=False)}")
        lines.append(f"# TYPE {name} {kind}")
        for sample in sorted(by_name[name], key=lambda s: s.labels):
            lines.append(f"{name}{_labels(sample.labels)} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v, quotes=True)}"' for k, v in labels) + "}"


def _escape(text: str, *, quotes: bool) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quotes else text


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if float(value).is_integer() else repr(float(value))
