"""Sessions that time themselves, on the turn's clock (a fake one here, moved by hand): a hold
counts the seconds actually held since its Start, Done before the timer is up keeps it open,
End early counts what was held, rests between rounds carry a timer, and the minutes credited
are the time actually spent, never more than planned nor than the wall clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.engine import Engine
from bot.engine.events import Reply
from bot.storage.models import DialogState
from handlers.sessions.runner import DIALOG
from handlers.sessions.state import Phase, RunState
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person
from tests.sessions_support import SESSION_DONE, logs_of, press_through, session_bot, user_of


async def _state(engine: Engine) -> RunState:
    """The open session's state as stored after the last turn."""
    async with engine.sessions() as session:
        [row] = list(await session.scalars(select(DialogState)))
    assert row.kind == DIALOG
    return RunState.model_validate(row.data)


def _last(person: Person) -> Reply:
    assert person.last_turn is not None and person.last_turn.replies
    return person.last_turn.replies[-1]


async def _to_first_hold(person: Person, clock: FakeClock, content: ContentBundle) -> RunState:
    """/session as a beginner, then Done on every step (a few seconds each) up to the first
    hold move, whose Start is not pressed yet."""
    await person.say("/session")
    if "Beginner" in person.labels():
        await person.press("Beginner")
    await person.press("Start")
    for _ in range(8):
        card = content.find_card(_last(person).title or "")
        if card is not None and card.dose.kind == "hold":
            return await _state(person.harness.engine)
        clock.advance(seconds=5)
        await person.press("Done")
    raise AssertionError("no hold move in the first round")


async def test_done_right_after_start_keeps_the_hold_open_and_says_what_is_left(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    before = await _to_first_hold(ann, clock, content)
    planned = before.move.work_seconds(3)
    await ann.press("Start")
    assert _last(ann).countdown_seconds == planned
    started = clock.now

    await ann.press("Done")  # at once: not accepted
    early = _last(ann)
    assert f"{planned} s to go" in early.text and early.countdown_seconds == planned
    assert ann.labels() == ["Done", "End early", "Stop"]
    state = await _state(quick_bot.engine)
    assert state.phase == Phase.HOLD and state.pos == before.pos and state.done == before.done
    assert state.hold_started_at == started  # the timer still runs from the first Start

    clock.advance(seconds=planned - 10)
    await ann.press("Done")
    assert "10 s to go" in _last(ann).text and _last(ann).countdown_seconds == 10
    clock.advance(seconds=9.5)  # half a second early: the tap travelled while the timer ran
    await ann.press("Done")
    after = await _state(quick_bot.engine)
    assert after.pos == before.pos + 1 and after.done == before.done + 1
    assert after.work_seconds == before.work_seconds + planned


async def test_words_typed_during_a_hold_show_the_time_left_not_a_new_timer(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    before = await _to_first_hold(ann, clock, content)
    planned = before.move.work_seconds(3)
    await ann.press("Start")
    clock.advance(seconds=planned - 8)
    await ann.say("how long?")
    assert "Please use the buttons" in ann.text()
    assert _last(ann).countdown_seconds == 8 and ann.labels() == ["Done", "End early", "Stop"]


async def test_end_early_counts_only_the_seconds_held(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    before = await _to_first_hold(ann, clock, content)
    planned = before.move.work_seconds(3)
    await ann.press("Start")
    clock.advance(seconds=12.7)
    await ann.press("End early")
    assert f"I counted 12 s of the {planned} s hold" in ann.text()
    after = await _state(quick_bot.engine)
    assert after.pos == before.pos + 1 and after.done == before.done + 1
    assert after.work_seconds == before.work_seconds + 12


async def test_a_stopped_hold_starts_its_timer_again(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    before = await _to_first_hold(ann, clock, content)
    planned = before.move.work_seconds(3)
    await ann.press("Start")
    clock.advance(seconds=planned - 2)
    await ann.press("Stop")
    clock.advance(minutes=5)  # the pause is no hold
    await ann.press("Resume")
    await ann.press("Start")
    await ann.press("Done")
    assert f"{planned} s to go" in ann.text()


async def test_a_hold_survives_a_restart_on_its_own_clock(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    first = session_bot(sqlite_db, content, clock, tmp_path)
    ann = first.person()
    before = await _to_first_hold(ann, clock, content)
    planned = before.move.work_seconds(3)
    await ann.press("Start")
    done = ann.button("Done").payload
    clock.advance(seconds=planned)
    # A new process: the hold's start came back from the database.
    again = ChatHarness(build_engine(sqlite_db, content, data_dir=tmp_path, clock=clock)).person()
    await again.press_payload(done)
    after = await _state(again.harness.engine)
    assert after.pos == before.pos + 1 and after.work_seconds == before.work_seconds + planned


async def test_a_rep_move_counts_the_time_since_it_was_shown_up_to_its_plan(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = quick_bot.person()
    await ann.say("/session")
    await ann.press("Beginner")
    await ann.press("Start")
    await ann.press("Done")  # the warm-up: no work credited
    first = await _state(quick_bot.engine)
    assert first.work_seconds == 0 and first.step.kind == "move"
    if first.move.kind != "reps":
        return  # the plan opens with a hold: covered above
    planned = first.move.work_seconds(3)
    assert planned > 7
    clock.advance(seconds=7)
    await ann.press("Done")
    second = await _state(quick_bot.engine)
    assert second.work_seconds == 7
    clock.advance(hours=2)  # left on the screen for a long time: at most its plan
    if second.move.kind == "reps":
        await ann.press("Done")
        third = await _state(quick_bot.engine)
        assert third.work_seconds == 7 + second.move.work_seconds(3)


async def test_the_rest_between_rounds_has_a_timer_of_the_plans_rest(
    quick_bot: ChatHarness, clock: FakeClock, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("/session")
    await ann.press("Beginner")
    await ann.press("Start")
    for _ in range(20):
        if "Next round" in ann.labels():
            break
        timed = _last(ann).countdown_seconds
        clock.advance(seconds=timed or 5)
        await ann.press("Start" if "Start" in ann.labels() else "Done")
    rest = _last(ann)
    plan = (await _state(quick_bot.engine)).plan
    assert plan is not None
    beginner = content.sessions.templates["classic"].levels["beginner"]
    assert plan.rest_between_rounds == beginner.rest_between_rounds
    assert f"Rest {plan.rest_between_rounds} s" in rest.text
    assert rest.countdown_seconds == plan.rest_between_rounds
    assert ann.labels() == ["Next round", "Stop"]


async def test_a_session_clicked_through_in_under_a_minute_is_credited_no_more(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    """The issue's case: every step pressed on at once, holds ended early."""
    ann = quick_bot.person()
    await ann.say("/session")
    await ann.press("Beginner")
    begun = clock.now
    await ann.press("Start")
    for _ in range(60):
        clock.advance(seconds=1)
        labels = ann.labels()
        for label in ("End early", "Next round", "Done", "Start"):
            if label in labels:
                await ann.press(label)
                break
        if SESSION_DONE in ann.text():
            break
    assert SESSION_DONE in ann.text()
    elapsed = (clock.now - begun).total_seconds()
    assert elapsed < 60
    user = await user_of(quick_bot.engine, ann)
    [log] = await logs_of(quick_bot.engine, user)
    assert log.completed and log.work_seconds <= elapsed
    assert "about 1 min of core work" in ann.text()  # not "about 9 min"


async def test_following_every_timer_credits_exactly_the_plans_work(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = quick_bot.person()
    await ann.say("/session")
    await ann.press("Beginner")
    plan = (await _state(quick_bot.engine)).plan
    assert plan is not None
    # Slow on the rep moves (a minute each): their credit stops at the plan.
    await press_through(ann, step_seconds=60)
    user = await user_of(quick_bot.engine, ann)
    [log] = await logs_of(quick_bot.engine, user)
    assert log.work_seconds == plan.work_seconds()
    assert log.work_seconds <= (log.finished_at - log.started_at).total_seconds()


async def test_the_credit_never_passes_the_wall_clock(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    """Even a state claiming more work than the time since Start logs only that time."""
    ann = quick_bot.person()
    await ann.say("/session")
    await ann.press("Beginner")
    await ann.press("Start")
    clock.advance(seconds=40)
    await ann.press("Done")
    engine = quick_bot.engine
    async with engine.sessions() as session, session.begin():
        row = await session.scalar(select(DialogState))
        assert row is not None
        state = RunState.model_validate(row.data)
        state.work_seconds, state.done = 10_000, 3
        row.data = state.model_dump(mode="json")
    await ann.press("Stop")
    await ann.press("Abandon")
    user = await user_of(engine, ann)
    [log] = await logs_of(engine, user)
    assert log.work_seconds == 40
    assert isinstance(log.started_at, datetime)
