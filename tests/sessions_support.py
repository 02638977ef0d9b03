"""Helpers for the core-session tests: rows written straight to the database (soreness checks,
check-ins, past sessions) and a runner that presses through a whole session."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.engine import Engine
from bot.storage.models import Chat, CheckIn, SessionLog, TriageReport, User
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person

SESSION_DONE = "Session done!"


def session_bot(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock, data_dir: Path
) -> ChatHarness:
    """A bot whose progress charts go to `data_dir` (a test's tmp_path, not ./data)."""
    return ChatHarness(build_engine(db, content, data_dir=data_dir, clock=clock))


async def user_of(engine: Engine, person: Person) -> User:
    async with engine.sessions() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == person.user))
    assert user is not None, "the person has not said anything yet"
    return user


async def add_report(
    engine: Engine, user: User, at: datetime, outcome: str, area: str | None = "abs"
) -> None:
    async with engine.sessions() as session, session.begin():
        session.add(
            TriageReport(user_id=user.id, created_at=at, outcome=outcome, rule="test", area=area)
        )


async def add_better_checkin(engine: Engine, person: Person, user: User, at: datetime) -> None:
    async with engine.sessions() as session, session.begin():
        chat = await session.scalar(
            select(Chat).where(Chat.platform_chat_id == person.place.chat_id)
        )
        assert chat is not None
        session.add(
            CheckIn(
                user_id=user.id,
                chat_id=chat.id,
                episode_ref=f"e{int(at.timestamp())}",
                due_at=at,
                status="answered",
                answer="better",
                answered_at=at,
            )
        )


async def add_log(
    engine: Engine,
    user: User,
    at: datetime,
    *,
    completed: bool = True,
    work_seconds: int = 600,
    dose_pct: int = 100,
) -> None:
    async with engine.sessions() as session, session.begin():
        session.add(
            SessionLog(
                user_id=user.id,
                started_at=at,
                finished_at=at,
                template="classic",
                level="beginner",
                moves_done=15 if completed else 4,
                moves_skipped=0,
                work_seconds=work_seconds,
                dose_pct=dose_pct,
                completed=completed,
            )
        )


async def logs_of(engine: Engine, user: User) -> list[SessionLog]:
    async with engine.sessions() as session:
        rows = await session.scalars(
            select(SessionLog).where(SessionLog.user_id == user.id).order_by(SessionLog.id)
        )
        return list(rows)


async def press_through(person: Person, limit: int = 60, *, step_seconds: float = 0) -> None:
    """From the overview (or any step), press the forward button of each step to the end, as
    a person following the timers would: every countdown shown (warm-up, hold, rest) is
    waited out on the engine's fake clock, and each untimed step takes `step_seconds`."""
    clock = person.harness.engine.clock
    for _ in range(limit):
        labels = person.labels()
        if isinstance(clock, FakeClock) and person.last_turn is not None:
            timed = person.last_turn.replies[-1].countdown_seconds
            clock.advance(seconds=timed if timed else step_seconds)
        if "Next round" in labels:
            await person.press("Next round")
        elif "Done" in labels:
            await person.press("Done")
        elif "Start" in labels:
            await person.press("Start")
        else:
            break
        if SESSION_DONE in person.text():
            return
    raise AssertionError(f"the session did not finish; last reply: {person.text()[:300]}")
