"""A guided session in the chat: the level question, every step to the end and the log, the
buttons (Easier, Harder, timers), Stop / Resume / Abandon, resuming after a restart, groups,
and pain mentioned mid-session."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.events import Reply, ReplyIntent
from handlers.sessions.runner import DIALOG
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person
from tests.sessions_support import SESSION_DONE, logs_of, press_through, session_bot, user_of


def _move_cards(person: Person, content: ContentBundle) -> list[str]:
    """The card names listed in the overview, in order."""
    text = person.text()
    found = [
        (text.index(f"{c.name}:"), c.name) for c in content.cards.values() if f"{c.name}:" in text
    ]
    return [name for _, name in sorted(found)]


async def _ready(person: Person, level: str = "Beginner") -> None:
    await person.say("/session")
    if level in person.labels():
        await person.press(level)
    assert person.dialog == DIALOG and "Start" in person.labels()


async def test_a_whole_session_from_level_to_log(bot: ChatHarness, content: ContentBundle) -> None:
    ann = bot.person()  # on each database
    await ann.say("/session")
    assert ann.labels() == ["Beginner", "Intermediate", "Advanced"]
    await ann.press("Beginner")
    user = await user_of(bot.engine, ann)
    assert user.level == "beginner"  # asked once, stored
    names = _move_cards(ann, content)
    assert len(names) == 5
    assert ann.labels() == ["Start", "Not now"]  # no step-up offer for a newcomer

    await ann.press("Start")
    assert ann.last_turn is not None
    warmup = ann.last_turn.replies[0]
    assert warmup.title == "Warm-up" and warmup.countdown_seconds
    await ann.press("Done")
    first = ann.last_turn.replies[0]
    assert first.title == names[0]
    card = content.find_card(names[0])
    assert card is not None and first.image == content.card_images[card.id]

    await press_through(ann)
    assert SESSION_DONE in ann.text()
    assert "15 moves" in ann.text()
    assert ann.dialog is None
    [log] = await logs_of(bot.engine, user)
    assert log.completed and log.moves_done == 15 and log.moves_skipped == 0
    assert log.level == "beginner" and log.template == "classic" and log.dose_pct == 100
    assert log.work_seconds > 0 and log.finished_at >= log.started_at
    # The level is not asked again.
    await ann.say("/session")
    assert "Start" in ann.labels() and "Beginner" not in ann.labels()


async def test_hold_moves_run_a_timer_and_easier_harder_swap_the_text(
    quick_bot: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    ann = quick_bot.person()
    await _ready(ann, "Intermediate")
    await ann.press("Start")
    await ann.press("Skip")  # the warm-up
    # Go to the first hold move, skipping rep moves on the way.
    for _ in range(5):
        assert ann.last_turn is not None
        title = ann.last_turn.replies[-1].title or ""
        card = content.find_card(title)
        if card is not None and card.dose.kind == "hold":
            break
        await ann.press("Skip")
    assert card is not None and card.dose.kind == "hold"
    assert ann.labels() == ["Start", "Skip", "Easier", "Harder", "Stop"]

    await ann.press("Easier")
    assert card.easier.how in ann.text() and card.easier.name in ann.text()
    assert "Easier" not in ann.labels()
    await ann.press("Harder")  # from easier back to the card's own version
    assert card.summary in ann.text() and card.easier.how not in ann.text()
    await ann.press("Harder")
    assert card.harder.how in ann.text() and "Harder" not in ann.labels()

    await ann.press("Start")
    assert ann.last_turn is not None
    [timer] = ann.last_turn.replies
    assert timer.countdown_seconds is not None
    seconds = timer.countdown_seconds // (2 if card.dose.per_side else 1)
    assert f"{seconds} s" in timer.text
    assert ann.labels() == ["Done", "End early", "Stop"]
    clock.advance(seconds=timer.countdown_seconds)
    await ann.press("Done")
    assert "Rest about" in ann.text()


async def test_stop_resume_and_abandon(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.press("Start")
    await ann.press("Done")  # warm-up
    step_title = ann.last_turn.replies[-1].title if ann.last_turn else None
    await ann.press("Stop")
    assert ann.labels() == ["Resume", "Abandon"]
    await ann.press("Resume")
    assert ann.last_turn is not None and ann.last_turn.replies[-1].title == step_title

    # Do two moves, then abandon: the work is logged, but not as a completed session.
    for _ in range(2):
        if "Start" in ann.labels():
            await ann.press("Start")
        await ann.press("Done")
    await ann.press("Stop")
    await ann.press("Abandon")
    assert ann.dialog is None
    assert "2 moves" in ann.text()
    user = await user_of(quick_bot.engine, ann)
    [log] = await logs_of(quick_bot.engine, user)
    assert not log.completed and log.moves_done == 2

    # Abandoning before any move logs nothing.
    await _ready(ann)
    await ann.press("Start")
    await ann.press("Stop")
    await ann.press("Abandon")
    assert len(await logs_of(quick_bot.engine, user)) == 1


async def test_session_while_one_is_open_offers_resume_or_start_over(
    quick_bot: ChatHarness,
) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    overview = ann.text()
    await ann.press("Start")
    await ann.press("Done")
    if "Start" in ann.labels():
        await ann.press("Start")
    await ann.press("Done")  # one move done
    await ann.say("/cards")  # something else in between
    await ann.say("/session")
    assert ann.labels() == ["Resume", "Start over"]
    assert "1 of 15" in ann.text()
    await ann.press("Start over")
    # Same person, same day: the same session from the top; the move done is kept in the log.
    assert ann.text() == overview
    user = await user_of(quick_bot.engine, ann)
    assert [log.moves_done for log in await logs_of(quick_bot.engine, user)] == [1]


async def test_a_session_survives_a_restart(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    first = session_bot(sqlite_db, content, clock, tmp_path)
    ann = first.person()
    await _ready(ann)
    await ann.press("Start")
    await ann.press("Done")
    before = ann.last_turn.replies[-1] if ann.last_turn else None
    assert before is not None
    pending = ann.button("Skip").payload

    # A new process: new engine and router on the same database.
    second = ChatHarness(build_engine(sqlite_db, content, data_dir=tmp_path, clock=clock))
    again = second.person("ann")
    await again.press_payload(pending)  # the button shown before the restart still works
    assert again.last_turn is not None
    assert "move 2 of 5" in again.text()
    await again.say("/session")
    assert again.labels() == ["Resume", "Start over"]
    await again.press("Resume")
    await press_through(again)
    user = await user_of(second.engine, again)
    [log] = await logs_of(second.engine, user)
    assert log.completed and log.moves_done == 14 and log.moves_skipped == 1


async def test_old_buttons_are_refused_and_double_presses_count_once(
    quick_bot: ChatHarness,
) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.press("Start")
    done = ann.button("Done").payload
    await ann.press_payload(done)
    shown = ann.text()
    await ann.press_payload(done)
    # The second press is not counted: the open step is shown again.
    assert ann.last_turn is not None and ann.last_turn.asked_again
    assert ann.text() == shown


async def test_typed_words_work_like_buttons(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.say("start")
    assert ann.last_turn is not None and ann.last_turn.replies[-1].title == "Warm-up"
    await ann.say("next")  # a synonym of Done
    assert "Round 1 of 3" in ann.text()
    await ann.say("what now?")
    assert "Please use the buttons" in ann.text() and "Round 1 of 3" in ann.text()


async def test_pain_mentioned_mid_session_ends_it_and_starts_the_soreness_check(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.press("Start")
    await ann.press("Done")
    if "Start" in ann.labels():
        await ann.press("Start")
    await ann.press("Done")
    await ann.say("my abs really hurt")
    assert content.sessions.texts.pain_stop.split("\n")[0] in ann.text()
    assert ann.dialog == "triage"
    user = await user_of(quick_bot.engine, ann)
    [log] = await logs_of(quick_bot.engine, user)
    assert not log.completed and log.moves_done == 1


async def test_not_now_closes_the_session_without_a_log(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.press("Not now")
    assert ann.dialog is None and "/session" in ann.text()
    user = await user_of(quick_bot.engine, ann)
    assert await logs_of(quick_bot.engine, user) == []


async def test_in_a_group_the_session_goes_private(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person("ann", group="runners")
    await ann.say("/session")
    assert ann.dialog is None
    button = ann.button("Start privately")
    assert button.opens_private and button.payload == "session:start"
    # Where the platform answers a group press privately (Discord), the session runs there,
    # every reply to Ann only.
    await ann.press("Start privately")
    await ann.press("Beginner")
    assert ann.last_turn is not None
    assert all(r.intent is ReplyIntent.PRIVATE for r in ann.last_turn.replies)


async def test_level_command_changes_the_level(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("/level")
    assert ann.labels() == ["Beginner", "Intermediate", "Advanced"]
    await ann.press("Advanced")
    assert "advanced" in ann.text()
    user = await user_of(quick_bot.engine, ann)
    assert user.level == "advanced"
    await ann.say("/level")
    assert "Advanced" not in ann.labels() and "advanced" in ann.text()
    await ann.press_payload("level:expert")  # a forged button changes nothing
    assert (await user_of(quick_bot.engine, ann)).level == "advanced"


async def test_reminder_button_starts_a_session(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.press_payload("session:start")
    assert ann.dialog == DIALOG and ann.labels() == ["Beginner", "Intermediate", "Advanced"]


async def test_a_short_session_by_name(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = quick_bot.person()
    await ann.say("/level")
    await ann.press("Beginner")
    await ann.say("/session short")
    assert len(_move_cards(ann, content)) == 4 and "2 rounds" in ann.text()
    await ann.say("/session marathon")
    assert "short" in ann.text() and "classic" in ann.text()


async def test_a_session_from_yesterday_can_still_be_resumed(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.press("Start")
    await ann.press("Done")
    title = ann.last_turn.replies[-1].title if ann.last_turn else None
    clock.advance(hours=26)
    await ann.say("/session")
    await ann.press("Resume")
    assert ann.last_turn is not None and ann.last_turn.replies[-1].title == title


async def test_finishing_twice_in_a_week_meets_the_goal(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await press_through(ann)
    assert "1 of 2–3" in ann.text()
    clock.advance(days=1)
    await ann.say("/session")
    await press_through(ann)
    assert "2 of 2–3" in ann.text() and "meets this week's goal" in ann.text()
    assert "See progress" in ann.labels()


async def test_the_countdown_survives_the_outbox_round_trip(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await _ready(ann)
    await ann.press("Start")
    assert ann.last_turn is not None
    [warmup] = ann.last_turn.replies
    assert warmup.countdown_seconds
    assert Reply.from_dict(warmup.to_dict()) == warmup
    assert Reply.from_dict({"text": "old row"}).countdown_seconds is None


async def test_pain_mentioned_before_starting_goes_straight_to_the_check(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("/session")
    await ann.say("my lower back hurts")
    assert ann.dialog == "triage"
    assert content.sessions.texts.pain_stop.split("\n")[0] not in ann.text()
