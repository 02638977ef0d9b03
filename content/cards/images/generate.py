"""Draw the card pictures: one simple stick-figure illustration per exercise card.

Run once after adding or renaming a card, and commit the PNGs:

    .venv/bin/python content/cards/images/generate.py

Each pose is a handful of joint positions (side view, floor at the bottom). The limb that
moves, or lifts, is drawn in the accent colour, so a glance shows what the exercise is about.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
CARDS = HERE.parent
WIDTH, HEIGHT = 480, 320
SCALE = 2  # drawn at twice the size, then reduced, for smooth lines
FLOOR = 270
MAX_BYTES = 40 * 1024

BACKGROUND = (247, 244, 238)
MAT = (214, 226, 236)
FLOOR_LINE = (150, 160, 170)
BODY = (34, 56, 92)
FAR = (126, 144, 170)  # the limbs on the far side
ACCENT = (230, 110, 40)
TEXT = (34, 56, 92)

Point = tuple[float, float]


@dataclass
class Pose:
    """Joints in picture coordinates (480 × 320). Limbs are chains of points from the body."""

    head: Point
    shoulder: Point
    hip: Point
    near_arm: list[Point]
    far_arm: list[Point]
    near_leg: list[Point]
    far_leg: list[Point]
    accent: set[str] = field(default_factory=set)  # which limbs move: "near_arm", "far_leg"...
    arrow: tuple[Point, Point] | None = None


POSES: dict[str, Pose] = {
    "plank": Pose(
        head=(122, 206),
        shoulder=(152, 214),
        hip=(266, 230),
        near_arm=[(152, 264), (108, 264)],
        far_arm=[(160, 264), (116, 264)],
        near_leg=[(322, 246), (382, 262)],
        far_leg=[(328, 246), (388, 262)],
    ),
    "side_plank": Pose(
        head=(204, 190),
        shoulder=(230, 204),
        hip=(296, 228),
        near_arm=[(230, 262), (212, 264)],
        far_arm=[(230, 166), (230, 128)],
        near_leg=[(343, 245), (390, 262)],
        far_leg=[(343, 241), (390, 256)],
        accent={"far_arm"},
        arrow=((262, 226), (262, 196)),
    ),
    "bird_dog": Pose(
        head=(170, 172),
        shoulder=(200, 195),
        hip=(300, 195),
        near_arm=[(200, 230), (200, 264)],
        far_arm=[(160, 190), (118, 184)],
        near_leg=[(300, 264), (360, 264)],
        far_leg=[(350, 195), (404, 190)],
        accent={"far_arm", "far_leg"},
    ),
    "dead_bug": Pose(
        head=(140, 252),
        shoulder=(170, 256),
        hip=(262, 256),
        near_arm=[(172, 216), (174, 176)],
        far_arm=[(135, 240), (98, 236)],
        near_leg=[(264, 206), (312, 206)],
        far_leg=[(308, 242), (364, 252)],
        accent={"far_arm", "far_leg"},
    ),
    "glute_bridge": Pose(
        head=(130, 256),
        shoulder=(162, 258),
        hip=(262, 206),
        near_arm=[(202, 264), (242, 265)],
        far_arm=[(206, 264), (246, 265)],
        near_leg=[(332, 200), (336, 264)],
        far_leg=[(338, 202), (342, 264)],
        arrow=((262, 250), (262, 222)),
    ),
    "crunch": Pose(
        head=(178, 206),
        shoulder=(200, 224),
        hip=(262, 258),
        near_arm=[(218, 196), (188, 198)],
        far_arm=[(222, 200), (192, 202)],
        near_leg=[(310, 214), (350, 264)],
        far_leg=[(316, 216), (356, 264)],
        accent={"near_arm"},
        arrow=((170, 250), (186, 228)),
    ),
    "reverse_crunch": Pose(
        head=(128, 256),
        shoulder=(160, 258),
        hip=(250, 250),
        near_arm=[(200, 265), (236, 266)],
        far_arm=[(204, 265), (240, 266)],
        near_leg=[(216, 204), (256, 176)],
        far_leg=[(222, 206), (262, 178)],
        accent={"near_leg", "far_leg"},
        arrow=((300, 220), (270, 196)),
    ),
    "hollow_hold": Pose(
        head=(152, 224),
        shoulder=(180, 234),
        hip=(252, 252),
        near_arm=[(140, 222), (100, 212)],
        far_arm=[(144, 226), (104, 216)],
        near_leg=[(302, 240), (352, 228)],
        far_leg=[(302, 244), (352, 232)],
        accent={"near_arm", "near_leg"},
    ),
    "mountain_climbers": Pose(
        head=(142, 184),
        shoulder=(170, 192),
        hip=(280, 210),
        near_arm=[(170, 228), (170, 264)],
        far_arm=[(176, 228), (176, 264)],
        near_leg=[(332, 236), (386, 262)],
        far_leg=[(222, 230), (268, 252)],
        accent={"far_leg"},
        arrow=((300, 250), (256, 250)),
    ),
    "shoulder_taps": Pose(
        head=(142, 184),
        shoulder=(170, 192),
        hip=(280, 206),
        near_arm=[(170, 228), (170, 264)],
        far_arm=[(198, 226), (176, 200)],
        near_leg=[(334, 234), (390, 262)],
        far_leg=[(340, 234), (396, 262)],
        accent={"far_arm"},
    ),
    "bear_walk": Pose(
        head=(172, 186),
        shoulder=(200, 196),
        hip=(300, 186),
        near_arm=[(200, 230), (200, 264)],
        far_arm=[(188, 230), (176, 262)],
        near_leg=[(290, 244), (350, 264)],
        far_leg=[(278, 240), (334, 262)],
        accent={"far_arm", "far_leg"},
        arrow=((170, 150), (120, 150)),
    ),
    "superman_hold": Pose(
        head=(160, 242),
        shoulder=(190, 252),
        hip=(270, 258),
        near_arm=[(150, 240), (110, 228)],
        far_arm=[(152, 244), (112, 232)],
        near_leg=[(322, 250), (376, 236)],
        far_leg=[(322, 254), (376, 240)],
        accent={"near_arm", "near_leg"},
    ),
}


def _scaled(points: list[Point]) -> list[tuple[float, float]]:
    return [(x * SCALE, y * SCALE) for x, y in points]


def _limb(
    draw: ImageDraw.ImageDraw, start: Point, chain: list[Point], colour: tuple[int, ...]
) -> None:
    points = _scaled([start, *chain])
    draw.line(points, fill=colour, width=9 * SCALE, joint="curve")
    for x, y in points[1:]:
        r = 4.5 * SCALE
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _arrow(draw: ImageDraw.ImageDraw, start: Point, end: Point) -> None:
    (x0, y0), (x1, y1) = _scaled([start, end])
    draw.line((x0, y0, x1, y1), fill=ACCENT, width=4 * SCALE)
    dx, dy = x1 - x0, y1 - y0
    length = max((dx * dx + dy * dy) ** 0.5, 1.0)
    ux, uy = dx / length, dy / length
    size = 10 * SCALE
    left = (x1 - ux * size - uy * size * 0.6, y1 - uy * size + ux * size * 0.6)
    right = (x1 - ux * size + uy * size * 0.6, y1 - uy * size - ux * size * 0.6)
    draw.polygon([(x1, y1), left, right], fill=ACCENT)


def draw_card(name: str, pose: Pose) -> Image.Image:
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60 * SCALE, (FLOOR - 4) * SCALE, 420 * SCALE, (FLOOR + 6) * SCALE), fill=MAT)
    draw.line(
        (20 * SCALE, (FLOOR + 6) * SCALE, 460 * SCALE, (FLOOR + 6) * SCALE),
        fill=FLOOR_LINE,
        width=2 * SCALE,
    )

    def colour(limb: str, default: tuple[int, ...]) -> tuple[int, ...]:
        return ACCENT if limb in pose.accent else default

    _limb(draw, pose.shoulder, pose.far_arm, colour("far_arm", FAR))
    _limb(draw, pose.hip, pose.far_leg, colour("far_leg", FAR))
    draw.line(_scaled([pose.shoulder, pose.hip]), fill=BODY, width=12 * SCALE)
    _limb(draw, pose.hip, pose.near_leg, colour("near_leg", BODY))
    _limb(draw, pose.shoulder, pose.near_arm, colour("near_arm", BODY))
    hx, hy = pose.head
    r = 15
    draw.ellipse(
        ((hx - r) * SCALE, (hy - r) * SCALE, (hx + r) * SCALE, (hy + r) * SCALE), fill=BODY
    )
    if pose.arrow:
        _arrow(draw, *pose.arrow)
    font = ImageFont.load_default(size=30 * SCALE)
    draw.text((WIDTH * SCALE / 2, 24 * SCALE), name, fill=TEXT, font=font, anchor="mt")
    small = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    # A small palette keeps each file a few kilobytes.
    return small.quantize(colors=64, method=Image.Quantize.FASTOCTREE)


def main() -> int:
    failed = False
    for card_file in sorted(CARDS.glob("*.yaml")):
        card = yaml.safe_load(card_file.read_text(encoding="utf-8"))
        pose = POSES.get(card["id"])
        if pose is None:
            print(f"{card_file.name}: no pose defined in {Path(__file__).name}", file=sys.stderr)
            failed = True
            continue
        target = HERE / f"{card['id']}.png"
        draw_card(card["name"], pose).save(target, optimize=True)
        size = target.stat().st_size
        print(f"{target.name}: {size // 1024} KB")
        if size > MAX_BYTES:
            print(f"{target.name}: over {MAX_BYTES // 1024} KB", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
