"""Card pictures: content/cards/images/<card id>.png, found by convention.

A content folder without an images/ folder has no pictures (a club may leave them out); once
the folder exists, every card needs its picture there, so a forgotten or misspelt file is a
problem `corecoach content check` reports rather than a card that silently lacks its image.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.content.yamlsource import Problem

IMAGES_FOLDER = "images"
# Telegram takes photos up to 10 MB; pictures this size or smaller send quickly everywhere.
MAX_IMAGE_BYTES = 512 * 1024
MAX_SIDE = 2048


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
