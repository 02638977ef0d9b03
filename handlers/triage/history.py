"""/history: a person's past soreness checks (date, area, outcome), only ever shown privately."""

from __future__ import annotations

from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from handlers.triage.reports import health_consent, recent_reports
from scheduler.occurrences import zone_or_utc

ACTION = "history"


async def history(ctx: TurnContext) -> None:
    texts = ctx.content.triage.texts
    if ctx.in_group:
        ctx.say(
            texts.history_private_only,
            buttons=[[ctx.action(texts.history_button, ACTION, private=True)]],
        )
        return
    await show_history(ctx)


async def show_history(ctx: TurnContext) -> None:
    tree = ctx.content.triage
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    reports = await recent_reports(ctx.session, ctx.user.id)
    if not reports:
        consent = await health_consent(ctx.session, ctx.user.id)
        empty = tree.texts.history_not_stored if consent is False else tree.texts.history_empty
        ctx.say(empty, intent=intent)
        return
    place = tree.place_fact
    lines = [tree.texts.history_intro]
    for report in reports:
        outcome = tree.outcomes.get(report.outcome)
        title = outcome.title if outcome else report.outcome
        area = tree.answer_label(place, report.area) if place and report.area else "—"
        day = report.created_at.astimezone(zone_or_utc(ctx.user.timezone))
        lines.append(f"• {day:%d %b %Y} · {area} · {title}")
    ctx.say("\n".join(lines), intent=intent)
