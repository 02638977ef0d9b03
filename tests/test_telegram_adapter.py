"""The Telegram adapter end to end: real PTB over real HTTP against FakeTelegramAPI, the real
engine and handlers on a SQLite file. Tests act as Telegram users."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram.adapter import PRIVATE_NOTE, PRIVATE_NOTE_ANONYMOUS
from bot.adapters.telegram.countdown import Countdowns
from bot.content.bundle import ContentBundle
from bot.content.triage_schema import TriageTree
from bot.engine.context import TurnContext
from bot.engine.engine import FOREIGN_BUTTON, UNKNOWN_BUTTON
from bot.engine.events import ReplyIntent
from bot.engine.feature import Feature
from bot.engine.payloads import DIALOG_PREFIX
from bot.engine.router import Router
from bot.storage.models import Chat, TriageReport, User
from tests.echo_dialog import dialog_rows, echo_router, said
from tests.fakes.telegram_api import FakeTelegramAPI, FakeUser, SentRecord, parse_html
from tests.manual_clock import PATIENCE, ManualClock, eventually
from tests.ports import free_port
from tests.telegram_harness import Bot, Runner, make_app, png, running
from tests.triage_driver import MILD, answer_for

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

LONG_PARAGRAPH = "Keep your ribs down and breathe out as you brace. " * 18  # ≈ 900 chars
LONG_TEXT = "\n\n".join(f"{n}. {LONG_PARAGRAPH.strip()}" for n in range(10))


def tg_router(card_picture: Path) -> Router:
    """The shipped router, the echo dialog and a few test-only commands that show what the
    adapter hands the engine and what it does with each kind of reply."""
    router = echo_router()
    extra = Feature("telegram-test")

    @extra.command("whoami", "Test: who the adapter says I am", listed=False)
    async def whoami(ctx: TurnContext) -> None:
        actor, place = ctx.event.actor, ctx.event.place
        ctx.say(f"user={actor.user_id} admin={actor.is_chat_admin} thread={place.thread_id}")

    @extra.command("secret", "Test: a private reply", listed=False)
    async def secret(ctx: TurnContext) -> None:
        ctx.say("Only for you: your plank PB is 2:10", intent=ReplyIntent.PRIVATE)

    @extra.command("long", "Test: a 9,000-character reply", listed=False)
    async def long(ctx: TurnContext) -> None:
        ctx.say(LONG_TEXT)

    @extra.command("markup", "Test: content markup and user text", listed=False)
    async def markup(ctx: TurnContext) -> None:
        ctx.say(f"**Plank <45 s> & rest** — you said: {ctx.event.args}")

    @extra.command("picture", "Test: a card picture", listed=False)
    async def picture(ctx: TurnContext) -> None:
        ctx.say(
            "Hold **45 s**.",
            title="Plank",
            image=card_picture,
            buttons=[[ctx.action("Swap", "swap")]],
        )

    @extra.command("file", "Test: a reply with a file", listed=False)
    async def file(ctx: TurnContext) -> None:
        ctx.say("Your data, as promised.", attachment=card_picture.with_name("export.json"))

    @extra.command("menu", "Test: a message its button replaces", listed=False)
    async def menu(ctx: TurnContext) -> None:
        ctx.say("Pick one", buttons=[[ctx.action("Swap", "swap")]])

    @extra.action("swap")
    async def swap(ctx: TurnContext) -> None:
        ctx.say("Swapped", intent=ReplyIntent.EDIT, buttons=[[ctx.action("Swap", "swap")]])

    @extra.command("plank", "Test: a timed hold", listed=False)
    async def plank(ctx: TurnContext) -> None:
        reply = ctx.say("Plank: hold steady", buttons=[[ctx.action("Swap", "swap")]])
        reply.countdown_seconds = 15  # the countdown test moves its clock by hand

    router.include(extra)
    return router


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def bot(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle, tmp_path: Path
) -> AsyncIterator[Bot]:
    app = make_app(fake, sqlite_db, content, router=tg_router(png(tmp_path)))
    async with running(fake, app) as running_bot:
        yield running_bot


def texts(records: list[SentRecord]) -> list[str]:
    """What the reader sees of each message (captions parsed like Telegram does)."""
    return [r.plain_text or parse_html(r.caption or "")[0] for r in records]


async def unreachable(db: AsyncEngine, user: FakeUser) -> bool:
    async with db.connect() as conn:
        flag = await conn.scalar(
            select(User.unreachable).where(User.platform_user_id == str(user.id))
        )
    assert flag is not None, "the user has no row"
    return bool(flag)


# --------------------------------------------------------------------------- the triage


def _plain(markup: str) -> str:
    return markup.replace("**", "").strip()


async def walk_triage(runner: Runner, tree: TriageTree, answers: dict[str, str]) -> str:
    """Answer the open soreness check by pressing buttons; returns the outcome id."""
    for _ in range(30):
        bot_messages = [
            m
            for m in runner.bot.fake.messages_in(runner.chat_id)
            if m["from"]["id"] == runner.bot.fake.bot.id
        ]
        for message in bot_messages:
            for outcome in tree.outcomes.values():
                if str(message.get("text", "")).startswith(outcome.title):
                    return outcome.id
        text = runner.last_text()
        if text.endswith(_plain(tree.texts.consent_question.rsplit("\n", 1)[-1])):
            await runner.press(tree.texts.consent_yes)
            continue
        question = next(q for q in tree.questions if text.endswith(_plain(q.text)))
        option = question.option(answer_for(question, answers))
        assert option is not None
        await runner.press(option.label)
    raise AssertionError("the check never ended")


async def test_a_runner_does_the_whole_triage_by_pressing_buttons(
    bot: Bot, content: ContentBundle, sqlite_db: AsyncEngine
) -> None:
    tree = content.triage
    alice = bot.fake.add_user("Alice")
    runner = bot.runner(alice)
    await runner.say("/sore")
    outcome = await walk_triage(runner, tree, {**MILD, "severity": "moderate"})

    assert outcome == "active"
    history = bot.fake.messages_in(alice)
    # Answered questions keep their text and show the answer instead of stale buttons.
    answered = [m for m in history if "✓ " in str(m.get("text", ""))]
    assert len(answered) >= 5
    assert all("reply_markup" not in m for m in answered)
    assert any(m["text"].endswith("✓ Abs (front of the belly)") for m in answered)
    # Everything went to Alice's private chat, each callback was answered.
    assert {r.chat_id for r in bot.fake.sent} == {alice.id}
    presses = [c for c in bot.fake.calls if c.method == "answerCallbackQuery"]
    assert len(presses) == len(answered)  # the consent question included
    async with sqlite_db.connect() as conn:
        [report] = (await conn.execute(select(TriageReport.outcome, TriageReport.area))).all()
    assert tuple(report) == ("active", "abs")


async def test_a_deep_link_moves_a_group_triage_into_the_private_chat(
    bot: Bot, content: ContentBundle
) -> None:
    tree = content.triage
    alice = bot.fake.add_user("Alice")
    club = bot.fake.add_group("Harriers", members={alice: "member"})
    in_group = bot.runner(alice, club)
    [pointer] = await in_group.say(f"@{bot.fake.bot.username} my abs are sore after the long run")
    assert pointer.plain_text == _plain(tree.texts.group_redirect)
    [[button]] = pointer.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert "callback_data" not in button
    link = urlsplit(button["url"])
    assert (link.netloc, link.path) == ("t.me", f"/{bot.fake.bot.username}")
    [param] = parse_qs(link.query)["start"]

    # Tapping it opens the private chat, where Telegram sends "/start <param>".
    in_private = bot.runner(alice)
    [consent] = await in_private.say(f"/start {param}")
    assert consent.chat_id == alice.id
    assert tree.texts.consent_yes in str(consent.reply_markup)
    assert await walk_triage(in_private, tree, MILD) == "continue"
    # The group saw the pointer and nothing else: no question, no advice.
    assert texts(bot.fake.sent_to(club)) == [_plain(tree.texts.group_redirect)]


# --------------------------------------------------------------------------- groups


async def test_two_people_in_one_group_keep_their_own_dialogs(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    ann, ben = bot.fake.add_user("Ann"), bot.fake.add_user("Ben")
    club = bot.fake.add_group("Harriers", supergroup=True, members={ann: "member", ben: "member"})
    a, b = bot.runner(ann, club), bot.runner(ben, club)
    # Both start at the same moment: the updates are handled concurrently.
    bot.fake.user_sends(ann, club, "/echo")
    bot.fake.user_sends(ben, club, "/echo")
    await bot.settle()
    menus = [r for r in bot.fake.sent if r.text and r.text.startswith("Echo started")]
    # The two answers may go out in either order: a menu is known by its dialog's nonce.
    ann_menu, ben_menu = [await _menu_of(person, menus, sqlite_db) for person in (ann, ben)]

    def button(menu: SentRecord, label: str) -> str:
        row = menu.reply_markup["inline_keyboard"][0]  # type: ignore[index]
        return str(next(b["callback_data"] for b in row if b["text"] == label))

    # Interleaved presses, two of them at the same moment.
    bot.fake.user_presses(ann, club, ann_menu.message_id, button(ann_menu, "Red"))
    bot.fake.user_presses(ben, club, ben_menu.message_id, button(ben_menu, "Blue"))
    await bot.settle()
    # Each answers the question on their own newest message.
    await b.press_data(*on_message(bot, club.id, "Echo 1: blue", "Red"))
    await a.press_data(*on_message(bot, club.id, "Echo 1: red", "Blue"))
    assert sorted(await said(sqlite_db)) == [["blue", "red"], ["red", "blue"]]
    replies = [r for r in bot.fake.sent_to(club) if r.text and r.text.startswith("Echo ")]
    assert sorted(texts(replies)) == sorted(
        ["Echo started. Say something."] * 2
        + ["Echo 1: red", "Echo 1: blue", "Echo 2: red", "Echo 2: blue"]
    )


async def _menu_of(person: FakeUser, menus: list[SentRecord], db: AsyncEngine) -> SentRecord:
    async with db.connect() as conn:
        user_id = await conn.scalar(select(User.id).where(User.platform_user_id == str(person.id)))
    [nonce] = [row["nonce"] for row in await dialog_rows(db) if row["user_id"] == user_id]
    [menu] = [m for m in menus if f"{DIALOG_PREFIX}{nonce}." in str(m.reply_markup)]
    return menu


def on_message(bot: Bot, chat_id: int, text: str, label: str) -> tuple[int, str]:
    """(message id, callback data) of the button `label` on the bot's message `text`."""
    for message in bot.fake.messages_in(chat_id):
        if message.get("text") == text:
            for row in message["reply_markup"]["inline_keyboard"]:
                for button in row:
                    if button["text"] == label:
                        return message["message_id"], button["callback_data"]
    raise AssertionError(f"no {label!r} on {text!r}")


async def test_forged_and_foreign_buttons_are_refused_and_change_nothing(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    ann, ben = bot.fake.add_user("Ann"), bot.fake.add_user("Ben")
    club = bot.fake.add_group("Harriers", members={ann: "member", ben: "member"})
    await bot.runner(ann, club).say("/echo")
    await bot.runner(ann, club).press("Red")
    before = await dialog_rows(sqlite_db)
    sent_before = len(bot.fake.sent)
    message_id, anns_data = bot.runner(ann, club).find_button("Blue")

    # Ben presses Ann's button; then sends data no button of ours ever carried.
    ben_runner = bot.runner(ben, club)
    await ben_runner.press_data(message_id, anns_data)
    await ben_runner.press_data(message_id, "~AAAAAAAA.1.red", strict=False)
    await ben_runner.press_data(message_id, "card:../../etc/passwd", strict=False)

    assert await dialog_rows(sqlite_db) == before
    assert len(bot.fake.sent) == sent_before  # nothing posted in the group
    refusals = [(a.text, a.show_alert) for a in bot.fake.callback_answers[-3:]]
    assert refusals == [(FOREIGN_BUTTON, True), (FOREIGN_BUTTON, True), (UNKNOWN_BUTTON, True)]
    # Ann's dialog goes on as if nothing happened.
    await bot.runner(ann, club).press("Blue")
    assert await said(sqlite_db) == [["red", "blue"]]


async def test_commands_addressed_to_us_or_to_other_bots(bot: Bot) -> None:
    kim = bot.fake.add_user("Kim")
    club = bot.fake.add_group("Harriers", members={kim: "member"})
    runner = bot.runner(kim, club)
    name = bot.fake.bot.username
    assert texts(await runner.say(f"/whoami@{name}")) == [f"user={kim.id} admin=False thread="]
    assert await runner.say("/whoami@some_other_bot") == []
    assert await runner.say(f"/WHOAMI@{name.upper()}") != []  # case does not matter
    assert texts(await bot.runner(kim).say(f"/whoami@{name}")) == [
        f"user={kim.id} admin=None thread="
    ]


async def test_admins_anonymous_admins_and_members(bot: Bot) -> None:
    kim, lee = bot.fake.add_user("Kim"), bot.fake.add_user("Lee")
    club = bot.fake.add_group("Harriers", members={kim: "administrator", lee: "member"})
    assert texts(await bot.runner(kim, club).say("/whoami")) == [
        f"user={kim.id} admin=True thread="
    ]
    await bot.runner(kim, club).say("/whoami")
    assert texts(await bot.runner(lee, club).say("/whoami")) == [
        f"user={lee.id} admin=False thread="
    ]
    # Asked once per person and minute, not on every command.
    asked = [c.params["user_id"] for c in bot.fake.calls if c.method == "getChatMember"]
    assert asked == [kim.id, lee.id]

    mark = len(bot.fake.sent)
    bot.fake.anonymous_admin_sends(club, "/whoami")
    await bot.settle()
    assert texts(bot.fake.sent[mark:]) == [f"user=anon:{club.id} admin=True thread="]
    # An anonymous admin has no private chat: a private answer becomes a note in the group.
    mark = len(bot.fake.sent)
    bot.fake.anonymous_admin_sends(club, "/secret")
    await bot.settle()
    assert texts(bot.fake.sent[mark:]) == [PRIVATE_NOTE_ANONYMOUS]


async def test_privacy_mode_chatter_replies_and_mentions(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    kim = fake.add_user("Kim")
    club = fake.add_group("Harriers", members={kim: "member"})
    async with running(fake, make_app(fake, sqlite_db, content)) as bot:
        runner = bot.runner(kim, club)
        # Privacy mode off (the bot sees everything): chatter is still not answered.
        assert await runner.say("great run today everyone") == []
        assert await runner.say("plank") == []
        [menu] = await runner.say("/cards")
        # A reply to the bot, or a mention, is meant for it (and gets through privacy mode).
        card = await runner.say("side plank", reply_to_message_id=menu.message_id)
        again = await runner.say(f"Dead bug @{fake.bot.username.upper()}")
        assert texts(card)[0].startswith("Side plank")
        assert texts(again)[0].startswith("Dead bug")
        assert await runner.say(f"@{fake.bot.username}_fan dead bug") == []


async def test_being_added_to_and_removed_from_groups_is_recorded(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    kim = bot.fake.add_user("Kim")
    club = bot.fake.add_group("Harriers", bot_status="left", members={kim: "creator"})

    async def membership() -> list[tuple[str, str, bool]]:
        await bot.settle()
        async with sqlite_db.connect() as conn:
            rows = await conn.execute(
                select(Chat.platform_chat_id, Chat.title, Chat.bot_is_member).where(
                    Chat.platform == "telegram"
                )
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    bot.fake.chat_member_update(club, by=kim, new_status="member")
    assert await membership() == [(str(club.id), "Harriers", True)]
    bot.fake.chat_member_update(club, by=kim, new_status="kicked")
    assert await membership() == [(str(club.id), "Harriers", False)]
    bot.fake.chat_member_update(club, by=kim, new_status="administrator")
    assert await membership() == [(str(club.id), "Harriers", True)]


# --------------------------------------------------------------------------- private replies


async def test_private_replies_go_to_the_private_chat_or_leave_a_note(
    bot: Bot, sqlite_db: AsyncEngine
) -> None:
    ann = bot.fake.add_user("Ann")
    ben = bot.fake.add_user("Ben", started_bot=False)  # never pressed Start
    club = bot.fake.add_group("Harriers", members={ann: "member", ben: "member"})

    assert await bot.runner(ann, club).say("/secret") != []
    assert texts(bot.fake.sent_to(ann)) == ["Only for you: your plank PB is 2:10"]
    assert bot.fake.sent_to(club) == []

    [note] = await bot.runner(ben, club).say("/secret")
    assert (note.chat_id, note.plain_text) == (club.id, PRIVATE_NOTE)
    [[open_chat]] = note.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert open_chat["url"] == f"https://t.me/{bot.fake.bot.username}"
    assert not any("plank PB" in t for t in texts(bot.fake.sent_to(club)))
    assert bot.fake.sent_to(ben) == []
    assert await unreachable(sqlite_db, ben) is True


async def test_a_blocked_user_is_marked_unreachable(bot: Bot, sqlite_db: AsyncEngine) -> None:
    ann = bot.fake.add_user("Ann")
    club = bot.fake.add_group("Harriers", members={ann: "member"})
    await bot.runner(ann).say("/start")
    assert await unreachable(sqlite_db, ann) is False

    bot.fake.block_bot(ann)  # Telegram tells the bot (my_chat_member: kicked)
    await bot.settle()
    assert await unreachable(sqlite_db, ann) is True
    bot.fake.unblock_bot(ann)
    await bot.runner(ann).say("/help")  # writing again makes her reachable
    assert await unreachable(sqlite_db, ann) is False

    bot.fake.block_bot(ann, notify=False)  # no update this time: the 403 tells us
    [note] = await bot.runner(ann, club).say("/secret")
    assert note.plain_text == PRIVATE_NOTE
    assert await unreachable(sqlite_db, ann) is True
    forbidden = [c for c in bot.fake.calls if c.status == 403]
    assert len(forbidden) == 1  # not retried


# --------------------------------------------------------------------------- rendering


async def test_html_is_escaped_in_content_and_user_text(bot: Bot) -> None:
    ann = bot.fake.add_user("Ann")
    [reply] = await bot.runner(ann).say("/markup <b>x</b> & <i>")
    assert reply.text == (
        "<b>Plank &lt;45 s&gt; &amp; rest</b> — you said: &lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;"
    )
    assert reply.plain_text == "Plank <45 s> & rest — you said: <b>x</b> & <i>"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 19}]


async def test_a_9000_character_reply_is_split_at_paragraphs(bot: Bot) -> None:
    ann = bot.fake.add_user("Ann")
    sent = await bot.runner(ann).say("/long")
    assert len(LONG_TEXT) > 9000
    assert len(sent) == 3
    assert all(len(t) <= 4096 for t in texts(sent))
    assert "\n\n".join(texts(sent)) == LONG_TEXT
    assert all(t.startswith(f"{n}. ") for t, n in zip(texts(sent), (0, 4, 8), strict=True))


async def test_pictures_edits_and_their_fallbacks(bot: Bot) -> None:
    ann = bot.fake.add_user("Ann")
    runner = bot.runner(ann)
    [photo] = await runner.say("/picture")
    assert photo.method == "sendPhoto" and photo.file is not None
    assert photo.caption == "<b>Plank</b>\n\nHold <b>45 s</b>."
    # A photo has no text to replace: the EDIT reply comes as a new message.
    [swapped] = await runner.press("Swap")
    assert (swapped.method, swapped.plain_text) == ("sendMessage", "Swapped")
    # A text message is replaced in place; the same content again changes nothing.
    [menu] = await runner.say("/menu")
    [edit] = await runner.press("Swap")
    assert (edit.method, edit.message_id, edit.plain_text) == (
        "editMessageText",
        menu.message_id,
        "Swapped",
    )
    assert await runner.press("Swap") == []
    assert "not modified" in str([c.error for c in bot.fake.calls if c.status == 400])
    # The same picture again goes by file_id: no second upload.
    [again] = await runner.say("/picture")
    assert again.params["photo"] == photo.file.file_id
    assert len([c for c in bot.fake.calls if c.method == "sendPhoto" and c.files]) == 1


async def test_files_are_sent_as_documents_after_the_text(bot: Bot, tmp_path: Path) -> None:
    (tmp_path / "export.json").write_text('{"plank": "2:10"}')
    ann = bot.fake.add_user("Ann")
    text, document = await bot.runner(ann).say("/file")
    assert (text.method, text.plain_text) == ("sendMessage", "Your data, as promised.")
    assert document.method == "sendDocument" and document.file is not None
    assert (document.file.filename, document.file.data) == ("export.json", b'{"plank": "2:10"}')


async def test_countdown_edits_the_message_until_time_is_up(bot: Bot) -> None:
    adapter = bot.telegram.adapter
    assert adapter is not None
    clock = ManualClock()
    adapter.countdowns = Countdowns(bot.telegram.outgoing, clock=clock)
    ann = bot.fake.add_user("Ann")
    [hold] = await bot.runner(ann).say("/plank")
    assert hold.plain_text == "Plank: hold steady\n\n⏱ 0:15 left"
    # One edit every 5 s, each seen before the clock moves on.
    shown = ["0:10 left", "0:05 left", "Time!"]
    for count in range(1, len(shown) + 1):
        await clock.next_tick()
        await bot.fake.wait_for_sent(
            chat_id=ann, method="editMessageText", count=count, timeout=PATIENCE
        )
    await eventually(lambda: adapter.countdowns.running == 0, "the countdown to end")
    edits = bot.fake.sent_to(ann, "editMessageText")
    assert [e.plain_text for e in edits] == [f"Plank: hold steady\n\n⏱ {s}" for s in shown]
    assert all(e.message_id == hold.message_id for e in edits)
    assert all(e.reply_markup == hold.reply_markup for e in edits)  # buttons stay

    # Pressing a button of a counting message stops the countdown before editing it.
    await bot.runner(ann).say("/plank")
    await eventually(lambda: clock.sleeping == 1, "the countdown waiting for its tick")
    await bot.runner(ann).press("Swap")
    assert adapter.countdowns.running == 0
    await eventually(lambda: clock.sleeping == 0, "the stopped countdown to let go")
    clock.advance(60)  # past every tick it had: none comes
    assert bot.runner(ann).last_text() == "Swapped"
    assert len(bot.fake.sent_to(ann, "editMessageText")) == len(shown) + 1  # the Swap only


# --------------------------------------------------------------------------- faults


async def test_429_and_5xx_still_deliver_every_message_exactly_once(bot: Bot) -> None:
    people = [bot.fake.add_user(f"Runner{n}") for n in range(4)]
    # Three faults, fewer than a reply's four tries: whichever replies draw them (the eight
    # run side by side), even one drawing all three is still delivered.
    bot.fake.fail_next("sendMessage", 429, retry_after=0.2)
    bot.fake.fail_next("sendMessage", 500)
    bot.fake.fail_next("sendMessage", 502, raw_body="<html><h1>502 Bad Gateway</h1></html>")
    for person in people:
        bot.fake.user_sends(person, None, "/privacy")
        bot.fake.user_sends(person, None, "/cancel")
    await bot.settle(timeout=10)

    statuses = [c.status for c in bot.fake.calls if c.method == "sendMessage"]
    assert sorted(s for s in statuses if s != 200) == [429, 500, 502]
    for person in people:
        got = texts(bot.fake.sent_to(person))
        assert len(got) == 2, got
        assert got[1] == "There's nothing to cancel. Type /help to see what I can do."


# --------------------------------------------------------------------------- running


async def test_command_menus_for_private_chats_and_groups(bot: Bot) -> None:
    listed = [(c.name, c.help) for c in bot.app.engine.router.listed_commands()]
    for scope in ("all_private_chats", "all_group_chats"):
        commands = bot.fake.commands_for({"type": scope})
        assert commands is not None
        assert [(c["command"], c["description"]) for c in commands] == listed
    assert ("whoami", "Test: who the adapter says I am") not in listed  # hidden ones stay out


async def test_webhook_mode_with_a_secret_token(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    port = free_port()
    app = make_app(
        fake,
        sqlite_db,
        content,
        telegram_mode="webhook",
        telegram_webhook_url=f"http://127.0.0.1:{port}/hook/tg",
        telegram_webhook_secret="a-secret-of-sufficient-length",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    ann = fake.add_user("Ann")
    async with running(fake, app):
        assert fake.webhook_url == f"http://127.0.0.1:{port}/hook/tg"
        assert fake.webhook_secret == "a-secret-of-sufficient-length"
        fake.user_sends(ann, None, "/privacy")
        [reply] = await fake.wait_for_sent(chat_id=ann, timeout=5)
        forged = {"update_id": 1, "message": {**fake.messages_in(ann)[0], "text": "/help"}}
        assert await fake.push_to_webhook(None, "wrong-secret", forged) == 403
        assert await fake.push_to_webhook(None, "", forged) == 403
        await asyncio.sleep(0.2)
    assert texts(fake.sent) == [reply.plain_text]  # the forged /help was never answered
    assert [d.status for d in fake.webhook_deliveries] == [200]


async def test_a_webhook_that_cannot_listen_stops_start_up_cleanly(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = make_app(
            fake,
            sqlite_db,
            content,
            telegram_mode="webhook",
            telegram_webhook_url=f"http://127.0.0.1:{port}/tg",
            telegram_webhook_secret="a-secret-of-sufficient-length",
            telegram_webhook_listen="127.0.0.1",
            telegram_webhook_port=port,
        )
        with pytest.raises(OSError, match="in use"):
            async with running(fake, app):
                pass


async def test_stopping_finishes_the_sends_in_flight(
    fake: FakeTelegramAPI, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    ann, ben = fake.add_user("Ann"), fake.add_user("Ben")
    async with running(fake, make_app(fake, sqlite_db, content)) as bot:
        fake.delay_next("sendMessage", 0.5, times=2)
        fake.user_sends(ann, None, "/privacy")
        fake.user_sends(ben, None, "/privacy")
        await fake.wait_for_calls("sendMessage", count=2)
        assert fake.sent == []  # both replies are on their way, neither has arrived
        bot.stop.set()  # what SIGTERM does
        await asyncio.wait_for(bot.task, 5)
        assert len(fake.sent) == 2
        assert fake.pending_updates == []  # confirmed: a restart will not answer them again
        calls_at_stop = len(fake.calls)
        await asyncio.sleep(0.2)
        assert len(fake.calls) == calls_at_stop  # and it stopped polling
