"""Card pictures and animations, found by convention in content/cards/images/:

    <card id>.png              a still key frame of the move (sent where a still is wanted)
    <card id>.gif              the move, animated and looping
    <card id>--easier.gif      the easier variant, animated
    <card id>--harder.gif      the harder variant, animated

A content folder without an images/ folder has no pictures (a club may leave them out); once
the folder exists, every card needs its picture and its three animations there, so a forgotten
or misspelt file is a problem `corecoach content check` reports (at the card's `id:` or the
variant's line) rather than a card that silently lacks its image.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.content.schema import Card
from bot.content.yamlsource import Problem, read_yaml

IMAGES_FOLDER = "images"
# Telegram takes photos up to 10 MB; pictures this size or smaller send quickly everywhere.
MAX_IMAGE_BYTES = 512 * 1024
MAX_SIDE = 2048
MAX_ANIMATION_BYTES = 300 * 1024
VARIANT_SLOTS = ("easier", "harder")


def animation_key(card_id: str, slot: str | None = None) -> str:
    """The key of an animation in ContentBundle.card_animations, and its file's stem."""
    return f"{card_id}--{slot}" if slot else card_id


def load_card_images(
    cards_folder: Path, card_ids: Collection[str], problems: list[Problem]
) -> dict[str, Path]:
    folder = cards_folder / IMAGES_FOLDER
    if not folder.is_dir():
        return {}
    images: dict[str, Path] = {}
    for card_id in sorted(card_ids):
        path = folder / f"{card_id}.png"
        if not path.is_file():
            problems.append(Problem(path, 1, f"card {card_id!r} has no picture (expected here)"))
            continue
        problem = _check_png(path)
        if problem:
            problems.append(Problem(path, 1, problem))
            continue
        images[card_id] = path
    for path in sorted(folder.glob("*.png")):
        if path.stem not in card_ids:
            problems.append(Problem(path, 1, f"no card has the id {path.stem!r}"))
    return images


def _check_png(path: Path) -> str | None:
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"the picture is {size // 1024} KB; keep it under {MAX_IMAGE_BYTES // 1024} KB"
    try:
        with Image.open(path) as image:
            image_format = image.format
            width, height = image.size
            image.verify()  # reads the whole file: catches truncated or corrupt pictures
    except (OSError, UnidentifiedImageError, SyntaxError):
        return "not a readable picture"
    if image_format != "PNG":
        return f"a {image_format} picture with a .png name; save it as PNG"
    if max(width, height) > MAX_SIDE:
        return f"{width}×{height} pixels; keep each side at most {MAX_SIDE}"
    return None


def load_card_animations(
    cards_folder: Path, cards: Mapping[str, Card], problems: list[Problem]
) -> dict[str, Path]:
    """Animation key (see animation_key) → its GIF, for every card and variant."""
    folder = cards_folder / IMAGES_FOLDER
    if not folder.is_dir():
        return {}
    animations: dict[str, Path] = {}
    for card_id in sorted(cards):
        card_file = cards_folder / f"{card_id}.yaml"
        _, lines, _ = read_yaml(card_file)
        wanted: list[tuple[str | None, str, int]] = [
            (None, f"card {card_id!r}", lines.get(("id",), 1))
        ]
        wanted += [
            (slot, f"{slot} variant {getattr(cards[card_id], slot).id!r}", lines.get((slot,), 1))
            for slot in VARIANT_SLOTS
        ]
        for slot, what, line in wanted:
            key = animation_key(card_id, slot)
            path = folder / f"{key}.gif"
            if not path.is_file():
                where = f"{IMAGES_FOLDER}/{path.name}"
                problems.append(Problem(card_file, line, f"{what} has no animation ({where})"))
                continue
            problem = check_gif(path)
            if problem:
                problems.append(Problem(path, 1, problem))
                continue
            animations[key] = path
    known = {animation_key(c, slot) for c in cards for slot in (None, *VARIANT_SLOTS)}
    for path in sorted(folder.glob("*.gif")):
        if path.stem not in known:
            problems.append(Problem(path, 1, f"no card or variant has the animation {path.stem!r}"))
    return animations


def check_gif(path: Path) -> str | None:
    """A looping GIF of at least four frames, small enough to send quickly."""
    size = path.stat().st_size
    if size > MAX_ANIMATION_BYTES:
        limit = MAX_ANIMATION_BYTES // 1024
        return f"the animation is {size // 1024} KB; keep it under {limit} KB"
    try:
        with Image.open(path) as image:
            image_format = image.format
            frames = getattr(image, "n_frames", 1)
            loop = image.info.get("loop")
            width, height = image.size
    except (OSError, UnidentifiedImageError, SyntaxError):
        return "not a readable animation"
    if image_format != "GIF":
        return f"a {image_format} file with a .gif name; save it as GIF"
    if frames < 4:
        return f"{frames} frame(s); an animation needs at least 4"
    if loop != 0:
        return "the animation plays once; save it looping (loop=0)"
    if max(width, height) > MAX_SIDE:
        return f"{width}×{height} pixels; keep each side at most {MAX_SIDE}"
    return None
