"""Durable inbound on the real Telegram adapter (PTB against the fake Bot API, SQLite file):
the webhook answers 200 only once the update is stored, a redelivered update is answered
once, every handled update ends `done` with its text gone, and a press of an earlier
question's button asks the open question again with buttons that work."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.storage.db import make_sessionmaker
from bot.storage.models import InboundUpdate
from tests.echo_dialog import echo_router
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.ports import free_port
from tests.telegram_harness import make_app, running

SECRET = "a-secret-of-sufficient-length"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


async def _stored(db: AsyncEngine) -> list[tuple[str, str, object]]:
    async with make_sessionmaker(db)() as session:
        rows = await session.execute(
            select(InboundUpdate.update_key, InboundUpdate.status, InboundUpdate.payload)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_polled_updates_end_done_with_their_text_gone(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    ann = fake.add_user("Ann")
    async with running(fake, make_app(fake, sqlite_db, content)) as bot:
        await bot.runner(ann).say("/privacy")
        await bot.runner(ann).say("my abs are sore")
    rows = await _stored(sqlite_db)
    assert [(status, payload) for _, status, payload in rows] == [("done", None)] * 2


async def test_polling_confirms_an_update_only_once_it_is_stored(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    ann = fake.add_user("Ann")
    async with running(fake, make_app(fake, sqlite_db, content)):
        async with sqlite_db.begin() as conn:  # storing fails, as with the database away
            await conn.execute(text("ALTER TABLE inbound_updates RENAME TO held_away"))
        fake.user_sends(ann, None, "/privacy")
        polls = len(fake.calls)
        await fake.wait_until(
            lambda: sum(c.method == "getUpdates" for c in fake.calls[polls:]) >= 2, timeout=10
        )
        # Fetched twice (a failed store is fetched again), never confirmed, never answered.
        assert len(fake.pending_updates) == 1
        assert fake.sent == []
        async with sqlite_db.begin() as conn:
            await conn.execute(text("ALTER TABLE held_away RENAME TO inbound_updates"))
        await fake.wait_for_sent(chat_id=ann, timeout=10)
        await fake.wait_for_updates_consumed(timeout=10)
    assert len(fake.sent_to(ann)) == 1
    assert [status for _, status, _ in await _stored(sqlite_db)] == ["done"]


async def test_the_webhook_answers_200_only_once_the_update_is_stored(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    port = free_port()
    app = make_app(
        fake,
        sqlite_db,
        content,
        telegram_mode="webhook",
        telegram_webhook_url=f"http://127.0.0.1:{port}/hook/tg",
        telegram_webhook_secret=SECRET,
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    ann = fake.add_user("Ann")
    async with running(fake, app):
        # The table is away (as if the database were): the update cannot be stored, so the
        # webhook does not say 200, and Telegram keeps it to deliver again.
        async with sqlite_db.begin() as conn:
            await conn.execute(text("ALTER TABLE inbound_updates RENAME TO held_away"))
        fake.user_sends(ann, None, "/privacy")
        await fake.wait_until(lambda: len(fake.webhook_deliveries) == 3, timeout=5)
        assert {d.status for d in fake.webhook_deliveries} == {503}
        assert fake.sent == []
        async with sqlite_db.begin() as conn:
            await conn.execute(text("ALTER TABLE held_away RENAME TO inbound_updates"))
        # Telegram's next attempt is stored, answered 200, and handled; a redelivery of the
        # same update after that is answered 200 and not handled again.
        update = {"update_id": 424242, "message": fake.messages_in(ann)[-1]}
        assert await fake.push_to_webhook(None, None, update) == 200
        assert [key for key, _, _ in await _stored(sqlite_db)] == ["424242"]
        await fake.wait_for_sent(chat_id=ann, timeout=5)
        assert await fake.push_to_webhook(None, None, update) == 200
        assert await fake.push_to_webhook(None, "wrong-secret", update) == 403
    assert len(fake.sent_to(ann)) == 1
    assert [status for _, status, _ in await _stored(sqlite_db)] == ["done"]


async def test_an_earlier_questions_button_asks_the_open_question_again(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    ann = fake.add_user("Ann")
    app = make_app(fake, sqlite_db, content, router=echo_router())
    async with running(fake, app) as bot:
        person = bot.runner(ann)
        await person.say("/echo")
        stale_message, stale = person.find_button("Blue")
        await person.press("Red")
        assert person.last_text() == "Echo 1: red"
        # As if "Echo 1: red" and the keyboard's retirement never arrived: the person presses
        # the button they still see.
        got = await person.press_data(stale_message, stale, strict=False)
        assert [r.plain_text for r in got] == ["Echo 1: red"]
        assert not any(a.show_alert for a in fake.callback_answers)  # no refusal pop-up
        # The question sent again takes its answer.
        await person.press("Blue")
        assert person.last_text() == "Echo 2: blue"
