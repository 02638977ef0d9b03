"""Card animations: the committed GIFs, the content check that wants one per card and variant,
and /card showing the animation with "Show easier" / "Show harder"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.discord import render as discord_render
from bot.adapters.telegram import render as telegram_render
from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_content
from bot.content.card_images import MAX_ANIMATION_BYTES, VARIANT_SLOTS, animation_key
from bot.engine.events import Reply
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.harness import ChatHarness
from tests.telegram_harness import make_app, running

IMAGES = DEFAULT_CONTENT_DIR / "cards" / "images"
CARD_IDS = sorted(p.stem for p in (DEFAULT_CONTENT_DIR / "cards").glob("*.yaml"))
EXPECTED = [animation_key(c, s) for c in CARD_IDS for s in (None, *VARIANT_SLOTS)]


def test_every_card_and_variant_has_an_animation_and_nothing_else_is_there(
    content: ContentBundle,
) -> None:
    assert sorted(p.stem for p in IMAGES.glob("*.gif")) == sorted(EXPECTED)
    assert set(content.card_animations) == set(EXPECTED)
    assert all(content.card_animations[key] == IMAGES / f"{key}.gif" for key in EXPECTED)
    for card in content.cards.values():  # the variants have ids of their own
        assert card.easier.id != card.harder.id


@pytest.mark.parametrize("key", EXPECTED)
def test_each_animation_loops_with_at_least_four_distinct_frames(key: str) -> None:
    path = IMAGES / f"{key}.gif"
    assert path.stat().st_size < MAX_ANIMATION_BYTES == 300 * 1024
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.info.get("loop") == 0
        assert gif.n_frames >= 4
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(gif.convert("RGB"))
    distinct: list[Image.Image] = []
    for frame in frames:
        if all(ImageChops.difference(frame, seen).getbbox() for seen in distinct):
            distinct.append(frame)
    assert len(distinct) >= 4
    # The last frame is on the way back to the first (start → end → start), not a repeat of it.
    assert ImageChops.difference(frames[0], frames[-1]).getbbox() is not None
    assert frames[0].size == (480, 320)


@pytest.mark.parametrize("card_id", CARD_IDS)
def test_each_card_has_a_still_key_frame(card_id: str) -> None:
    with Image.open(IMAGES / f"{card_id}.png") as still:
        assert still.format == "PNG" and still.size == (480, 320)


def _line_of(path: Path, prefix: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(prefix))


def test_a_missing_animation_is_a_content_problem_at_the_card_line(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)
    images = root / "cards" / "images"
    (images / "dead_bug--easier.gif").unlink()
    (images / "plank.gif").unlink()
    (images / "side_plank--harder.gif").write_bytes(b"not a gif")
    shutil.copy(images / "crunch.gif", images / "crunch--hardest.gif")
    bundle, problems = load_content(root)
    assert bundle is None
    found = {(p.file.name, p.line, p.message) for p in problems}
    dead_bug = root / "cards" / "dead_bug.yaml"
    plank = root / "cards" / "plank.yaml"
    assert (
        "dead_bug.yaml",
        _line_of(dead_bug, "easier:"),
        "easier variant 'heel_taps' has no animation (images/dead_bug--easier.gif)",
    ) in found
    assert (
        "plank.yaml",
        _line_of(plank, "id:"),
        "card 'plank' has no animation (images/plank.gif)",
    ) in found
    assert ("side_plank--harder.gif", 1, "not a readable animation") in found
    assert (
        "crunch--hardest.gif",
        1,
        "no card or variant has the animation 'crunch--hardest'",
    ) in found
    assert len(problems) == 4
    assert all(str(p).startswith(f"{p.file}:{p.line}: ") for p in problems)


def test_a_gif_that_plays_once_or_is_too_short_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)
    images = root / "cards" / "images"
    frames = [Image.new("RGB", (48, 32), (i * 60, 0, 0)) for i in range(3)]
    frames[0].save(images / "crunch.gif", save_all=True, append_images=frames[1:], loop=0)
    frames = [Image.new("RGB", (48, 32), (i * 40, 0, 0)) for i in range(5)]
    frames[0].save(images / "plank.gif", save_all=True, append_images=frames[1:])
    _, problems = load_content(root)
    messages = {p.file.name: p.message for p in problems}
    assert messages == {
        "crunch.gif": "3 frame(s); an animation needs at least 4",
        "plank.gif": "the animation plays once; save it looping (loop=0)",
    }


async def test_card_sends_its_animation_with_the_card_as_caption(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("/card dead bug")
    assert ann.last_turn is not None
    [reply] = ann.last_turn.replies
    card = content.cards["dead_bug"]
    assert reply.animation == IMAGES / "dead_bug.gif"
    assert reply.image == IMAGES / "dead_bug.png"  # the still stays for the terminal
    assert reply.title == "Dead bug" and card.steps[0] in reply.text
    assert ann.labels() == ["Show easier", "Show harder", "All cards"]

    await ann.press("Show easier")
    [easier] = ann.last_turn.replies
    assert easier.animation == IMAGES / "dead_bug--easier.gif"
    assert easier.title == f"Dead bug: {card.easier.name}"
    assert card.easier.how in easier.text
    assert ann.labels() == ["Show harder", "Back to Dead bug", "All cards"]

    await ann.press("Show harder")
    [harder] = ann.last_turn.replies
    assert harder.animation == IMAGES / "dead_bug--harder.gif"
    assert card.harder.how in harder.text
    await ann.press("Back to Dead bug")
    assert ann.last_turn.replies[0].animation == IMAGES / "dead_bug.gif"


async def test_every_variant_button_shows_its_animation(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    for card in content.cards.values():
        for slot in VARIANT_SLOTS:
            [reply] = await ann.press_payload(f"card_variant:{card.id}:{slot}")
            assert reply.animation == content.card_animations[animation_key(card.id, slot)]
            assert getattr(card, slot).how in reply.text
    # An old button for a card that is gone lists the cards instead.
    [reply] = await ann.press_payload("card_variant:no_such_card:easier")
    assert reply.text == content.texts.cards_intro


def test_reply_round_trips_its_animation() -> None:
    reply = Reply("Hold it", title="Plank", animation=IMAGES / "plank.gif")
    again = Reply.from_dict(reply.to_dict())
    assert again.animation == IMAGES / "plank.gif" and again.image is None
    assert Reply.from_dict(Reply("x").to_dict()).animation is None


def test_telegram_sends_an_animation_with_the_caption() -> None:
    reply = Reply("Lie on your back.", title="Dead bug", animation=IMAGES / "dead_bug.gif")
    [part] = telegram_render.parts_of(reply, bot_username="corecoach_bot", in_group=False)
    assert part.kind == "animation" and part.file == IMAGES / "dead_bug.gif"
    assert part.html == "<b>Dead bug</b>\n\nLie on your back."


def test_discord_shows_the_animation_as_the_embed_image() -> None:
    reply = Reply("Lie on your back.", title="Dead bug", animation=IMAGES / "dead_bug.gif")
    [part] = discord_render.render(reply)
    [(path, name)] = part.files
    assert path == IMAGES / "dead_bug.gif" and name == "dead_bug-0.gif"
    assert part.embeds[0].image.url == "attachment://dead_bug-0.gif"


def test_with_both_only_the_animation_is_sent() -> None:
    reply = Reply(
        "Lie on your back.", image=IMAGES / "dead_bug.png", animation=IMAGES / "dead_bug.gif"
    )
    [part] = telegram_render.parts_of(reply, bot_username="corecoach_bot", in_group=False)
    assert (part.kind, part.file) == ("animation", IMAGES / "dead_bug.gif")
    [message] = discord_render.render(reply)
    assert [path for path, _ in message.files] == [IMAGES / "dead_bug.gif"]


async def test_telegram_card_is_an_animation_with_variant_buttons(
    sqlite_db: AsyncEngine, content: ContentBundle
) -> None:
    async with FakeTelegramAPI() as fake:
        ann = fake.add_user("Ann")
        async with running(fake, make_app(fake, sqlite_db, content)) as bot:
            runner = bot.runner(ann)
            [card, *rest] = await runner.say("/card dead bug")
            assert card.method == "sendAnimation" and card.file is not None
            assert card.file.filename == "dead_bug.gif"
            assert (card.caption or "").startswith("<b>Dead bug</b>")
            [easier] = await runner.press("Show easier")
            assert easier.method == "sendAnimation" and easier.file is not None
            assert easier.file.filename == "dead_bug--easier.gif"
            assert content.cards["dead_bug"].easier.how in (easier.caption or "")
            # The same animation again goes by file_id: no second upload.
            [card_again, *_] = await runner.say("/card dead bug")
            assert card_again.params["animation"] == card.file.file_id
    assert rest  # the rest of the long card text follows the captioned animation
