"""Session templates, session texts and card pictures as content: what the shipped files hold,
and what `corecoach content check` reports when they are wrong."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.content.bundle import DEFAULT_CONTENT_DIR, ContentBundle, load_content
from bot.content.schema import LEVELS
from tests.harness import ChatHarness

GENERATED_MAX_BYTES = 40 * 1024


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def _problems(folder: Path) -> list[str]:
    bundle, problems = load_content(folder)
    assert bundle is None, "expected problems"
    return [str(p) for p in problems]


def test_shipped_templates_and_pictures(content: ContentBundle) -> None:
    sessions = content.sessions
    assert sessions.default.id == "classic"
    classic = sessions.templates["classic"]
    assert (classic.rounds, classic.moves_per_round) == (3, 5)  # the seed's three sets of five
    assert set(classic.levels) == set(LEVELS)
    assert set(content.card_images) == set(content.cards)
    for card_id, path in content.card_images.items():
        assert path == DEFAULT_CONTENT_DIR / "cards" / "images" / f"{card_id}.png"
        assert path.stat().st_size < GENERATED_MAX_BYTES
        with Image.open(path) as image:
            assert image.format == "PNG"
            # Not blank: a drawing has several colours.
            assert len(image.convert("RGB").getcolors(maxcolors=4096) or []) > 3


async def test_a_card_reply_carries_its_picture(
    quick_bot: ChatHarness, content: ContentBundle
) -> None:
    ann = quick_bot.person()
    await ann.say("/card side plank")
    assert ann.last_turn is not None
    [reply] = ann.last_turn.replies
    assert reply.image == content.card_images["side_plank"]
    assert reply.to_dict()["image"] == str(content.card_images["side_plank"])


def test_missing_wrong_and_stray_pictures_are_reported(copy: Path) -> None:
    images = copy / "cards" / "images"
    (images / "plank.png").unlink()
    (images / "bird_dog.png").write_bytes(b"not a picture")
    Image.new("RGB", (10, 10)).save(images / "crunch.png", format="JPEG")
    shutil.copy(images / "dead_bug.png", images / "dead_bugg.png")
    found = "\n".join(_problems(copy))
    assert "plank.png:1: card 'plank' has no picture" in found
    assert "bird_dog.png:1: not a readable picture" in found
    assert "crunch.png:1: a JPEG picture" in found
    assert "dead_bugg.png:1: no card has the id 'dead_bugg'" in found


def test_a_content_folder_without_pictures_is_fine(copy: Path) -> None:
    shutil.rmtree(copy / "cards" / "images")
    bundle, problems = load_content(copy)
    assert problems == [] and bundle is not None and bundle.card_images == {}


def test_template_mistakes_are_reported(copy: Path) -> None:
    templates = copy / "sessions" / "templates"
    short = templates / "short.yaml"
    short.write_text(
        short.read_text()
        .replace("min_moves: 2", "min_moves: 6")
        .replace("rounds: 2", "rounds: 2\ndefault: true")
    )
    classic = templates / "classic.yaml"
    classic.write_text(classic.read_text().replace("  advanced:\n", "  expert:\n"))
    found = "\n".join(_problems(copy))
    assert "short.yaml" in found and "min_moves cannot be more than moves_per_round" in found
    assert "classic.yaml" in found and "expert" in found


def test_two_defaults_and_too_few_cards_are_reported(copy: Path) -> None:
    templates = copy / "sessions" / "templates"
    short = templates / "short.yaml"
    short.write_text(short.read_text().replace("rounds: 2", "rounds: 2\ndefault: true"))
    classic = templates / "classic.yaml"
    classic.write_text(classic.read_text().replace("moves_per_round: 5", "moves_per_round: 7"))
    found = "\n".join(_problems(copy))
    assert "exactly one template needs `default: true` (now: classic, short)" in found
    assert "levels.beginner: 7 moves per round, but only 6 cards" in found


def test_unknown_placeholders_in_session_texts_are_reported(copy: Path) -> None:
    texts = copy / "sessions" / "texts.yaml"
    texts.write_text(texts.read_text().replace("{minutes} min)", "{minuts} min)"))
    found = "\n".join(_problems(copy))
    assert "texts.yaml" in found and "overview_title: unknown placeholder {minuts}" in found


def test_content_check_command_names_session_problems(
    copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.rmtree(copy / "sessions")
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", root.handlers[:])  # main() configures logging
    monkeypatch.setattr(root, "level", root.level)
    assert main(["content", "check", str(copy)]) == 1
    assert f"{copy / 'sessions'}:1: folder is missing" in capsys.readouterr().out
