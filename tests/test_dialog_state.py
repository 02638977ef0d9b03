"""Dialog state lives in the database, one row per platform + chat + person + thread."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.engine.engine import FOREIGN_BUTTON, TRY_AGAIN
from bot.engine.events import Actor, Inbound, Place
from bot.storage.db import make_sessionmaker
from bot.storage.models import Chat, User
from tests.echo_dialog import Rendezvous, dialog_rows, echo_bot, echo_engine, said
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock


@pytest.fixture
def echo(db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> ChatHarness:
    return echo_bot(db, content, clock)


async def test_row_is_keyed_by_person_chat_and_thread(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person("ann", group="club")
    ann.thread = "t7"
    await ann.say("/echo")
    await ann.press("Red")
    [row] = await dialog_rows(db)
    async with make_sessionmaker(db)() as session:
        user = await session.scalar(select(User).where(User.platform_user_id == "ann"))
        chat = await session.scalar(select(Chat).where(Chat.platform_chat_id == "group:club"))
    assert user is not None and chat is not None
    assert (row["user_id"], row["chat_id"], row["thread_id"]) == (user.id, chat.id, "t7")
    assert row["kind"] == "echo"
    assert row["step"] == 1
    assert json.loads(row["data"]) == {"said": ["red"]}


async def test_nested_changes_to_dialog_data_are_saved(db: AsyncEngine, echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    for word in ("one", "two", "three"):
        await ann.say(word)
    assert await said(db) == [["one", "two", "three"]]


async def test_dialog_survives_a_restart(
    db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    first = echo_bot(db, content, clock).person()
    await first.say("/echo")
    await first.press("Blue")
    button_after_restart = first.button("Red")

    await db.dispose()  # every pooled connection gone, as after a crash
    second = echo_bot(db, content, clock).person()  # a new Engine, router and session maker
    assert second.harness.engine is not first.harness.engine
    # The button the old process sent still answers the current question...
    await second.press_payload(button_after_restart.payload)
    assert "Echo 2: red" in second.text()
    await second.say("hello again")
    assert "Echo 3: hello again" in second.text()
    assert second.dialog == "echo"
    # ...until the dialog has moved on: then it asks the open question again.
    await second.press_payload(button_after_restart.payload)
    assert second.last_turn is not None and second.last_turn.asked_again
    assert second.text().strip() == "Echo 3: hello again"
    assert second.labels() == ["Red", "Blue", "Stop"]
    assert await said(db) == [["blue", "red", "hello again"]]


async def test_two_people_in_one_group_never_share_a_dialog(
    db: AsyncEngine, echo: ChatHarness, content: ContentBundle
) -> None:
    ann = echo.person("ann", group="club")
    bob = echo.person("bob", group="club")
    await ann.say("/echo")
    await bob.say("qwzx blorp")
    assert bob.dialog is None
    assert bob.text().strip() == content.texts.fallback

    await bob.say("/echo")
    await bob.say("bob speaks")
    await ann.press("Red")
    await ann.say("ann speaks")
    assert "Echo 2: ann speaks" in ann.text()
    assert sorted(await said(db)) == [["bob speaks"], ["red", "ann speaks"]]
    await bob.press("Stop")
    assert bob.dialog is None
    assert ann.dialog == "echo"
    assert await said(db) == [["red", "ann speaks"]]


async def test_dm_and_group_dialogs_are_independent(db: AsyncEngine, echo: ChatHarness) -> None:
    dm = echo.person("ann")
    group = echo.person("ann", group="club")
    await dm.say("/echo")
    await group.say("plank")
    assert group.last_turn is not None and group.last_turn.replies[0].title == "Plank"
    assert group.dialog is None

    await group.say("/echo")
    await group.say("in the group")
    await dm.say("in private")
    assert "Echo 1: in private" in dm.text()
    assert sorted(await said(db)) == [["in private"], ["in the group"]]
    # A private chat's button pressed in the group is refused there.
    await group.press_payload(dm.button("Red").payload)
    assert group.text().strip() == FOREIGN_BUTTON


async def test_threads_are_separate(db: AsyncEngine, echo: ChatHarness) -> None:
    first = echo.person("ann", group="forum")
    first.thread = "1"
    second = echo.person("ann", group="forum")
    second.thread = "2"
    await first.say("/echo")
    await second.say("plank")
    assert second.dialog is None
    await second.say("/echo")
    await first.say("thread one")
    await second.say("thread two")
    assert sorted(await said(db)) == [["thread one"], ["thread two"]]


async def test_platforms_are_separate(db: AsyncEngine, echo: ChatHarness) -> None:
    def event(platform: str, text: str, command: str | None = None) -> Inbound:
        return Inbound(
            Actor(platform, "42"), Place("dm:42", is_private=True), text=text, command=command
        )

    engine = echo.engine
    turn = await engine.handle(event("discord", "/echo", "echo"))
    assert turn.dialog == "echo"
    turn = await engine.handle(event("telegram", "hi"))
    assert turn.dialog is None
    turn = await engine.handle(event("discord", "hi"))
    assert turn.dialog == "echo"
    assert await said(db) == [["hi"]]


async def test_row_of_a_removed_dialog_kind_is_dropped(
    db: AsyncEngine, echo: ChatHarness, content: ContentBundle, clock: FakeClock
) -> None:
    await echo.person().say("/echo")
    assert len(await dialog_rows(db)) == 1
    # A release without the "echo" dialog starts on the same database.
    plain = ChatHarness(build_engine(db, content, clock=clock))
    ann = plain.person()
    await ann.say("qwzx blorp")
    assert ann.text().strip() == content.texts.fallback
    assert ann.dialog is None
    assert await dialog_rows(db) == []


async def test_double_press_in_one_process_is_accepted_once(echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    payload = ann.button("Red").payload
    turns = await asyncio.gather(*(echo.engine.handle(_press(payload)) for _ in range(3)))
    # One press is the answer; the others find it answered and get the new question again.
    assert [t.asked_again for t in turns].count(False) == 1
    assert [t.replies[0].text for t in turns] == ["Echo 1: red"] * 3


async def test_double_press_in_two_processes_is_accepted_once(
    db: AsyncEngine,
    echo: ChatHarness,
    content: ContentBundle,
    clock: FakeClock,
) -> None:
    ann = echo.person()
    await ann.say("/echo")
    payload = ann.button("Red").payload
    # Two engines with their own connections, as two bot processes on one database would be;
    # each turn waits (briefly) for the other, so both would read the row before either writes.
    meet = Rendezvous(parties=2, timeout=0.3)
    engines = [echo_engine(db, content, clock, rendezvous=meet) for _ in range(2)]
    turns = await asyncio.gather(*(e.handle(_press(payload)) for e in engines))
    winner, loser = sorted(turns, key=lambda t: t.asked_again or t.failure is not None)
    # The loser waits for the winner's lock (PostgreSQL's row lock, SQLite's BEGIN IMMEDIATE)
    # and then sees the moved-on dialog (asked its new question again), or is told to try
    # again if the wait runs out.
    assert winner.replies[0].text == "Echo 1: red" and not winner.asked_again
    assert loser.asked_again or loser.replies[0].text == TRY_AGAIN
    assert await said(db) == [["red"]]


def _press(payload: str) -> Inbound:
    return Inbound(
        Actor("test", "ann", display_name="Ann"), Place("dm:ann", is_private=True), payload=payload
    )
