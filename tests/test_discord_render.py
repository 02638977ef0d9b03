"""Replies become messages Discord accepts: split at paragraph boundaries under 2,000
characters, embeds under 4,096 / 6,000, at most 5 × 5 buttons, labels under 80, markdown
escaped except our **bold**, pictures as embed images. The end-to-end tests go through
FakeDiscord, which answers 400 (as Discord does) to anything over a limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord.render import (
    MAX_CONTENT,
    MAX_DESCRIPTION,
    MAX_EMBEDS_TOTAL,
    MORE,
    escape,
    render,
    split_text,
)
from bot.content.bundle import ContentBundle
from bot.engine.context import TurnContext
from bot.engine.events import Button, Reply
from bot.engine.feature import Feature
from tests.discord_harness import (
    LONG_PARAGRAPH,
    act,
    adapter_router,
    buttons,
    clubhouse,
    messages,
    running,
)
from tests.factory import build_engine
from tests.fakes.discord_api import FakeDiscord

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def paragraphs(count: int, size: int = 700) -> str:
    return "\n\n".join(f"Paragraph {n}: " + "x" * size for n in range(count))


def test_long_text_splits_at_paragraphs_within_the_limit() -> None:
    text = paragraphs(7)  # 7 × ~713 characters: two paragraphs fit in one message
    chunks = split_text(text, MAX_CONTENT)
    assert len(chunks) == 4
    assert all(len(c) <= MAX_CONTENT for c in chunks)
    assert "\n\n".join(chunks) == text  # nothing lost, every cut at a paragraph break
    assert all(c.startswith("Paragraph") for c in chunks)


def test_a_paragraph_longer_than_the_limit_splits_at_lines_then_words() -> None:
    lines = "\n".join("line " + "y" * 60 for _ in range(40))  # one paragraph, ~2,600
    chunks = split_text(lines, MAX_CONTENT)
    assert [len(c) <= MAX_CONTENT for c in chunks] == [True, True]
    assert "\n".join(chunks) == lines
    words = " ".join(["stride"] * 600)
    assert " ".join(split_text(words, MAX_CONTENT)) == words


def test_a_word_longer_than_the_limit_is_cut_but_never_after_an_escape() -> None:
    blob = "a" * 1999 + "\\_" + "b" * 50
    chunks = split_text(blob, MAX_CONTENT)
    assert "".join(chunks) == blob
    assert not chunks[0].endswith("\\") and all(len(c) <= MAX_CONTENT for c in chunks)


def test_markdown_is_escaped_except_our_bold() -> None:
    assert escape("**Dose:** 3 × 30 s_hold_ *not bold* `code` > quote") == (
        "**Dose:** 3 × 30 s\\_hold\\_ \\*not bold\\* \\`code\\` > quote"
    )
    assert escape("**a_b**") == "**a\\_b**"
    assert escape("see https://example.org/a_b_c") == "see https://example.org/a_b_c"


def test_long_card_becomes_several_embeds_within_limits() -> None:
    text = paragraphs(14)  # ~10,000 characters
    parts = render(Reply(text, title="Plank"))
    embeds = [e for p in parts for e in p.embeds]
    assert embeds[0].title == "Plank" and all(e.title is None for e in embeds[1:])
    assert all(len(e.description or "") <= MAX_DESCRIPTION for e in embeds)
    assert all(sum(len(e) for e in p.embeds) <= MAX_EMBEDS_TOTAL for p in parts)
    assert "\n\n".join(e.description or "" for e in embeds) == text


def test_buttons_are_repacked_into_discords_grid() -> None:
    many = [
        [Button(f"Card {n}", f"card:c{n}"), Button(f"Card {n}b", f"card:d{n}")] for n in range(7)
    ]
    [part] = render(Reply("Pick one", buttons=many))
    assert [len(row) for row in part.rows] == [5, 5, 4]  # 7 rows of 2 do not fit 5 rows
    flat = [[Button(f"B{n}", f"card:{n}")] for n in range(30)]
    parts = render(Reply("Pick", buttons=flat))
    assert [sum(len(r) for r in p.rows) for p in parts] == [25, 5]
    assert parts[1].content == MORE  # the overflow message carries only buttons


async def test_private_buttons_are_marked_and_labels_trimmed() -> None:
    reply = Reply(
        "Go on privately?",
        buttons=[[Button("x" * 100, "triage:start", opens_private=True), Button("No", "help:")]],
    )
    [part] = render(reply)
    view = part.view()
    assert view is not None and view.is_finished()  # routed by the dynamic item, not kept
    components = view.to_components()[0]["components"]
    assert [c["custom_id"] for c in components] == ["!triage:start", "help:"]
    assert len(components[0]["label"]) == 80 and components[0]["label"].endswith("…")


# --- through FakeDiscord --------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


async def test_long_replies_are_accepted_by_discord(
    fake: FakeDiscord, sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    engine = build_engine(sqlite_db, content, router=adapter_router())
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    async with running(fake, engine) as bot:
        answers = await act(fake, bot, fake.slash(club.alice, dm, "longread"))
    assert all(r.ok for r in answers)  # the fake refuses anything over a limit with a 400
    sent = messages(fake, dm)
    plain = [m for m in sent if m["content"] and not m["embeds"]]
    assert len(plain) >= 3 and all(len(m["content"]) <= MAX_CONTENT for m in plain)
    assert "\n\n".join(m["content"] for m in plain).count("Keep your ribs down") == 8 * 12
    cards = [m for m in sent if m["embeds"]]
    descriptions = "\n\n".join(e["description"] for m in cards for e in m["embeds"])
    assert descriptions.count(LONG_PARAGRAPH.split(".")[0]) == 16 * 12
    assert cards[0]["embeds"][0]["title"] == "The long card"
    # The buttons sit under the last message of the reply.
    assert list(buttons(cards[-1])) and not any(list(buttons(m)) for m in cards[:-1])


async def test_a_picture_is_an_embed_image_uploaded_with_the_message(
    fake: FakeDiscord, sqlite_db: AsyncEngine, content: ContentBundle, tmp_path: Path
) -> None:
    picture = tmp_path / "side plank.png"
    picture.write_bytes(PNG)
    router = adapter_router()
    extra = Feature("picture")

    @extra.command("picture", "A card with a picture")
    async def show(ctx: TurnContext) -> None:
        ctx.say("Hold it **steady**.", title="Side plank", image=picture)

    router.include(extra)
    engine = build_engine(sqlite_db, content, router=router)
    club = clubhouse(fake)
    dm = fake.dm_channel(club.alice)
    async with running(fake, engine) as bot:
        [_, answer] = await act(fake, bot, fake.slash(club.alice, dm, "picture"))
    [upload] = answer.files
    assert upload.data == PNG and upload.filename == "side_plank-0.png"
    [embed] = answer.json["embeds"]
    assert embed["image"]["url"] == "attachment://side_plank-0.png"
    assert embed["description"] == "Hold it **steady**."
    assert messages(fake, dm)[-1]["attachments"][0]["filename"] == "side_plank-0.png"
