"""The weekly summary: /summary shows your week now and turns the Sunday-evening post on or off;
the sweep hook queues the posts; /forget finds the chart."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.summary.commands import ACTION, summary_button, summary_command
from handlers.summary.message import charts_of
from handlers.summary.sweep import sweep_summaries

feature = Feature("summary")
# Personal: in a group the answer goes to the person privately.
feature.command(
    "summary",
    "Your week: runs, core sessions, a chart; on|off for Sundays",
    args_hint="on|off",
    private=True,
)(summary_command)
feature.action(ACTION, private=True)(summary_button)
feature.sweep(sweep_summaries)
feature.files_of(charts_of)
