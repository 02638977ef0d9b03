"""Running the real Telegram adapter (PTB + engine + database) against FakeTelegramAPI.

`running(fake, engine)` starts `run_telegram` for real (getMe, setMyCommands, long polling)
and stops it through its stop event afterwards. `Runner` acts as one person in one chat:
`say()` and `press()` return every message the bot sent or edited in answer, once the bot
has handled everything (the update confirmed by offset and processed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram.outgoing import RetryPolicy
from bot.adapters.telegram.run import TelegramBot, run_telegram
from bot.app import App
from bot.config import Settings
from bot.content.bundle import ContentBundle
from bot.engine.router import Router
from bot.storage.db import make_sessionmaker
from tests.factory import build_engine
from tests.fakes.telegram_api import FakeChat, FakeTelegramAPI, FakeUser, SentRecord

Json = dict[str, Any]
FAST_RETRIES = RetryPolicy(attempts=4, backoff=0.01)


def settings_for(fake: FakeTelegramAPI, **changes: Any) -> Settings:
    return replace(Settings(), telegram_token=fake.token, telegram_api_base_url=fake.url, **changes)


def make_app(
    fake: FakeTelegramAPI,
    db: AsyncEngine,
    content: ContentBundle,
    *,
    router: Router | None = None,
    **settings: Any,
) -> App:
    sessions = make_sessionmaker(db)
    engine = build_engine(sessions, content, router=router)
    return App(settings_for(fake, **settings), db, sessions, content, engine)


@contextlib.asynccontextmanager
async def running(fake: FakeTelegramAPI, app: App) -> AsyncIterator[Bot]:
    telegram = TelegramBot(app, retry=FAST_RETRIES)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_telegram(app, stop, telegram, poll_timeout=1, ready=ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # start-up failed: raise its error here
    assert ready.is_set(), "the Telegram adapter did not start"
    bot = Bot(fake, app, telegram, stop, task)
    try:
        yield bot
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@dataclass
class Bot:
    fake: FakeTelegramAPI
    app: App
    telegram: TelegramBot
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every queued update was fetched and fully handled."""
        await self.fake.wait_for_updates_consumed(timeout=timeout)
        assert self.telegram.intake is not None
        await asyncio.wait_for(self.telegram.intake.drain(), timeout)

    def runner(self, user: FakeUser, chat: FakeChat | None = None) -> Runner:
        return Runner(self, user, chat)


@dataclass
class Runner:
    bot: Bot
    user: FakeUser
    chat: FakeChat | None = None  # None: the person's private chat

    @property
    def chat_id(self) -> int:
        return self.chat.id if self.chat is not None else self.user.id

    async def say(self, text: str, **kwargs: Any) -> list[SentRecord]:
        mark = len(self.bot.fake.sent)
        self.bot.fake.user_sends(self.user, self.chat, text, **kwargs)
        await self.bot.settle()
        return self.bot.fake.sent[mark:]

    async def send_file(
        self, data: bytes, file_name: str, *, caption: str | None = None
    ) -> list[SentRecord]:
        """Send a file as a document (what Telegram does with "Send as file")."""
        mark = len(self.bot.fake.sent)
        self.bot.fake.user_sends_document(
            self.user, self.chat, data, file_name=file_name, caption=caption
        )
        await self.bot.settle()
        return self.bot.fake.sent[mark:]

    def find_button(self, label: str, *, chat: int | None = None) -> tuple[int, str]:
        """(message id, callback data) of the newest message offering this button."""
        for message in reversed(self.bot.fake.messages_in(chat or self.chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"].casefold() == label.casefold() and "callback_data" in button:
                        return message["message_id"], button["callback_data"]
        raise AssertionError(f"no button {label!r} in chat {chat or self.chat_id}")

    async def press(self, label: str, *, chat: int | None = None) -> list[SentRecord]:
        message_id, data = self.find_button(label, chat=chat)
        return await self.press_data(message_id, data, chat=chat)

    async def press_data(
        self, message_id: int, data: str, *, chat: int | None = None, strict: bool = True
    ) -> list[SentRecord]:
        mark = len(self.bot.fake.sent)
        where = chat or self.chat_id
        self.bot.fake.user_presses(self.user, where, message_id, data, strict=strict)
        await self.bot.settle()
        return self.bot.fake.sent[mark:]

    def last_text(self, chat: int | None = None) -> str:
        messages = self.bot.fake.messages_in(chat or self.chat_id)
        mine = [m for m in messages if m["from"]["id"] == self.bot.fake.bot.id]
        return str(mine[-1].get("text") or mine[-1].get("caption") or "")


def png(tmp_path: Path, name: str = "plank.png") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    return path
