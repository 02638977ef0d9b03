"""Replies → Telegram messages, messages → engine events, and deep-link parameters: pure
functions, no server."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from telegram import Message

from bot.adapters.telegram.render import (
    MAX_CAPTION,
    MAX_TEXT,
    parts_of,
    split_markup,
    to_html,
    visible_length,
)
from bot.adapters.telegram.translate import (
    MAX_START_PARAM,
    decode_start_param,
    deep_link,
    encode_start_param,
    inbound_from_message,
)
from bot.engine import payloads
from bot.engine.events import Actor, Button, Inbound, Place, Reply
from tests.fakes.telegram_api import parse_html, utf16_len


def test_everything_is_escaped_and_only_bold_survives() -> None:
    rendered = to_html("**Plank <45 s>** & rest\n<script>alert(1)</script> a**b")
    assert rendered == (
        "<b>Plank &lt;45 s&gt;</b> &amp; rest\n&lt;script&gt;alert(1)&lt;/script&gt; a**b"
    )
    plain, entities = parse_html(rendered)  # what Telegram would show
    assert plain == "Plank <45 s> & rest\n<script>alert(1)</script> a**b"
    assert entities == [{"type": "bold", "offset": 0, "length": 12}]


@given(st.text())
def test_any_text_renders_to_html_telegram_accepts(text: str) -> None:
    plain, _ = parse_html(to_html(text))  # raises, like Telegram, on anything unbalanced
    assert plain == re.sub(r"\*\*(.+?)\*\*", r"\1", text, flags=re.S).strip()


def test_long_text_is_split_at_paragraph_boundaries() -> None:
    paragraphs = [
        f"Paragraph {n}: " + ("core " * 180).strip() for n in range(10)
    ]  # ≈ 915 chars each
    text = "\n\n".join(paragraphs)
    assert len(text) > 9000
    pieces = split_markup(text)
    assert len(pieces) == 3
    assert all(visible_length(p) <= MAX_TEXT for p in pieces)
    # Every piece is whole paragraphs, and nothing is lost or reordered.
    assert "\n\n".join(pieces) == text.strip()
    for piece in pieces:
        assert all(p.strip() in paragraphs for p in piece.split("\n\n"))


def test_a_paragraph_too_long_alone_is_cut_at_lines_then_words() -> None:
    block = "\n".join(["word " * 100] * 20)  # one 10,000-char paragraph of lines
    pieces = split_markup(block)
    assert all(visible_length(p) <= MAX_TEXT for p in pieces)
    assert all(p.endswith("word") for p in pieces)  # cut at line ends, not mid-word
    endless = "x" * 5000  # no boundary at all: a hard cut is the only way
    assert [len(p) for p in split_markup(endless)] == [4096, 904]


def test_limits_count_utf16_units_like_telegram() -> None:
    runner = "🏃" * 3000  # 6000 UTF-16 units
    pieces = split_markup(runner)
    assert [utf16_len(p) for p in pieces] == [4096, 1904]


def test_photo_caption_holds_at_most_1024_and_the_rest_follows(tmp_path: Path) -> None:
    image = tmp_path / "plank.png"
    short = parts_of(
        Reply("Hold **45 s**", title="Plank", image=image), bot_username="b", in_group=False
    )
    assert [(p.kind, p.html) for p in short] == [("photo", "<b>Plank</b>\n\nHold <b>45 s</b>")]

    text = "\n\n".join([("Brace your core and breathe. " * 8).strip()] * 8)  # ≈ 1,860
    reply = Reply(text, title="Plank", image=image, buttons=[[Button("All cards", "cards:")]])
    parts = parts_of(reply, bot_username="b", in_group=False)
    assert [p.kind for p in parts] == ["photo", "text"]
    caption_plain, _ = parse_html(parts[0].html)
    assert utf16_len(caption_plain) <= MAX_CAPTION
    # The keyboard goes on the last message, after everything was said.
    assert parts[0].markup is None and parts[1].markup is not None
    joined = caption_plain + "\n\n" + parse_html(parts[1].html)[0]
    assert joined == f"Plank\n\n{text}".strip()


def test_private_buttons_become_deep_links_in_groups_only() -> None:
    reply = Reply(
        "Let's talk privately",
        buttons=[[Button("Continue privately", "triage:start", opens_private=True)]],
    )
    [group_part] = parts_of(reply, bot_username="corecoach_bot", in_group=True)
    [private_part] = parts_of(reply, bot_username="corecoach_bot", in_group=False)
    assert group_part.markup is not None and private_part.markup is not None
    [[link]] = group_part.markup.inline_keyboard
    assert link.url == "https://t.me/corecoach_bot?start=triage-cstart"
    assert link.callback_data is None
    [[callback]] = private_part.markup.inline_keyboard
    assert callback.callback_data == "triage:start" and callback.url is None


_action = st.builds(
    lambda name, arg: f"{name}:{arg}",
    st.from_regex(r"[a-z][a-z0-9_]{0,23}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_:+\-.]{0,30}", fullmatch=True),
)
_dialog = st.builds(
    payloads.dialog_payload,
    st.from_regex(r"[A-Za-z0-9_-]{8}", fullmatch=True),
    st.integers(0, 999_999),
    st.from_regex(r"[A-Za-z0-9_:+\-]{1,20}", fullmatch=True),
)


@given(st.one_of(_action, _dialog))
def test_deep_link_parameters_round_trip_every_engine_payload(payload: str) -> None:
    param = encode_start_param(payload)
    if param is None:  # only when the escaped form is over Telegram's 64 characters
        assert len(payload) > MAX_START_PARAM // 2
        return
    assert len(param) <= MAX_START_PARAM
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in param)
    assert decode_start_param(param) == payload


def test_foreign_start_parameters_decode_to_nothing() -> None:
    for param in ("-x", "abc-", "a" * 65, "has space", "é", ""):
        assert decode_start_param(param) is None
    assert decode_start_param("plain") == "plain"  # then the engine refuses it
    assert deep_link("bot", None) == "https://t.me/bot"
    assert deep_link("bot", "history:") == "https://t.me/bot?start=history-c"


def _message(chat: dict[str, object], **fields: object) -> Message:
    data = {"message_id": 7, "date": 0, "chat": chat, "from": ANN, **fields}
    message = Message.de_json(data, None)  # type: ignore[arg-type]
    assert message is not None
    return message


ANN = {"id": 42, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "language_code": "de"}
FORUM = {"id": -1001, "type": "supergroup", "title": "Harriers", "is_forum": True}


def test_forum_topics_are_threads_and_plain_replies_are_not() -> None:
    in_topic = _message(FORUM, text="/whoami", message_thread_id=5, is_topic_message=True)
    event = inbound_from_message(in_topic, bot_id=1, bot_username="coach_bot")
    assert event is not None
    assert event.place == Place("-1001", is_private=False, thread_id="5", title="Harriers")
    assert event.actor == Actor("telegram", "42", "Ann Lee", "de", is_chat_admin=None)
    # In an ordinary group, message_thread_id only names the message replied to.
    group = {"id": -77, "type": "group", "title": "Club"}
    reply = _message(group, text="/whoami", message_thread_id=3)
    event = inbound_from_message(reply, bot_id=1, bot_username="coach_bot", is_chat_admin=True)
    assert event is not None and event.place.thread_id == ""
    assert event.actor.is_chat_admin is True


def test_start_with_a_payload_only_counts_in_private_chats() -> None:
    private = {"id": 42, "type": "private", "first_name": "Ann"}
    deep = _message(private, text="/start triage-cstart")
    event = inbound_from_message(deep, bot_id=1, bot_username="coach_bot")
    assert event is not None and (event.payload, event.command) == ("triage:start", None)
    plain = inbound_from_message(_message(private, text="/start"), bot_id=1, bot_username="b")
    assert plain is not None and (plain.command, plain.payload) == ("start", None)
    group = {"id": -77, "type": "group", "title": "Club"}
    in_group = _message(group, text="/start triage-cstart")
    event = inbound_from_message(in_group, bot_id=1, bot_username="coach_bot")
    assert event is not None and (event.command, event.args) == ("start", "triage-cstart")


DOCUMENT = {"file_id": "DOC-1", "file_unique_id": "U1", "file_name": "run.gpx", "file_size": 9}


def test_a_document_is_an_upload_where_it_is_addressed_to_the_bot() -> None:
    private = {"id": 42, "type": "private", "first_name": "Ann"}
    group = {"id": -77, "type": "group", "title": "Club"}
    bot = {"id": 1, "is_bot": True, "first_name": "Coach", "username": "coach_bot"}

    def event(chat: dict[str, object], **fields: object) -> Inbound | None:
        message = _message(chat, document=DOCUMENT, **fields)
        return inbound_from_message(message, bot_id=1, bot_username="coach_bot")

    plain = event(private)
    assert plain is not None and (plain.command, plain.text, plain.args) == ("upload", "", "")
    assert plain.upload is not None and (plain.upload.name, plain.upload.size) == ("run.gpx", 9)
    # The caption is the command's args, so the red-flag screen reads it.
    said = event(private, caption="/upload@coach_bot knee hurts")
    assert said is not None and (said.command, said.args) == ("upload", "knee hurts")
    assert event(group) is None  # a file shared with the club
    assert event(group, caption="/upload@otherbot") is None
    mention = event(group, caption="long run @coach_bot")
    assert mention is not None and (mention.command, mention.args) == ("upload", "long run")
    answer = {"message_id": 3, "date": 0, "chat": group, "from": bot, "text": "Saved"}
    reply = event(group, reply_to_message=answer)
    assert reply is not None and reply.upload is not None
