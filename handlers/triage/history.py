"""/history: a person's past soreness checks (date, area, outcome, and the run each followed or
the jump in load the training log showed), only ever shown privately."""

from __future__ import annotations

from bot.content.plural import fill
from bot.content.triage_schema import TriageTexts
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from bot.storage.models import TriageTrainingLink
from handlers.training.api import RunRef, runs_by_id
from handlers.triage.reports import health_consent, recent_reports, training_links
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
    links = await training_links(ctx.session, [r.id for r in reports])
    run_ids = {link.run_id for link in links.values() if link.run_id is not None}
    runs = await runs_by_id(ctx.session, ctx.user.id, run_ids)
    place = tree.place_fact
    lines = [tree.texts.history_intro]
    for report in reports:
        outcome = tree.outcomes.get(report.outcome)
        title = outcome.title if outcome else report.outcome
        area = tree.answer_label(place, report.area) if place and report.area else "—"
        day = report.created_at.astimezone(zone_or_utc(ctx.user.timezone))
        line = f"• {day:%d %b %Y} · {area} · {title}"
        notes = _training_notes(tree.texts, links.get(report.id), runs)
        lines.append(" · ".join([line, *notes]))
    ctx.say("\n".join(lines), intent=intent)


def _training_notes(
    texts: TriageTexts, link: TriageTrainingLink | None, runs: dict[int, RunRef]
) -> list[str]:
    if link is None:
        return []
    notes = []
    run = runs.get(link.run_id) if link.run_id is not None else None
    if run is not None:  # a run deleted since leaves the check without it
        notes.append(fill(texts.history_after_run, distance=run.distance, day=f"{run.day:%d %b}"))
    if link.load_jumped:
        notes.append(texts.history_load_jump)
    return notes
