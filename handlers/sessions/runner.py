"""Running a guided core session: a persisted dialog ("session") that moves step by step on
the buttons Start, Done, Skip, Easier, Harder and Stop, survives restarts, and can be resumed
or abandoned. Selection lives in session_builder, safety in session_gate, looks in
session_views; this module only moves through the phases and writes the log."""

from __future__ import annotations

import math
from datetime import datetime

from bot.content.plural import fill
from bot.content.schema import LEVELS, Level
from bot.content.session_schema import SessionTemplate
from bot.content.text import normalise
from bot.engine.context import DialogInput, TurnContext
from handlers.sessions import gate as session_gate
from handlers.sessions import logs as session_logs
from handlers.sessions import safety_screen as session_screen
from handlers.sessions import views as session_views
from handlers.sessions.builder import build_plan
from handlers.sessions.gate import Refusal
from handlers.sessions.progression import GOAL_MIN, dose_advice
from handlers.sessions.state import Phase, RunState, Variant
from handlers.sessions.views import (
    ABANDON,
    DONE,
    EARLY,
    LATER,
    OVER,
    RESUME,
    SKIP,
    START,
    STOP,
    SYNONYMS,
    UP,
    local_label,
    minutes,
)

DIALOG = "session"
PROGRESS_ACTION = "progress"
# A hold's Done this close to the end of its timer counts as the whole hold (the tap and the
# message travel while the person's countdown runs).
HOLD_GRACE_SECONDS = 1


async def begin(ctx: TurnContext, template: SessionTemplate, *, screened: bool = False) -> None:
    """Today's session from the top: the safety question for those whose soreness checks are
    not kept (unless `screened`: just answered), the level if we never asked, the overview."""
    if not screened and await session_gate.needs_screen(ctx.session, ctx.user.id):
        session_screen.ask(ctx, template)
        return
    level = as_level(ctx.user.level)
    if level is None:
        state = RunState(phase=Phase.LEVEL, template=template.id)
        ctx.start_dialog(DIALOG, state)
        session_views.ask_level(ctx, state)
        return
    await _build(ctx, template, level)


async def offer_open(ctx: TurnContext, state: RunState) -> None:
    """/session while one is open: pick up where it was, or start over."""
    if state.phase in (Phase.PAUSED, Phase.OPEN):
        state.phase = state.resume_to or Phase.STEP
    # A running timer is not resumed mid-way: back to the move, whose Start runs it again.
    state.resume_to = Phase.STEP if state.phase == Phase.HOLD else state.phase
    state.phase, state.hold_started_at = Phase.OPEN, None
    _show(ctx, state, ctx.content.sessions.templates[state.template])


def open_state(ctx: TurnContext) -> RunState | None:
    """The session this person has open in this chat, if any (and still fitting the content)."""
    state = ctx.find_state(RunState)
    return state if state is not None and state.fits(ctx.content) else None


async def on_input(ctx: TurnContext, answer: DialogInput) -> None:
    texts = ctx.content.sessions.texts
    state = ctx.state(RunState)
    if not state.fits(ctx.content):
        ctx.say(texts.content_changed)
        await begin(ctx, ctx.content.sessions.default)
        return
    template = ctx.content.sessions.templates[state.template]
    choice = answer.choice
    if choice is None:
        choice = _typed_choice(state, ctx, answer.text or "")
        if choice is None:
            if await _pain_mentioned(ctx, state, answer.text or ""):
                return
            ctx.say(texts.unknown_input)
            _show(ctx, state, template)
            return
    if not _offered(state, ctx, choice):
        ctx.say(texts.unknown_input)
        _show(ctx, state, template)
        return
    await _apply(ctx, state, template, choice)


async def _apply(ctx: TurnContext, state: RunState, template: SessionTemplate, choice: str) -> None:
    texts = ctx.content.sessions.texts
    phase = state.phase
    level = as_level(choice)
    if phase == Phase.LEVEL and level is not None:
        ctx.user.level = level
        await _build(ctx, template, level)
    elif choice == STOP:
        state.resume_to = Phase.STEP if phase == Phase.HOLD else phase
        state.phase, state.hold_started_at = Phase.PAUSED, None
        ctx.say(texts.paused, buttons=session_views.rows(ctx, state))
    elif choice == RESUME:
        await _resume(ctx, state, template)
    elif choice == ABANDON:
        await _abandon(ctx, state)
    elif choice == OVER:
        await _log_partial(ctx, state)
        await begin(ctx, template)
    elif phase == Phase.READY:
        await _from_overview(ctx, state, template, choice)
    elif phase == Phase.HOLD:
        await _hold_answer(ctx, state, template, early=choice == EARLY)
    elif choice == DONE:
        await _advance(ctx, state, template, done=True, credit=_rep_credit(ctx, state))
    elif choice == SKIP:
        await _advance(ctx, state, template, done=False)
    elif choice in (Variant.EASIER, Variant.HARDER):
        _change_variant(state, Variant(choice))
        session_views.show_step(ctx, state, template)
    elif choice == START and state.step.kind == "rest":
        await _advance(ctx, state, template, done=False)
    elif choice == START:
        state.phase, state.hold_started_at = Phase.HOLD, ctx.now
        session_views.show_hold(ctx, state)


async def _build(ctx: TurnContext, template: SessionTemplate, level: Level) -> None:
    texts = ctx.content.sessions.texts
    gate = await session_gate.check(ctx.session, ctx.user.id, ctx.content.triage, ctx.now)
    if gate.refusal is not None:
        _end(ctx)
        _say_refusal(ctx, gate.refusal)
        return
    today = session_logs.local_day(ctx.user, ctx.now)
    logged = session_logs.as_logged(
        ctx.user, await session_logs.history(ctx.session, ctx.user, ctx.now)
    )
    advice = dose_advice(logged, today)
    plan = build_plan(
        ctx.content.cards,
        template,
        level,
        user_id=ctx.user.id,
        day=today,
        sore_areas=gate.sore_areas,
        dose_pct=advice.current,
    )
    if plan is None:
        _end(ctx)
        areas = session_views.area_names(sorted(gate.sore_areas))
        ctx.say(fill(texts.too_few_moves, areas=areas))
        return
    state = RunState(
        phase=Phase.READY,
        template=template.id,
        plan=plan,
        offer=advice.suggested,
        at_cap=advice.at_cap,
        sore=sorted(gate.sore_areas),
        unsure=gate.unsure,
    )
    ctx.start_dialog(DIALOG, state)
    session_views.overview(ctx, state, template)


async def _from_overview(
    ctx: TurnContext, state: RunState, template: SessionTemplate, choice: str
) -> None:
    assert state.plan is not None
    if choice == LATER:
        _end(ctx)
        ctx.say(ctx.content.sessions.texts.not_now)
    elif choice == UP and state.offer:
        stepped = build_plan(
            ctx.content.cards,
            template,
            state.plan.level,
            user_id=ctx.user.id,
            day=datetime.fromisoformat(state.plan.day).date(),
            sore_areas=frozenset(state.sore),
            dose_pct=state.offer,
        )
        if stepped is not None:  # the same cards as before: same person, day and soreness
            step = session_views.step_pct(state.plan.dose_pct, state.offer)
            state.plan, state.offer, state.stepped_up = stepped, None, step
        session_views.overview(ctx, state, template)
    elif choice == START:
        state.phase, state.started_at, state.pos = Phase.STEP, ctx.now, 0
        state.step_started_at = ctx.now
        session_views.show_step(ctx, state, template)


def _seconds_since(ctx: TurnContext, moment: datetime | None) -> float:
    """Wall-clock seconds from `moment` to this turn (0 when unknown: nothing is assumed)."""
    return max(0.0, (ctx.now - moment).total_seconds()) if moment is not None else 0.0


def _planned(state: RunState) -> int:
    """The current move's planned work: a hold's seconds (both sides), or its reps' time."""
    assert state.plan is not None
    return state.move.work_seconds(state.plan.seconds_per_rep)


def _rep_credit(ctx: TurnContext, state: RunState) -> int:
    """A move done: the time since it was shown, never more than its plan."""
    if state.step.kind != "move":
        return 0
    return min(_planned(state), int(_seconds_since(ctx, state.step_started_at)))


async def _hold_answer(
    ctx: TurnContext, state: RunState, template: SessionTemplate, *, early: bool
) -> None:
    """Done or End early while a hold's timer runs: the hold counts the seconds actually held
    since its Start; Done before the timer is up keeps the hold open and says what is left."""
    texts = ctx.content.sessions.texts
    planned = _planned(state)
    if state.hold_started_at is None:  # a hold whose start is unknown begins now
        state.hold_started_at = ctx.now
    held = _seconds_since(ctx, state.hold_started_at)
    if held + HOLD_GRACE_SECONDS >= planned:
        # The seconds held, to the whole second: the plan's at most.
        await _advance(ctx, state, template, done=True, credit=min(planned, math.ceil(held)))
    elif early:
        counted = int(held)
        note = fill(texts.hold_ended_early, held=counted, planned=planned)
        await _advance(ctx, state, template, done=True, credit=counted, note=note)
    else:
        left = math.ceil(planned - held)
        reply = ctx.say(
            fill(texts.hold_early, seconds=left),
            title=session_views.title_of(ctx, state),
            buttons=session_views.rows(ctx, state),
        )
        reply.countdown_seconds = left


async def _advance(
    ctx: TurnContext,
    state: RunState,
    template: SessionTemplate,
    *,
    done: bool,
    credit: int = 0,
    note: str | None = None,
) -> None:
    """Finish the current step (done, with `credit` seconds of work, or skipped) and show the
    next, or end the session."""
    assert state.plan is not None
    step = state.step
    if step.kind == "move":
        if done:
            state.done += 1
            state.work_seconds += max(0, min(credit, _planned(state)))
        else:
            state.skipped += 1
    state.pos += 1
    state.phase, state.hold_started_at, state.step_started_at = Phase.STEP, None, ctx.now
    if state.pos >= len(state.steps):
        await _finish(ctx, state)
        return
    leads = [note] if note else []
    if step.kind == "move" and state.step.kind == "move" and state.plan.rest_between_moves:
        leads.append(
            fill(
                ctx.content.sessions.texts.rest_between_moves, seconds=state.plan.rest_between_moves
            )
        )
    session_views.show_step(ctx, state, template, " ".join(leads) or None)


def _change_variant(state: RunState, choice: Variant) -> None:
    """Easier from Harder comes back to the card's own version, and the other way round.
    The choice holds for this move in every later round too."""
    card_id = state.move.card_id
    current = state.variants.get(card_id)
    opposite = Variant.HARDER if choice == Variant.EASIER else Variant.EASIER
    if current == opposite:
        del state.variants[card_id]
    else:
        state.variants[card_id] = choice


async def _resume(ctx: TurnContext, state: RunState, template: SessionTemplate) -> None:
    gate = await session_gate.check(ctx.session, ctx.user.id, ctx.content.triage, ctx.now)
    if gate.refusal is not None:
        await _log_partial(ctx, state)
        _end(ctx)
        _say_refusal(ctx, gate.refusal)
        return
    state.phase, state.resume_to = state.resume_to or Phase.STEP, None
    _show(ctx, state, template)


async def _abandon(ctx: TurnContext, state: RunState) -> None:
    texts = ctx.content.sessions.texts
    saved = await _log_partial(ctx, state)
    _end(ctx)
    text = texts.abandoned
    if saved:
        text += " " + fill(texts.abandoned_saved, done=state.done)
    ctx.say(text, buttons=[[ctx.action("Start a new session", DIALOG, "start")]])


async def _finish(ctx: TurnContext, state: RunState) -> None:
    texts = ctx.content.sessions.texts
    _end(ctx)
    if state.done == 0:
        ctx.say(texts.abandoned)  # every move skipped: nothing worth logging
        return
    await _log(ctx, state, completed=True)
    week = await session_logs.completed_this_week(ctx.session, ctx.user, ctx.now)
    text = fill(
        texts.finished,
        done=state.done,
        minutes=minutes(state.work_seconds),
        week=week,
    )
    if week >= GOAL_MIN:
        text += "\n\n" + texts.goal_met
    ctx.say(text, buttons=[[ctx.action("See progress", PROGRESS_ACTION)]])


async def _log_partial(ctx: TurnContext, state: RunState) -> bool:
    """An abandoned session with moves done still counts as work (not towards streaks)."""
    if state.done == 0 or state.started_at is None:
        return False
    await _log(ctx, state, completed=False)
    return True


async def _log(ctx: TurnContext, state: RunState, *, completed: bool) -> None:
    assert state.plan is not None
    # Each move's credit is bounded by its own time, so the sum never passes the session's
    # wall-clock time; kept here too, so no path can log more than was spent.
    state.work_seconds = min(state.work_seconds, int(_seconds_since(ctx, state.started_at)))
    await session_logs.record(
        ctx.session,
        ctx.user,
        started_at=state.started_at or ctx.now,
        finished_at=ctx.now,
        template=state.template,
        level=state.plan.level,
        moves_done=state.done,
        moves_skipped=state.skipped,
        work_seconds=state.work_seconds,
        dose_pct=state.plan.dose_pct,
        completed=completed,
    )


async def _pain_mentioned(ctx: TurnContext, state: RunState, text: str) -> bool:
    """Soreness typed mid-session: stop at once (saving what was done) and hand over to the
    soreness check, exactly as if it had been said outside a session."""
    soreness = session_gate.typed_soreness(ctx, text)
    if soreness is None:
        return False
    await _log_partial(ctx, state)
    _end(ctx)
    if state.started_at is not None:
        ctx.say(ctx.content.sessions.texts.pain_stop)
    await soreness(ctx)
    return True


def _say_refusal(ctx: TurnContext, refusal: Refusal) -> None:
    texts = ctx.content.sessions.texts
    zone = session_logs.zone_of(ctx.user)
    date = local_label(refusal.checked_at.astimezone(zone))
    if refusal.until is not None:
        until = local_label(refusal.until.astimezone(zone), with_time=True)
        text = fill(texts.refused_rest, date=date, until=until)
    else:
        text = fill(texts.refused_escalation, date=date, title=refusal.title)
    ctx.say(text, buttons=session_views.check_again(ctx))


def _show(ctx: TurnContext, state: RunState, template: SessionTemplate) -> None:
    """Show the current phase again (after Resume, or after input we did not understand)."""
    if state.phase == Phase.LEVEL:
        session_views.ask_level(ctx, state)
    elif state.phase == Phase.READY:
        session_views.overview(ctx, state, template)
    elif state.phase == Phase.HOLD:
        # The timer runs on from the hold's Start: what is left of it, not a fresh one.
        left = math.ceil(_planned(state) - _seconds_since(ctx, state.hold_started_at))
        session_views.show_hold(ctx, state, max(1, left) if state.hold_started_at else None)
    elif state.phase == Phase.PAUSED:
        ctx.say(ctx.content.sessions.texts.paused, buttons=session_views.rows(ctx, state))
    elif state.phase == Phase.OPEN:
        text = fill(
            ctx.content.sessions.texts.open_session, done=state.done, total=state.total_moves
        )
        ctx.say(text, buttons=session_views.rows(ctx, state))
    else:
        session_views.show_step(ctx, state, template)


def _typed_choice(state: RunState, ctx: TurnContext, text: str) -> str | None:
    said = normalise(text)
    for row in session_views.options(state, ctx.content.sessions.texts):
        for label, value in row:
            if said in (normalise(label), value):
                return value
    synonym = SYNONYMS.get(said)
    return synonym if synonym and _offered(state, ctx, synonym) else None


def _offered(state: RunState, ctx: TurnContext, choice: str) -> bool:
    offered = session_views.options(state, ctx.content.sessions.texts)
    return any(value == choice for row in offered for _, value in row)


def as_level(value: str | None) -> Level | None:
    return next((level for level in LEVELS if level == value), None)


def _end(ctx: TurnContext) -> None:
    if ctx.dialog is not None and ctx.dialog.kind == DIALOG:
        ctx.end_dialog()
