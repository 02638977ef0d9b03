"""Typed dialog state: each dialog kind's data is a pydantic model (feature.dialog(kind,
state=...)), validated from the stored JSON when a turn loads the row and dumped back when it
saves. A row this release cannot read (an older release's shape) ends politely; only the
engine moves a dialog's step on."""

from __future__ import annotations

import ast
import json
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.engine import dialog_store
from bot.engine.context import ActiveDialog, DialogInput, TurnContext
from bot.engine.dialog_store import StoredDialog
from bot.engine.feature import Feature
from bot.engine.state_model import StateModel
from bot.storage.db import make_sessionmaker
from bot.storage.models import Chat, DialogState, User
from handlers.clubs.broadcast_draft import BroadcastDraft
from handlers.clubs.broadcast_draft import Stage as BroadcastStage
from handlers.clubs.challenge_draft import ChallengeDraft
from handlers.clubs.challenge_draft import Stage as ChallengeStage
from handlers.privacy.commands import ForgetState
from handlers.reminders.setup_state import SetupState
from handlers.reminders.setup_state import Stage as SetupStage
from handlers.sessions.builder import Move, Plan
from handlers.sessions.safety_screen import ScreenState
from handlers.sessions.state import Phase, RunState, Variant
from handlers.training.log import RunDraft, Understood
from handlers.triage.state import Answered, TriageState
from handlers.triage.state import Phase as TriagePhase
from tests.echo_dialog import dialog_rows
from tests.factory import build_engine, router_with
from tests.harness import ChatHarness, FakeClock, Person

ROOT = Path(__file__).resolve().parents[1]
ROUTER = build_router()
TYPED_KINDS = sorted(kind for kind, d in ROUTER.dialogs.items() if d.state is not None)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

_PLAN = Plan(
    template="classic",
    level="intermediate",
    day="2026-11-23",
    dose_pct=110,
    moves=(Move("plank", "hold", 33, False), Move("dead_bug", "reps", 9, True)),
    warmup=(0, 2),
    rounds=3,
    rest_between_moves=20,
    rest_between_rounds=60,
    seconds_per_rep=3,
)
# One state per typed dialog kind, every field away from its default where it has one.
EXAMPLES: dict[str, StateModel] = {
    "session": RunState(
        phase=Phase.PAUSED,
        template="classic",
        plan=_PLAN,
        pos=4,
        variants={"plank": Variant.HARDER, "dead_bug": Variant.EASIER},
        done=3,
        skipped=1,
        work_seconds=141,
        started_at=datetime(2026, 11, 23, 8, 51, 7, tzinfo=UTC),
        step_started_at=datetime(2026, 11, 23, 8, 58, 30, tzinfo=UTC),
        hold_started_at=datetime(2026, 11, 23, 8, 59, 1, 250000, tzinfo=UTC),
        resume_to=Phase.HOLD,
        offer=121,
        stepped_up=10,
        at_cap=True,
        sore=["abs", "obliques"],
        unsure=True,
    ),
    "session_screen": ScreenState(template="short"),
    "remind": SetupState(stage=SetupStage.TIME, days=0b0010100, minute=18 * 60 + 30, rule=12),
    "forget": ForgetState(),
    "club_challenge": ChallengeDraft(
        stage=ChallengeStage.CONFIRM,
        tz="Europe/Berlin",
        template="plank_ladder",
        title="Plank ladder",
        details="Add 5 s a day, “quotes” and ünïcode kept",
        week_target=4,
        day=date(2026, 11, 24),
        minute=7 * 60 + 30,
        days=14,
        target=8,
        repeat=True,
        replacing=[3, 5],
    ),
    "club_broadcast": BroadcastDraft(
        stage=BroadcastStage.PREVIEW,
        text="Hills on Thursday 🏃\nBring water.",
        card="plank",
        template="side_plank_week",
    ),
    "triage": TriageState(
        phase=TriagePhase.ASK,
        q="severity",
        facts={"area": "abs", "onset": "after_run"},
        stack=[Answered(q="area", facts={}), Answered(q="onset", facts={"area": "abs"})],
        prefilled={"area": "abs"},
    ),
    "training.run": RunDraft(
        run=Understood(
            distance_m=10_000,
            duration_s=52 * 60,
            effort="easy",
            started_at=datetime(2026, 11, 22, 8, 30, tzinfo=UTC),
        ),
        edit=None,
    ),
}


def test_every_typed_dialog_kind_has_an_example_of_its_own_model() -> None:
    assert set(EXAMPLES) == set(TYPED_KINDS)
    for kind, state in EXAMPLES.items():
        assert type(state) is ROUTER.dialogs[kind].state


async def _load(session: AsyncSession, key: dialog_store.DialogKey) -> StoredDialog | None:
    """The row as a turn finds it (the engine reads it inside its own load query)."""
    row = (
        await session.execute(
            select(*dialog_store.COLUMNS).where(
                DialogState.user_id == key.user_id,
                DialogState.chat_id == key.chat_id,
                DialogState.thread_id == key.thread_id,
            )
        )
    ).first()
    return dialog_store.stored(tuple(row)) if row is not None else None


async def _key_of(db: AsyncEngine, person: Person) -> dialog_store.DialogKey:
    async with make_sessionmaker(db)() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == person.user))
        chat = await session.scalar(
            select(Chat).where(Chat.platform_chat_id == person.place.chat_id)
        )
    assert user is not None and chat is not None
    return dialog_store.DialogKey(user.id, chat.id, person.thread)


async def _known_person(db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> Person:
    """A person and their private chat, with rows in the database (and no dialog)."""
    ann = ChatHarness(build_engine(db, content, clock=clock)).person()
    await ann.say("/help")
    return ann


# --- the round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TYPED_KINDS)
async def test_each_state_model_round_trips_through_the_database(
    kind: str, db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    key = await _key_of(db, await _known_person(db, content, clock))
    sessions = make_sessionmaker(db)
    written = ActiveDialog(kind, "AbCd_-12", 3, EXAMPLES[kind])
    async with sessions() as session, session.begin():
        await dialog_store.save(session, key, None, written, NOW)
    [row] = await dialog_rows(db)
    assert json.loads(row["data"]) == EXAMPLES[kind].model_dump(mode="json")

    async with sessions() as session, session.begin():
        found = await _load(session, key)
        assert found is not None
        loaded = found.active(ROUTER.dialogs[kind].state)
        assert loaded == written  # the same kind, nonce, step and state
        assert loaded.data is not written.data  # a fresh model for the handler to change
        # Unchanged, so saving it writes nothing: updated_at stays as it was.
        assert found.same_as(loaded)
        await dialog_store.save(session, key, found, loaded, datetime(2027, 1, 1, tzinfo=UTC))
    assert await dialog_rows(db) == [row]


async def test_a_change_inside_the_model_is_saved(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    key = await _key_of(db, await _known_person(db, content, clock))
    sessions = make_sessionmaker(db)
    state = EXAMPLES["session"].model_copy(deep=True)
    async with sessions() as session, session.begin():
        await dialog_store.save(
            session, key, None, ActiveDialog("session", "n0nce_ab", 1, state), NOW
        )
    async with sessions() as session, session.begin():
        found = await _load(session, key)
        assert found is not None
        loaded = found.active(RunState)
        assert isinstance(loaded.data, RunState)
        loaded.data.variants["plank"] = Variant.EASIER  # in place, nested
        assert not found.same_as(loaded)
        await dialog_store.save(session, key, found, loaded, NOW)
    [row] = await dialog_rows(db)
    assert json.loads(row["data"])["variants"] == {"plank": "easier", "dead_bug": "easier"}


# --- a row this release cannot read ---------------------------------------------------------


async def _store_raw(db: AsyncEngine, person: Person, kind: str, data: dict[str, object]) -> None:
    """A row as an older release might have left it (a plain dict is stored as it is)."""
    key = await _key_of(db, person)
    async with make_sessionmaker(db)() as session, session.begin():
        found = await _load(session, key)
        # Keeping the nonce and step of a row already there keeps its buttons current.
        nonce, step = (found.nonce, found.step) if found else ("0ld_r0w_", 2)
        dialog = ActiveDialog(kind, nonce, step, data)
        await dialog_store.save(session, key, found, dialog, NOW)


@pytest.mark.parametrize("kind", TYPED_KINDS)
async def test_an_unreadable_row_ends_the_dialog_and_says_we_start_again(
    kind: str, db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    ann = await _known_person(db, content, clock)
    await _store_raw(db, ann, kind, {"stage": "from an older release", "said": ["hi"]})

    await ann.say("7:30")  # an answer to the old question, which is lost
    turn = ann.last_turn
    assert turn is not None and turn.failure is None
    assert [r.text for r in turn.replies] == [content.texts.dialog_restarted]
    assert ann.dialog is None
    assert await dialog_rows(db) == []
    # The next message is routed as usual.
    await ann.say("qwzx blorp")
    assert ann.text().strip() == content.texts.fallback


async def test_an_unreadable_rows_button_does_nothing_but_say_so(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    ann = await _known_person(db, content, clock)
    await ann.say("/forget")
    erase = ann.button("Delete everything")
    await _store_raw(db, ann, "forget", {"confirm": "erase"})  # not ForgetState's shape

    await ann.press_payload(erase.payload)
    assert ann.text().strip() == content.texts.dialog_restarted
    async with make_sessionmaker(db)() as session:  # nothing was erased
        assert await session.scalar(select(User).where(User.platform_user_id == "ann"))


async def test_a_command_after_an_unreadable_row_is_answered_too(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    ann = await _known_person(db, content, clock)
    await _store_raw(db, ann, "session", {"phase": "warp", "template": "classic"})

    await ann.say("/forget")
    assert ann.last_turn is not None
    assert ann.last_turn.replies[0].text == content.texts.dialog_restarted
    assert "This deletes everything" in ann.text()
    assert ann.dialog == "forget"
    [row] = await dialog_rows(db)
    assert (row["kind"], json.loads(row["data"])) == ("forget", {})


# --- registration and hand-over -------------------------------------------------------------


class _Quiz(StateModel):
    asked: int = 0


async def _quiz_turn(ctx: TurnContext, answer: DialogInput) -> None:
    ctx.state(_Quiz).asked += 1


def test_one_model_belongs_to_one_dialog_kind() -> None:
    first, second = Feature("first"), Feature("second")
    first.dialog("quiz", state=_Quiz)(_quiz_turn)
    second.dialog("other_quiz", state=_Quiz)(_quiz_turn)
    router = build_router()
    router.include(first)
    with pytest.raises(ValueError, match="dialog state _Quiz registered twice"):
        router.include(second)


async def test_start_dialog_takes_only_the_kinds_own_model(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    quiz = Feature("quiz")
    quiz.dialog("quiz", state=_Quiz)(_quiz_turn)
    seen: list[object] = []

    @quiz.command("quiz", "test: start the quiz dialog with what the argument names")
    async def start(ctx: TurnContext) -> None:
        given = {"model": _Quiz(), "other": ForgetState(), "dict": {"asked": 0}}[ctx.event.args]
        try:
            ctx.start_dialog("quiz", given)  # type: ignore[call-overload]
        except TypeError as exc:
            seen.append(str(exc))
            return
        ctx.say("asked", buttons=[[ctx.choice("Next", "next")]])

    ann = ChatHarness(build_engine(sqlite_db, content, router=router_with(quiz), clock=clock))
    person = ann.person()
    for wrong in ("other", "dict"):
        await person.say(f"/quiz {wrong}")
    assert seen == [
        "dialog 'quiz' keeps a _Quiz, not a ForgetState",
        "dialog 'quiz' keeps a _Quiz, not a dict",
    ]
    await person.say("/quiz model")
    await person.press("Next")
    await person.say("again")
    [row] = await dialog_rows(sqlite_db)
    assert (row["step"], json.loads(row["data"])) == (2, {"asked": 2})


# --- only the engine moves the step ---------------------------------------------------------


def test_a_handler_cannot_move_the_step() -> None:
    dialog = ActiveDialog("session", "AbCd_-12", 0, EXAMPLES["session"])
    with pytest.raises(FrozenInstanceError):
        dialog.step = 1  # type: ignore[misc]


def _step_writes(path: Path) -> list[str]:
    """Assignments to an attribute named `step`, and `step=` given to dataclasses.replace."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "replace"
            and any(k.arg == "step" for k in node.keywords)
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr == "step":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_code_but_the_engine_writes_a_dialog_step() -> None:
    engine_context = ROOT / "bot" / "engine" / "context.py"
    sources = [
        p
        for folder in ("handlers", "scheduler", "bot")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if p != engine_context and "migrations" not in p.parts
    ]
    assert len(sources) > 50
    assert [w for p in sources for w in _step_writes(p)] == []
    assert _step_writes(engine_context) != []  # the check does find the engine's own
