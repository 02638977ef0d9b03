"""The fake Telegram Bot API works with the real python-telegram-bot over real HTTP.

No mocks: every test drives PTB 22 against FakeTelegramAPI on 127.0.0.1. Besides
proving the fake, these tests pin down PTB behaviour the adapter relies on:

* A 429 with ``parameters.retry_after`` becomes ``RetryAfter`` (whatever the status);
  ``AIORateLimiter(max_retries=N)`` sleeps ``retry_after + 0.1`` s and retries, pausing
  *all* requests meanwhile. Without a rate limiter PTB never retries.
* 5xx (JSON or an HTML error page) becomes a plain ``NetworkError`` and is never
  retried, not even by AIORateLimiter. ``BadRequest`` and ``TimedOut`` subclass
  ``NetworkError``, so ``except NetworkError`` also swallows 400s and timeouts.
* ``TimedOut`` does not mean "not sent": the server may still deliver the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import (
    GROUP_ANONYMOUS_BOT_ID,
    FakeTelegramAPI,
    RateLimitConfig,
    parse_html,
)
from tests.ports import free_port

# PTB itself builds RetryAfter through the deprecated int-valued `retry_after` property.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

App = Application[Any, Any, Any, Any, Any, Any]
Ctx = ContextTypes.DEFAULT_TYPE


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


def make_app(fake: FakeTelegramAPI, rate_limiter: AIORateLimiter | None = None) -> App:
    builder = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )
    if rate_limiter is not None:
        return builder.rate_limiter(rate_limiter).build()
    return builder.build()


def make_bot(fake: FakeTelegramAPI, token: str | None = None) -> Bot:
    return Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)


@contextlib.asynccontextmanager
async def polling(app: App) -> AsyncIterator[App]:
    """Run ``app`` with long polling; a short getUpdates timeout keeps shutdown fast."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# --------------------------------------------------------------------------- polling


async def test_echo_bot_over_long_polling(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    app = make_app(fake)

    async def echo(update: Update, context: Ctx) -> None:
        assert update.effective_message and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text)

    async def start(update: Update, context: Ctx) -> None:
        assert update.effective_message
        await update.effective_message.reply_text("Welcome to Core Coach")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with polling(app):
        fake.user_sends(alice, text="Ran 10k today")
        fake.user_sends(alice, text=f"/start@{fake.bot.username}")
        records = await fake.wait_for_sent(chat_id=alice.id, count=2)

    assert [r.text for r in records] == ["Ran 10k today", "Welcome to Core Coach"]
    assert all(r.method == "sendMessage" for r in records)
    assert [r.message_id for r in records] == [3, 4]  # ids are shared with user messages
    # PTB's shutdown getUpdates(offset=...) confirmed everything it fetched.
    assert fake.pending_updates == []
    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]


async def test_get_updates_long_poll_offset_and_allowed_updates(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    async with make_bot(fake) as bot:
        asyncio.get_running_loop().call_later(0.1, fake.user_sends, alice, None, "hi")
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        assert time.monotonic() - started < 1.0  # answered as soon as the update queued
        assert [u.message.text for u in updates if u.message] == ["hi"]

        # Fetching does not consume; only a higher offset confirms.
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [updates[0].update_id]
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
        assert fake.pending_updates == []

        # chat_member updates are opt-in on Telegram; my_chat_member is not.
        group = fake.add_group("Club", members={alice: "member"})
        fake.chat_member_update(group, member=alice, by=alice, new_status="left")
        assert fake.pending_updates == []
        await bot.get_updates(timeout=0, allowed_updates=["chat_member"])
        fake.chat_member_update(group, member=alice, by=alice, new_status="member")
        [update] = await bot.get_updates(timeout=0)
        assert update.chat_member is not None
        assert update.chat_member.new_chat_member.status == "member"

        started = time.monotonic()
        assert (
            await bot.get_updates(offset=update.update_id + 1, timeout=dt.timedelta(seconds=0.2))
            == ()
        )
        assert 0.15 < time.monotonic() - started < 1.0


async def test_concurrent_get_updates_conflict(fake: FakeTelegramAPI) -> None:
    # Two Bot instances: PTB's getUpdates connection pool holds a single connection.
    async with make_bot(fake) as first_bot, make_bot(fake) as second_bot:
        first = asyncio.create_task(first_bot.get_updates(timeout=2))
        await fake.wait_for_calls("getUpdates")
        await second_bot.get_updates(timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first


# --------------------------------------------------------------------------- keyboards


async def test_inline_keyboard_callback_and_edit(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    app = make_app(fake)

    async def plan(update: Update, context: Ctx) -> None:
        assert update.effective_message
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Core 10'", callback_data="core:10"),
                    InlineKeyboardButton("Rest day", callback_data="rest"),
                ]
            ]
        )
        await update.effective_message.reply_text("Pick a session", reply_markup=keyboard)

    async def chosen(update: Update, context: Ctx) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(text=f"Got {query.data}")
        await query.edit_message_text(f"<b>Chosen:</b> {query.data}", parse_mode=ParseMode.HTML)

    app.add_handler(CommandHandler("plan", plan))
    app.add_handler(CallbackQueryHandler(chosen))
    async with polling(app):
        fake.user_sends(alice, text="/plan")
        [menu] = await fake.wait_for_sent(chat_id=alice)
        assert menu.reply_markup is not None
        assert menu.reply_markup["inline_keyboard"][0][0]["callback_data"] == "core:10"
        with pytest.raises(ValueError, match="no button"):
            fake.user_presses(alice, None, menu.message_id, "not-offered")
        query = fake.user_presses(alice, None, menu.message_id, "core:10")
        [edit] = await fake.wait_for_sent(chat_id=alice, method="editMessageText")

    [answer] = fake.callback_answers
    assert (answer.callback_query_id, answer.text) == (query["id"], "Got core:10")
    assert edit.message_id == menu.message_id
    assert edit.text == "<b>Chosen:</b> core:10"
    assert edit.plain_text == "Chosen: core:10"
    assert edit.entities == [{"type": "bold", "offset": 0, "length": 7}]
    # Editing without reply_markup removes the keyboard, as on Telegram.
    assert "reply_markup" not in fake.messages_in(alice)[-1]


# --------------------------------------------------------------------------- faults


async def test_429_retry_after_is_honoured_by_aioratelimiter(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    fake.fail_next("sendMessage", 429, retry_after=1)
    async with make_app(fake, rate_limiter=AIORateLimiter(max_retries=2)) as app:
        started = time.monotonic()
        message = await app.bot.send_message(alice.id, "Plank 3x45s")
        elapsed = time.monotonic() - started

    assert elapsed >= 1.0  # slept retry_after (+0.1 s) before retrying
    statuses = [c.status for c in fake.calls if c.method == "sendMessage"]
    assert statuses == [429, 200]
    assert [r.text for r in fake.sent] == ["Plank 3x45s"]  # delivered exactly once
    assert message.message_id == fake.sent[0].message_id


async def test_429_without_rate_limiter_raises_retry_after(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    fake.fail_next("sendMessage", 429, retry_after=7)
    async with make_bot(fake) as bot:
        with pytest.raises(RetryAfter, match="Retry in 7"):
            await bot.send_message(alice.id, "hi")
    assert fake.sent == []


async def test_5xx_raise_plain_network_error_and_are_not_retried(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    fake.fail_next("sendMessage", 500)
    # nginx answers 502 with an HTML page, not JSON.
    fake.fail_next("sendMessage", 502, raw_body="<html><h1>502 Bad Gateway</h1></html>")
    async with make_app(fake, rate_limiter=AIORateLimiter(max_retries=3)) as app:
        with pytest.raises(NetworkError, match="Internal Server Error") as server_error:
            await app.bot.send_message(alice.id, "hi")
        with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)") as gateway_error:
            await app.bot.send_message(alice.id, "hi")
        assert type(server_error.value) is NetworkError
        assert type(gateway_error.value) is NetworkError
        await app.bot.send_message(alice.id, "third time lucky")

    assert [c.status for c in fake.calls if c.method == "sendMessage"] == [500, 502, 200]
    assert [r.text for r in fake.sent] == ["third time lucky"]


async def test_timed_out_request_may_still_be_delivered(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    fake.delay_next("sendMessage", 0.4)
    async with make_bot(fake) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "slow", read_timeout=0.1)
    [record] = await fake.wait_for_sent(chat_id=alice, timeout=2)
    assert record.text == "slow"


async def test_blocked_user_gives_forbidden_and_my_chat_member(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    statuses: list[tuple[str, str]] = []
    app = make_app(fake)

    async def member_changed(update: Update, context: Ctx) -> None:
        change = update.my_chat_member
        assert change is not None
        statuses.append((change.old_chat_member.status, change.new_chat_member.status))

    app.add_handler(ChatMemberHandler(member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    async with polling(app):
        fake.block_bot(alice)
        await fake.wait_until(lambda: bool(statuses))
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(alice.id, "Time for core!")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_chat_action(alice.id, "typing")

    assert statuses == [("member", "kicked")]
    assert fake.sent == []


async def test_rate_limits_enforced_with_injected_clock() -> None:
    now = [0.0]
    limits = RateLimitConfig(enabled=True, private_burst=1, jitter_tolerance=0)
    async with FakeTelegramAPI(rate_limits=limits, clock=lambda: now[0]) as fake:
        alice = fake.add_user("Alice")
        async with make_bot(fake) as bot:
            await bot.send_message(alice.id, "1")
            with pytest.raises(RetryAfter, match="Retry in 1"):
                await bot.send_message(alice.id, "2")
            now[0] += 1.0
            await bot.send_message(alice.id, "2")

            now[0] += 100.0  # drain every bucket
            users = [fake.add_user(f"U{i}") for i in range(31)]
            for user in users[:30]:
                await bot.send_message(user.id, "broadcast")
            with pytest.raises(RetryAfter):
                await bot.send_message(users[30].id, "broadcast")

            now[0] += 100.0
            group = fake.add_group("Club")
            for _ in range(20):
                await bot.send_message(group.id, "group post")
            with pytest.raises(RetryAfter, match="Retry in 3"):
                await bot.send_message(group.id, "one too many")
            await bot.send_chat_action(group.id, "typing")  # not a rate-limited method

    assert fake.rate_violations == 3
    assert [v.scope for v in fake.rate_violation_log] == ["private", "global", "group"]
    assert len(fake.sent) == 2 + 30 + 20


# --------------------------------------------------------------------------- validation


async def test_bad_requests_match_telegram(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    async with make_bot(fake) as bot:
        sent = await bot.send_message(alice.id, "Squats")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Squats", chat_id=alice.id, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=alice.id, message_id=999)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(alice.id, "x" * 4097)
        await bot.send_message(alice.id, "x" * 4096)
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            button = InlineKeyboardButton("Go", callback_data="x" * 65)
            await bot.send_message(alice.id, "hi", reply_markup=InlineKeyboardMarkup([[button]]))
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities: Can't find end tag"):
            await bot.send_message(alice.id, "<b>Plank", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
            await bot.send_message(alice.id, "a<br>b", parse_mode=ParseMode.HTML)
        # The bot sends HTML only; the fake refuses other parse modes rather than guess.
        with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
            await bot.send_message(alice.id, "Done.", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(424242, "hi")
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendCoachVibes", api_kwargs={"chat_id": alice.id})

    assert (fake.calls[-1].method, fake.calls[-1].status) == ("sendCoachVibes", 404)
    assert [r.message_id for r in fake.sent] == [1, 2]  # failed sends leave no trace


async def test_json_bodies_and_exact_error_envelope(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    url = f"{fake.base_url}{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Done", "callback_data": "done"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"text": "hi"}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat_id is empty",
            }
        payload = {"chat_id": alice.id, "text": "json body", "reply_markup": markup}
        async with session.post(url, json=payload) as resp:
            body = await resp.json()
        fake.fail_next("sendMessage", 429, retry_after=3)
        async with session.post(url, json=payload) as resp:
            assert (resp.status, await resp.json()) == (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3},
                },
            )
    assert body["ok"] is True
    assert body["result"]["reply_markup"] == markup
    assert fake.sent[0].reply_markup == markup


async def test_wrong_token_is_invalid_token(fake: FakeTelegramAPI) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(fake, token="999:not-the-token"):
            pass


def test_formatting_parsers_use_utf16_offsets() -> None:
    text, entities = parse_html("🏃 <b>Run</b> &lt;3 <a href='https://x.io'>go</a>")
    assert text == "🏃 Run <3 go"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 3},  # the emoji is 2 UTF-16 units
        {"type": "text_link", "offset": 10, "length": 2, "url": "https://x.io"},
    ]
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


# --------------------------------------------------------------------------- files, commands


async def test_send_photo_and_document_multipart(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    async with make_bot(fake) as bot:
        message = await bot.send_photo(
            alice.id,
            photo=png,
            filename="plank.png",
            caption="<i>Hold</i> 30s",
            parse_mode=ParseMode.HTML,
        )
        document = await bot.send_document(
            alice.id, document=io.BytesIO(b"day,minutes\nmon,10\n"), filename="week.csv"
        )
        file = await bot.get_file(message.photo[-1].file_id)
        downloaded = await file.download_as_bytearray()

    photo, doc = fake.sent
    assert photo.method == "sendPhoto" and photo.file is not None
    assert (photo.file.filename, photo.file.size) == ("plank.png", len(png))
    assert photo.file.content_type == "image/png"
    assert photo.caption == "<i>Hold</i> 30s"
    assert message.caption == "Hold 30s"
    assert message.caption_entities[0].type == "italic"
    assert bytes(downloaded) == png
    assert doc.method == "sendDocument" and doc.file is not None
    assert (doc.file.filename, doc.file.size) == ("week.csv", 19)
    assert document.document is not None and document.document.file_name == "week.csv"


async def test_set_my_commands_with_scope(fake: FakeTelegramAPI) -> None:
    group = fake.add_group("Club")
    commands = [BotCommand("start", "Start coaching"), BotCommand("plan", "Today's core plan")]
    async with make_bot(fake) as bot:
        assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(
            commands[:1], scope=BotCommandScopeChat(group.id), language_code="de"
        )
        fetched = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Plan!", "nope")])
        await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())

    assert [c.command for c in fetched] == ["start", "plan"]
    assert fake.commands_for({"type": "all_private_chats"}) is None  # deleted again
    assert fake.commands_for({"type": "chat", "chat_id": group.id}, "de") == [
        {"command": "start", "description": "Start coaching"}
    ]
    [first_set] = [c for c in fake.calls if c.method == "setMyCommands"][:1]
    assert first_set.params["scope"] == {"type": "all_private_chats"}


# --------------------------------------------------------------------------- groups


async def test_group_membership_and_anonymous_admin(fake: FakeTelegramAPI) -> None:
    group = fake.add_group("Sunday Long Run", supergroup=True, bot_status="left")
    kim = fake.add_user("Kim")
    fake.set_member_status(group, kim, "creator")
    changes: list[tuple[str, str, int]] = []
    senders: list[tuple[int, int | None]] = []
    app = make_app(fake)

    async def member_changed(update: Update, context: Ctx) -> None:
        change = update.my_chat_member
        assert change is not None
        changes.append(
            (change.old_chat_member.status, change.new_chat_member.status, change.from_user.id)
        )

    async def plan(update: Update, context: Ctx) -> None:
        message = update.effective_message
        assert message is not None and message.from_user is not None
        senders.append(
            (message.from_user.id, message.sender_chat.id if message.sender_chat else None)
        )
        await message.reply_text("Group plan: 3 rounds")

    app.add_handler(ChatMemberHandler(member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler("plan", plan))
    async with polling(app):
        fake.user_sends(kim, group, "/plan")  # bot not in the group: never delivered
        fake.chat_member_update(group, by=kim, new_status="administrator")
        fake.user_sends(kim, group, "/plan@some_other_bot")  # PTB ignores other bots
        fake.anonymous_admin_sends(group, f"/plan@{fake.bot.username}")
        await fake.wait_for_sent(chat_id=group)
        await fake.wait_for_updates_consumed()

        owner = await app.bot.get_chat_member(group.id, kim.id)
        admins = await app.bot.get_chat_administrators(group.id)
        info = await app.bot.get_chat(group.id)

        fake.chat_member_update(group, by=kim, new_status="kicked")
        await fake.wait_until(lambda: len(changes) == 2)
        with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
            await app.bot.send_message(group.id, "still here?")

    assert changes == [("left", "administrator", kim.id), ("administrator", "kicked", kim.id)]
    assert senders == [(GROUP_ANONYMOUS_BOT_ID, group.id)]
    assert [r.text for r in fake.sent_to(group)] == ["Group plan: 3 rounds"]
    assert isinstance(owner, ChatMemberOwner)
    assert {type(a) for a in admins} == {ChatMemberOwner, ChatMemberAdministrator}
    assert (info.title, info.type) == ("Sunday Long Run", "supergroup")


# --------------------------------------------------------------------------- webhook


async def test_webhook_mode_delivers_with_secret_token(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    port = free_port()
    app = make_app(fake)

    async def echo(update: Update, context: Ctx) -> None:
        assert update.effective_message and update.effective_message.text
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="tg",
            webhook_url=f"http://127.0.0.1:{port}/tg",
            secret_token="s3cret-token",
        )
        try:
            assert fake.webhook_url == f"http://127.0.0.1:{port}/tg"
            assert fake.webhook_secret == "s3cret-token"
            fake.user_sends(alice, text="via webhook")
            [reply] = await fake.wait_for_sent(chat_id=alice)
            forged = {"update_id": 1, "message": fake.messages_in(alice)[0]}
            assert await fake.push_to_webhook(None, "wrong-secret", forged) == 403
            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates(timeout=0)
        finally:
            await app.updater.stop()
            await app.stop()

    assert reply.text == "echo: via webhook"
    assert [d.status for d in fake.webhook_deliveries] == [200]
