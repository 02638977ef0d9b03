"""/today and "what should I do today?": an easy run, a rest day or a core session, with the
reason, from the training load, the last soreness outcome and the last core session.

Its own feature, beside the three it reads: the soreness check reads the training log too, so
the training log must not read the soreness check (no import cycles between features)."""

from __future__ import annotations

from datetime import timedelta

from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from handlers.sessions import api as sessions
from handlers.training import api as training
from handlers.triage import api as triage

SORENESS_DAYS = 3  # a rest-type soreness outcome this recent still decides the day
CORE_DUE_DAYS = 4  # an easy day becomes a core day when the last session is this old


async def today_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    load, runs = await training.load_and_runs(ctx.session, ctx.user, ctx.now)
    report = await triage.latest_report(
        ctx.session,
        ctx.user.id,
        since=ctx.now - timedelta(days=SORENESS_DAYS),
        outcomes=triage.no_core_work_outcomes(ctx.content.triage),
    )
    if report is not None:
        ctx.say(fill(texts.today_rest, reason=texts.reason_soreness), intent=intent)
        return
    if load.ratio_high:
        ctx.say(fill(texts.today_rest, reason=texts.reason_ratio), intent=intent)
        return
    start = [[ctx.action(texts.today_session_button, sessions.SESSION_ACTION, sessions.START_ARG)]]
    hard = ctx.content.training.words.hard_efforts
    recent_hard = next(
        (r for r in reversed(runs) if (load.today - r.day).days <= 1 and r.effort in hard), None
    )
    if load.week_jump or recent_hard is not None:
        reason = (
            texts.reason_week
            if load.week_jump
            else fill(texts.reason_hard, effort=recent_hard.effort if recent_hard else "")
        )
        ctx.say(fill(texts.today_core, reason=reason), buttons=start, intent=intent)
        return
    # The load says easy: unless core work is overdue, then it is a core day.
    logged = await sessions.history(ctx.session, ctx.user, ctx.now, weeks=2)
    if not logged:
        ctx.say(
            fill(texts.today_core, reason=texts.reason_core_never), buttons=start, intent=intent
        )
        return
    days = (load.today - sessions.local_day(ctx.user, logged[0].finished_at)).days
    if days >= CORE_DUE_DAYS:
        reason = fill(texts.reason_core_due, days=days)
        ctx.say(fill(texts.today_core, reason=reason), buttons=start, intent=intent)
        return
    ctx.say(fill(texts.today_easy, reason=texts.reason_easy), intent=intent)
