"""Logging a typed run: the bot repeats what it understood (Save / Fix / Undo); /runs lists
recent runs with Edit and Delete; /units km|mi."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.content.plural import fill
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import ReplyIntent
from bot.engine.state_model import StateModel
from handlers.training import store, views
from handlers.training.parse import ParsedRun, parse_run
from handlers.training.week import load_warnings

DIALOG = "training.run"
SAVE, FIX, UNDO = "save", "fix", "undo"


class Understood(StateModel):
    """A run as the bot read it, before the person saves it."""

    distance_m: int
    duration_s: int | None
    effort: str | None
    started_at: datetime


class RunDraft(StateModel):
    """Waiting for Save / Fix / Undo on `run`, or (run None) for the run typed again; `edit`
    names the stored run being corrected."""

    run: Understood | None = None
    edit: int | None = None


DELETE_ACTION = "run_del"
EDIT_ACTION = "run_edit"
UNDO_ACTION = "run_undo"


def _intent(ctx: TurnContext) -> ReplyIntent:
    # Runs are health data: in a group the answers go privately.
    return ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW


def _parse(ctx: TurnContext, text: str) -> ParsedRun | None:
    weekday = ctx.now.astimezone(store.zone_of(ctx.user)).weekday()
    return parse_run(text, ctx.content.training.words, weekday)


async def run_command(ctx: TurnContext) -> None:
    """/run 10k in 52 min easy (or no words: ask for them)."""
    if not ctx.event.args.strip():
        ctx.start_dialog(DIALOG, RunDraft())
        ctx.say(ctx.content.training.texts.fix_prompt, intent=_intent(ctx))
        return
    await _understood(ctx, ctx.event.args, edit=None)


async def run_words(ctx: TurnContext) -> None:
    """The plain-words intent: "ran 10k in 52 min, easy"."""
    await _understood(ctx, ctx.event.text or "", edit=None)


async def _understood(ctx: TurnContext, text: str, *, edit: int | None) -> None:
    texts = ctx.content.training.texts
    parsed = _parse(ctx, text)
    if parsed is None:
        ctx.start_dialog(DIALOG, RunDraft(edit=edit))
        ctx.say(texts.not_understood, intent=_intent(ctx))
        return
    run = Understood(
        distance_m=parsed.distance_m,
        duration_s=parsed.duration_s,
        effort=parsed.effort,
        started_at=ctx.now - timedelta(days=parsed.days_ago),
    )
    ctx.start_dialog(DIALOG, RunDraft(run=run, edit=edit))
    await _ask_to_save(ctx)


async def _summary(ctx: TurnContext, run: Understood) -> str:
    zone = store.zone_of(ctx.user)
    return views.summary(
        distance_m=run.distance_m,
        duration_s=run.duration_s,
        effort=run.effort,
        started=run.started_at,
        zone=zone,
        today=ctx.now.astimezone(zone).date(),
        unit=await store.units(ctx.session, ctx.user.id),
    )


async def _ask_to_save(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    run = ctx.state(RunDraft).run
    assert run is not None  # asked only with a run understood
    summary = await _summary(ctx, run)
    ctx.say(
        fill(texts.confirm, summary=summary),
        buttons=[
            [
                ctx.choice(texts.save_button, SAVE),
                ctx.choice(texts.fix_button, FIX),
                ctx.choice(texts.undo_button, UNDO),
            ]
        ],
        intent=_intent(ctx),
    )


async def on_answer(ctx: TurnContext, answer: DialogInput) -> None:
    texts = ctx.content.training.texts
    draft = ctx.state(RunDraft)
    run, edit = draft.run, draft.edit
    if answer.choice == SAVE and run is not None:
        ctx.end_dialog()
        await _save(ctx, run, edit)
    elif answer.choice == FIX:
        draft.run = None
        ctx.say(texts.fix_prompt, intent=_intent(ctx))
    elif answer.choice == UNDO:
        ctx.end_dialog()
        ctx.say(texts.undone, intent=_intent(ctx))
    elif answer.text is not None and (run is None or _parse(ctx, answer.text) is not None):
        # Waiting for the run typed again, or a corrected run typed instead of pressing Fix.
        await _understood(ctx, answer.text, edit=edit)
    elif answer.text is not None:
        # Something else entirely: the question is dropped and the words go where they would
        # have gone (a soreness report must still reach the soreness check).
        ctx.end_dialog()
        await ctx.route_words(answer.text)


async def _save(ctx: TurnContext, run: Understood, edit: int | None) -> None:
    texts = ctx.content.training.texts
    started = run.started_at
    if edit is not None:
        row = await store.own_run(ctx.session, ctx.user.id, edit)
        if row is None:
            ctx.say(texts.gone, intent=_intent(ctx))
            return
        row.distance_m, row.duration_s = run.distance_m, run.duration_s
        row.effort, row.started_at = run.effort, started
        run_id = row.id
    else:
        saved = await store.add_run(
            ctx.session,
            ctx.user.id,
            started_at=started,
            distance_m=run.distance_m,
            duration_s=run.duration_s,
            effort=run.effort,
            source="typed",
        )
        run_id = saved.id
    await ctx.session.flush()
    lines = [fill(texts.saved, summary=await _summary(ctx, run))]
    lines += await load_warnings(ctx)
    ctx.say(
        "\n\n".join(lines),
        buttons=[[ctx.action(texts.undo_button, UNDO_ACTION, str(run_id))]],
        intent=_intent(ctx),
    )


def _run_id(ctx: TurnContext) -> int | None:
    return int(ctx.action_arg) if ctx.action_arg.isdigit() else None


async def delete_button(ctx: TurnContext) -> None:
    """Delete (from /runs) and Undo (after a save) both remove the run, if it is theirs."""
    texts = ctx.content.training.texts
    run_id = _run_id(ctx)
    gone = run_id is not None and await store.delete_run(ctx.session, ctx.user.id, run_id)
    ctx.say(texts.deleted if gone else texts.gone, intent=_intent(ctx))


async def edit_button(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    run_id = _run_id(ctx)
    if run_id is None or await store.own_run(ctx.session, ctx.user.id, run_id) is None:
        ctx.say(texts.gone, intent=_intent(ctx))
        return
    ctx.start_dialog(DIALOG, RunDraft(edit=run_id))
    ctx.say(texts.fix_prompt, intent=_intent(ctx))


async def runs_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    rows = await store.recent_runs(ctx.session, ctx.user.id)
    if not rows:
        ctx.say(texts.runs_empty, intent=_intent(ctx))
        return
    zone = store.zone_of(ctx.user)
    today = ctx.now.astimezone(zone).date()
    unit = await store.units(ctx.session, ctx.user.id)
    lines, buttons = [], []
    for number, row in enumerate(rows, start=1):
        summary = views.summary(
            distance_m=row.distance_m,
            duration_s=row.duration_s,
            effort=row.effort,
            started=row.started_at,
            zone=zone,
            today=today,
            unit=unit,
            elevation_gain_m=row.elevation_gain_m,
        )
        lines.append(f"{number}. {summary}")
        buttons.append(
            [
                ctx.action(f"{texts.edit_button} {number}", EDIT_ACTION, str(row.id)),
                ctx.action(f"{texts.delete_button} {number}", DELETE_ACTION, str(row.id)),
            ]
        )
    ctx.say("\n".join(lines), title=texts.runs_title, buttons=buttons, intent=_intent(ctx))


async def units_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    unit = ctx.event.args.strip().casefold()
    if unit not in ("km", "mi"):
        ctx.say(texts.units_help, intent=_intent(ctx))
        return
    (await store.prefs(ctx.session, ctx.user.id)).units = unit
    ctx.say(fill(texts.units_set, unit=unit), intent=_intent(ctx))
