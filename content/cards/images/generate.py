"""Draw the card animations and key frames (developer tool, run by hand; needs Pillow).

For every card, and for its easier and harder variants, this writes into this folder:

    <card id>.gif            the card's move, looping: start → end → start (both sides where
                             the move alternates)
    <card id>--easier.gif    the easier variant, the same way
    <card id>--harder.gif    the harder variant
    <card id>.png            a still key frame of the card: the end position drawn over a pale
                             start position, with an arrow along the path of what moves

Run it after adding a card or changing a move, look at the files, and commit them:

    .venv/bin/python content/cards/images/generate.py            # every card
    .venv/bin/python content/cards/images/generate.py dead_bug   # one card

How it works. A move is a list of key poses (MOVES below, one per card and variant). A pose is
joint angles — torso, neck, each arm and leg — around one root joint, much like a puppet. The
frames in between are the angles interpolated (eased), so limbs swing rather than slide; a hand
or foot that stays put in two neighbouring key poses is held where it is by solving the two
bones of its limb (inverse kinematics), so planted hands and feet do not skate. The limbs that
move are drawn in the accent colour (paler for the far side of the body). The head has a face
(nose, eye, mouth) and hair at the back, so face up and face down read at a glance.

Angles are in degrees, counter-clockwise, 0 pointing right and 90 pointing up. The figure lies
with its head on the left; the mat's top is at y = FLOOR.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
CARDS = HERE.parent
WIDTH, HEIGHT = 480, 320
SCALE = 2  # drawn at twice the size, then reduced, for smooth lines
FLOOR = 266  # the top of the mat
MAX_GIF_BYTES = 290 * 1024  # the tests allow 300 KB
MAX_PNG_BYTES = 60 * 1024
STEPS = 5  # in-between frames from one key pose to the next
FRAME_MS = 90
HOLD_MS = 700  # how long each key pose is shown

BACKGROUND = (247, 244, 238)
MAT = (190, 214, 232)
MAT_EDGE = (150, 180, 205)
FLOOR_LINE = (150, 160, 170)
PROP = (196, 160, 120)  # a bench
BODY = (34, 56, 92)
FAR = (132, 150, 178)  # the limbs on the far side
ACCENT = (232, 104, 32)
ACCENT_FAR = (244, 170, 120)
SKIN = (240, 200, 164)
HAIR = (70, 48, 36)
GHOST = (222, 220, 216)
TEXT = (34, 56, 92)
ARROW = (210, 60, 40)

TORSO = 100.0  # hip to shoulder, in two halves so the spine can curl
NECK = 29.0  # shoulder to the centre of the head
HEAD_R = 15.0
UPPER_ARM, FOREARM = 44.0, 42.0
THIGH, SHIN = 56.0, 54.0
FOOT = 15.0
TORSO_W, LIMB_W = 22.0, 10.0

Point = tuple[float, float]
LIMBS = ("near_arm", "far_arm", "near_leg", "far_leg")


def unit(angle: float) -> Point:
    rad = math.radians(angle)
    return math.cos(rad), -math.sin(rad)


def step(start: Point, angle: float, length: float) -> Point:
    dx, dy = unit(angle)
    return start[0] + dx * length, start[1] + dy * length


def angle_of(start: Point, end: Point) -> float:
    return math.degrees(math.atan2(-(end[1] - start[1]), end[0] - start[0]))


def wrap(angle: float) -> float:
    return (angle + 180.0) % 360.0 - 180.0


def lerp_angle(a: float, b: float, t: float) -> float:
    return a + wrap(b - a) * t


def solve(root: Point, target: Point, first: float, second: float, bend: int) -> tuple[float, ...]:
    """Two-bone inverse kinematics: the angles that put the limb's end on target."""
    dist = math.dist(root, target)
    dist = min(max(dist, abs(first - second) + 0.01), first + second - 0.01)
    towards = angle_of(root, target)
    cos_a = (first * first + dist * dist - second * second) / (2 * first * dist)
    a1 = towards + bend * math.degrees(math.acos(max(-1.0, min(1.0, cos_a))))
    joint = step(root, a1, first)
    return a1, angle_of(joint, target)


@dataclass(frozen=True)
class To:
    """A limb given by where its hand or foot goes; bend +1 or -1 picks the elbow/knee side."""

    x: float
    y: float
    bend: int = 1


Limb = tuple[float, float] | To


@dataclass(frozen=True)
class Pose:
    root: Point  # where the root joint is
    lower: float  # hip → middle of the back
    upper: float | None = None  # middle of the back → shoulder (None: a straight back)
    neck: float | None = None  # shoulder → head (None: in line with the upper back)
    front: int = 1  # which side is the chest: +1 = upper + 90°, -1 = upper - 90°
    frontal: bool = False  # the face turned to the viewer (side plank)
    root_joint: str = "hip"  # or "shoulder"
    near_arm: Limb = (0.0, 0.0)
    far_arm: Limb = (0.0, 0.0)
    near_leg: Limb = (0.0, 0.0)
    far_leg: Limb = (0.0, 0.0)
    near_foot: float | None = None  # the foot's direction; None: at right angles to the shin
    far_foot: float | None = None
    props: tuple[tuple[float, float, float, float], ...] = ()  # rectangles: a bench


@dataclass
class Joints:
    """A pose worked out into points, plus the angles that made them (for interpolating)."""

    hip: Point
    mid: Point
    shoulder: Point
    head: Point
    face: float
    frontal: bool
    angles: dict[str, tuple[float, float]]
    ends: dict[str, Point]
    chains: dict[str, list[Point]]  # from the body out: elbow, hand / knee, ankle, toe
    props: tuple[tuple[float, float, float, float], ...]
    lower: float = 0.0
    upper: float = 0.0
    neck: float = 0.0
    front: int = 1
    feet: dict[str, float] = field(default_factory=dict)


def _spine(pose: Pose) -> tuple[Point, Point, Point, float, float]:
    upper = pose.lower if pose.upper is None else pose.upper
    if pose.root_joint == "hip":
        hip = pose.root
        mid = step(hip, pose.lower, TORSO / 2)
        shoulder = step(mid, upper, TORSO / 2)
    else:
        shoulder = pose.root
        mid = step(shoulder, upper + 180, TORSO / 2)
        hip = step(mid, pose.lower + 180, TORSO / 2)
    return hip, mid, shoulder, pose.lower, upper


def build(
    pose: Pose,
    *,
    override: dict[str, tuple[float, float]] | None = None,
    angles: dict[str, float] | None = None,
) -> Joints:
    """Points of a pose. `angles` replaces the spine/neck angles (for in-between frames)."""
    spine_pose = pose
    if angles is not None:
        spine_pose = replace(pose, lower=angles["lower"], upper=angles["upper"])
    hip, mid, shoulder, lower, upper = _spine(spine_pose)
    neck = pose.neck if pose.neck is not None else upper
    if angles is not None:
        neck = angles["neck"]
    head = step(shoulder, neck, NECK)
    face = neck + 90 * pose.front
    limb_angles: dict[str, tuple[float, float]] = {}
    chains: dict[str, list[Point]] = {}
    ends: dict[str, Point] = {}
    feet: dict[str, float] = {}
    for name in LIMBS:
        is_arm = name.endswith("arm")
        root = shoulder if is_arm else hip
        first, second = (UPPER_ARM, FOREARM) if is_arm else (THIGH, SHIN)
        spec = getattr(pose, name)
        if override and name in override:
            a1, a2 = override[name]
        elif isinstance(spec, To):
            a1, a2 = solve(root, (spec.x, spec.y), first, second, spec.bend)
        else:
            a1, a2 = spec
        joint = step(root, a1, first)
        end = step(joint, a2, second)
        limb_angles[name] = (a1, a2)
        chains[name] = [joint, end]
        ends[name] = end
        if not is_arm:
            side = name.split("_")[0]
            foot = getattr(pose, f"{side}_foot")
            if angles is not None and f"{side}_foot" in angles:
                foot = angles[f"{side}_foot"]
            if foot is None:
                foot = a2 - 90 * pose.front
            feet[name] = foot
            chains[name].append(step(end, foot, FOOT))
    return Joints(
        hip=hip,
        mid=mid,
        shoulder=shoulder,
        head=head,
        face=face,
        frontal=pose.frontal,
        angles=limb_angles,
        ends=ends,
        chains=chains,
        props=pose.props,
        lower=lower,
        upper=upper,
        neck=neck,
        front=pose.front,
        feet=feet,
    )


def _bend(root: Point, joints: tuple[float, float], first: float) -> int:
    a1, a2 = joints
    end = step(step(root, a1, first), a2, FOREARM if first == UPPER_ARM else SHIN)
    return 1 if wrap(a1 - angle_of(root, end)) >= 0 else -1


def between(a: Pose, b: Pose, t: float) -> Joints:
    """The in-between pose at t (0 = a, 1 = b): angles eased; planted hands and feet held."""
    ja, jb = build(a), build(b)
    root = (a.root[0] + (b.root[0] - a.root[0]) * t, a.root[1] + (b.root[1] - a.root[1]) * t)
    spine = {
        "lower": lerp_angle(ja.lower, jb.lower, t),
        "upper": lerp_angle(ja.upper, jb.upper, t),
        "neck": lerp_angle(ja.neck, jb.neck, t),
    }
    for side in ("near", "far"):
        spine[f"{side}_foot"] = lerp_angle(ja.feet[f"{side}_leg"], jb.feet[f"{side}_leg"], t)
    mixed = replace(a, root=root)
    hip, _, shoulder, _, _ = _spine(replace(mixed, lower=spine["lower"], upper=spine["upper"]))
    override: dict[str, tuple[float, float]] = {}
    for name in LIMBS:
        is_arm = name.endswith("arm")
        first, second = (UPPER_ARM, FOREARM) if is_arm else (THIGH, SHIN)
        planted = math.dist(ja.ends[name], jb.ends[name]) < 3
        if planted:
            limb_root = shoulder if is_arm else hip
            bend = _bend(ja.shoulder if is_arm else ja.hip, ja.angles[name], first)
            a1, a2 = solve(limb_root, ja.ends[name], first, second, bend)
            override[name] = (a1, a2)
        else:
            (a1, a2), (b1, b2) = ja.angles[name], jb.angles[name]
            override[name] = (lerp_angle(a1, b1, t), lerp_angle(a2, b2, t))
    return build(mixed, override=override, angles=spine)


# Drawing -------------------------------------------------------------------------------------


def _s(point: Point) -> tuple[float, float]:
    return point[0] * SCALE, point[1] * SCALE


def _dot(draw: ImageDraw.ImageDraw, centre: Point, radius: float, colour: tuple[int, ...]) -> None:
    x, y = _s(centre)
    r = radius * SCALE
    draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _line(
    draw: ImageDraw.ImageDraw, points: list[Point], width: float, colour: tuple[int, ...]
) -> None:
    draw.line([_s(p) for p in points], fill=colour, width=round(width * SCALE), joint="curve")
    for p in points:
        _dot(draw, p, width / 2, colour)


def _limb(draw: ImageDraw.ImageDraw, start: Point, chain: list[Point], colour: tuple[int, ...]):
    if len(chain) == 3:  # a leg: hip, knee, ankle, then the foot, a little thinner
        _line(draw, [start, *chain[:2]], LIMB_W + 1, colour)
        _line(draw, chain[1:], LIMB_W - 2, colour)
    else:
        _line(draw, [start, *chain], LIMB_W, colour)
        _dot(draw, chain[-1], LIMB_W / 2 + 1.5, colour)  # the hand


def _head(draw: ImageDraw.ImageDraw, j: Joints, ghost: bool) -> None:
    cx, cy = j.head
    if ghost:
        _dot(draw, j.head, HEAD_R, GHOST)
        return
    _dot(draw, j.head, HEAD_R, SKIN)
    x, y = _s(j.head)
    r = HEAD_R * SCALE
    box = (x - r, y - r, x + r, y + r)
    if j.frontal:  # facing the viewer: hair on top, two eyes, a smile
        crown = j.neck
        draw.pieslice(box, -crown - 80, -crown + 80, fill=HAIR)
        across = unit(j.neck - 90)
        up = unit(j.neck)
        for side in (-1, 1):
            ex = cx + across[0] * 5 * side - up[0] * 1
            ey = cy + across[1] * 5 * side - up[1] * 1
            _dot(draw, (ex, ey), 1.8, BODY)
        mx, my = cx - up[0] * 1, cy - up[1] * 1
        mouth = (*_s((mx - 6, my - 6)), *_s((mx + 6, my + 6)))  # the smile, turned with the head
        down = -(j.neck + 180)
        draw.arc(mouth, down - 50, down + 50, fill=BODY, width=2 * SCALE)
    else:  # in profile: hair at the back and top, nose, eye and mouth on the face side
        back = j.face + 180
        crown = j.neck
        (bx, by), (kx, ky) = unit(back), unit(crown)
        centre = math.degrees(math.atan2(by + ky, bx + kx))  # on screen, clockwise
        draw.pieslice(box, centre - 100, centre + 100, fill=HAIR)
        fx, fy = unit(j.face)
        ux, uy = unit(j.neck)  # towards the crown
        tip = (cx + fx * (HEAD_R + 6), cy + fy * (HEAD_R + 6))
        base1 = (cx + fx * (HEAD_R - 2) + ux * 4, cy + fy * (HEAD_R - 2) + uy * 4)
        base2 = (cx + fx * (HEAD_R - 2) - ux * 4, cy + fy * (HEAD_R - 2) - uy * 4)
        draw.polygon([_s(tip), _s(base1), _s(base2)], fill=SKIN)
        eye = (cx + fx * 8 + ux * 6, cy + fy * 8 + uy * 6)
        _dot(draw, eye, 2.2, BODY)
        mouth_a = (cx + fx * 10 - ux * 7, cy + fy * 10 - uy * 7)
        mouth_b = (cx + fx * 5 - ux * 8, cy + fy * 5 - uy * 8)
        draw.line([_s(mouth_a), _s(mouth_b)], fill=BODY, width=2 * SCALE)


def draw_body(
    draw: ImageDraw.ImageDraw, j: Joints, accent: frozenset[str], *, ghost: bool = False
) -> None:
    def colour(name: str, near: bool) -> tuple[int, ...]:
        if ghost:
            return GHOST
        if name in accent:
            return ACCENT if near else ACCENT_FAR
        return BODY if near else FAR

    _limb(draw, j.shoulder, j.chains["far_arm"], colour("far_arm", False))
    _limb(draw, j.hip, j.chains["far_leg"], colour("far_leg", False))
    torso = colour("torso", True)
    _line(draw, [j.hip, j.mid, j.shoulder], TORSO_W, torso)
    _line(
        draw,
        [j.shoulder, step(j.shoulder, j.neck, NECK - HEAD_R + 2)],
        9,
        SKIN if not ghost else GHOST,
    )
    _head(draw, j, ghost)
    _limb(draw, j.hip, j.chains["near_leg"], colour("near_leg", True))
    _limb(draw, j.shoulder, j.chains["near_arm"], colour("near_arm", True))


def _scene(title: str, props: Iterable[tuple[float, float, float, float]]) -> Image.Image:
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.line(
        (10 * SCALE, (FLOOR + 9) * SCALE, 470 * SCALE, (FLOOR + 9) * SCALE),
        fill=FLOOR_LINE,
        width=2 * SCALE,
    )
    draw.rounded_rectangle(
        (40 * SCALE, FLOOR * SCALE, 440 * SCALE, (FLOOR + 8) * SCALE),
        radius=3 * SCALE,
        fill=MAT,
        outline=MAT_EDGE,
        width=SCALE,
    )
    for x0, y0, x1, y1 in props:
        draw.rectangle((x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE), fill=PROP)
    font = ImageFont.load_default(size=24 * SCALE)
    draw.text((WIDTH * SCALE / 2, 18 * SCALE), title, fill=TEXT, font=font, anchor="mt")
    return image


def _finish(image: Image.Image) -> Image.Image:
    return image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def frame(title: str, j: Joints, accent: frozenset[str]) -> Image.Image:
    image = _scene(title, j.props)
    draw_body(ImageDraw.Draw(image), j, accent)
    return _finish(image)


def _arrow(draw: ImageDraw.ImageDraw, path: list[Point]) -> None:
    points = [_s(p) for p in path]
    draw.line(points, fill=ARROW, width=4 * SCALE, joint="curve")
    (x0, y0), (x1, y1) = points[-2], points[-1]
    dx, dy = x1 - x0, y1 - y0
    length = max(math.hypot(dx, dy), 1.0)
    ux, uy = dx / length, dy / length
    size = 12 * SCALE
    tip = (x1 + ux * size * 0.6, y1 + uy * size * 0.6)
    left = (x1 - uy * size * 0.6, y1 + ux * size * 0.6)
    right = (x1 + uy * size * 0.6, y1 - ux * size * 0.6)
    draw.polygon([tip, left, right], fill=ARROW)


def _track(j: Joints, what: str) -> Point:
    if what in j.ends:
        return j.ends[what]
    point: Point = getattr(j, what)
    return point


# Moves ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    pose: Pose
    accent: frozenset[str] = frozenset()
    hold_ms: int = HOLD_MS
    steps: int = STEPS  # in-between frames to the next key


@dataclass(frozen=True)
class Move:
    keys: tuple[Key, ...]  # the loop goes back from the last to the first
    track: str  # what the key frame's arrow follows: a limb ("near_arm") or "hip", "head"...


def key(pose: Pose, *accent: str, hold: int = HOLD_MS, steps: int = STEPS) -> Key:
    return Key(pose, frozenset(accent), hold, steps)


def via(pose: Pose, *accent: str) -> Key:
    """A pose passed through without stopping (a knee swinging under the body)."""
    return Key(pose, frozenset(accent), FRAME_MS, 3)


def move(track: str, *keys: Key) -> Move:
    return Move(tuple(keys), track)


def render_move(title: str, mv: Move) -> list[tuple[Image.Image, int]]:
    frames: list[tuple[Image.Image, int]] = []
    count = len(mv.keys)
    for index, here in enumerate(mv.keys):
        there = mv.keys[(index + 1) % count]
        accent = here.accent | there.accent
        for s in range(here.steps):
            t = s / here.steps
            eased = t * t * (3 - 2 * t)
            duration = here.hold_ms if s == 0 else FRAME_MS
            frames.append((frame(title, between(here.pose, there.pose, eased), accent), duration))
    return frames


def key_frame(title: str, mv: Move) -> Image.Image:
    last = 1
    while mv.keys[last].steps != STEPS or mv.keys[last].hold_ms == FRAME_MS:
        last += 1  # past the poses only passed through
    start, end = mv.keys[0], mv.keys[last]
    image = _scene(title, start.pose.props)
    draw = ImageDraw.Draw(image)
    draw_body(draw, build(start.pose), frozenset(), ghost=True)
    draw_body(draw, build(end.pose), start.accent | end.accent)
    path: list[Point] = []
    for here, there in zip(mv.keys[:last], mv.keys[1 : last + 1], strict=True):
        path += [_track(between(here.pose, there.pose, s / 10), mv.track) for s in range(10)]
    path.append(_track(build(end.pose), mv.track))
    if math.dist(path[0], path[-1]) > 8:
        _arrow(draw, path)
    return _finish(image)


def save_gif(frames: list[tuple[Image.Image, int]], target: Path) -> None:
    # One palette for every frame, so colours do not flicker from frame to frame.
    sheet = Image.new("RGB", (WIDTH, HEIGHT * len(frames)))
    for i, (img, _) in enumerate(frames):
        sheet.paste(img, (0, HEIGHT * i))
    palette = sheet.quantize(colors=48, method=Image.Quantize.MEDIANCUT)
    images = [img.quantize(palette=palette, dither=Image.Dither.NONE) for img, _ in frames]
    images[0].save(
        target,
        save_all=True,
        append_images=images[1:],
        duration=[d for _, d in frames],
        loop=0,
        optimize=True,
        disposal=1,
    )


# The poses -----------------------------------------------------------------------------------
# Heights: a torso lying on the mat has its centre line at BACK, a limb at LIMB, a hand at HAND.
BACK = FLOOR - TORSO_W / 2
LIMB = FLOOR - LIMB_W / 2
HAND = FLOOR - LIMB_W / 2 - 1.5

# On the back, head on the left, face up.
SUPINE = Pose(root=(290, BACK), lower=180, neck=174, front=-1)
# On the front, head on the left, face down.
PRONE = Pose(root=(290, BACK), lower=180, neck=186, front=1)


def supine(**kw: object) -> Pose:
    return replace(SUPINE, **kw)  # type: ignore[arg-type]


def prone(**kw: object) -> Pose:
    return replace(PRONE, **kw)  # type: ignore[arg-type]


# Lying on the back: arms along the sides, knees bent with the feet flat.
ARMS_BY_SIDES = {"near_arm": (-2.0, -1.0), "far_arm": (-2.0, -1.0)}
KNEES_BENT = {"near_leg": To(356, LIMB, 1), "far_leg": To(362, LIMB, 1)}
FLAT_FOOT = {"near_foot": 0.0, "far_foot": 0.0}
LEGS_FLAT = {"near_leg": (-2.0, -2.0), "far_leg": (-2.0, -2.0)}


def straight_body(shoulder: Point, *, feet_y: float = LIMB - 2, **kw: object) -> Pose:
    """Face down, the shoulder given, a straight line through the hip to the feet on the floor."""
    reach = TORSO + THIGH + SHIN - 1
    feet = (shoulder[0] + math.sqrt(reach**2 - (feet_y - shoulder[1]) ** 2), feet_y)
    lower = angle_of(feet, shoulder)
    legs = {"near_leg": To(feet[0] - 3, feet[1], 1), "far_leg": To(feet[0] + 1, feet[1], 1)}
    base = prone(root=shoulder, root_joint="shoulder", lower=lower, neck=lower + 14, **legs)
    return replace(base, **kw)  # type: ignore[arg-type]


# High plank: hands under the shoulders, arms straight.
HIGH_SHOULDER = (176.0, HAND - UPPER_ARM - FOREARM + 1)


def high_plank(**kw: object) -> Pose:
    x, _ = HIGH_SHOULDER
    arms = {"near_arm": To(x - 2, HAND, -1), "far_arm": To(x + 2, HAND, -1)}
    return straight_body(HIGH_SHOULDER, **{**arms, **kw})


# Hands and knees (table top), back level, face down.
def all_fours(**kw: object) -> Pose:
    base = prone(
        root=(300, LIMB - THIGH),
        lower=166,
        neck=215,
        near_arm=To(200, HAND, -1),
        far_arm=To(204, HAND, -1),
        near_leg=(-90.0, 0.0),
        far_leg=(-86.0, 0.0),
        near_foot=-5.0,
        far_foot=-5.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _dead_bug() -> dict[str, Move]:
    start = supine(
        near_arm=(88.0, 88.0),
        far_arm=(92.0, 92.0),
        near_leg=(88.0, -2.0),
        far_leg=(92.0, 2.0),
        near_foot=90.0,
        far_foot=90.0,
    )
    a = replace(start, near_arm=(172.0, 172.0), far_leg=(8.0, 6.0), far_foot=80.0)
    b = replace(start, far_arm=(172.0, 172.0), near_leg=(8.0, 6.0), near_foot=80.0)
    taps_a = replace(start, near_leg=To(350, LIMB - 3, 1), near_foot=60.0)
    taps_b = replace(start, far_leg=To(354, LIMB - 3, 1), far_foot=60.0)
    straight = replace(
        start, near_leg=(88.0, 88.0), far_leg=(92.0, 92.0), near_foot=180.0, far_foot=180.0
    )
    sa = replace(straight, near_arm=(172.0, 172.0), far_leg=(8.0, 8.0), far_foot=90.0)
    sb = replace(straight, far_arm=(172.0, 172.0), near_leg=(8.0, 8.0), near_foot=90.0)
    return {
        "": move(
            "near_arm",
            key(start),
            key(a, "near_arm", "far_leg"),
            key(start),
            key(b, "far_arm", "near_leg"),
        ),
        "easier": move(
            "near_leg", key(start), key(taps_a, "near_leg"), key(start), key(taps_b, "far_leg")
        ),
        "harder": move(
            "far_leg",
            key(straight),
            key(sa, "near_arm", "far_leg"),
            key(straight),
            key(sb, "far_arm", "near_leg"),
        ),
    }


def _bird_dog() -> dict[str, Move]:
    start = all_fours()
    reach_a = replace(start, near_arm=(166.0, 166.0), far_leg=(4.0, 4.0), far_foot=-80.0)
    reach_b = replace(start, far_arm=(166.0, 166.0), near_leg=(4.0, 4.0), near_foot=-80.0)
    arm_only = replace(start, near_arm=(166.0, 166.0))
    leg_only = replace(start, far_leg=(4.0, 4.0), far_foot=-80.0)
    tuck = replace(start, near_arm=(-70.0, 10.0), far_leg=(200.0, -75.0), far_foot=-160.0)
    return {
        "": move(
            "near_arm",
            key(start),
            key(reach_a, "near_arm", "far_leg"),
            key(start),
            key(reach_b, "far_arm", "near_leg"),
        ),
        "easier": move(
            "near_arm", key(start), key(arm_only, "near_arm"), key(start), key(leg_only, "far_leg")
        ),
        "harder": move(
            "near_arm",
            key(start),
            key(reach_a, "near_arm", "far_leg"),
            key(tuck, "near_arm", "far_leg"),
            key(reach_a, "near_arm", "far_leg"),
        ),
    }


def _plank() -> dict[str, Move]:
    # Forearms on the mat: the elbow under the shoulder, the forearm pointing ahead.
    shoulder = (176.0, LIMB - UPPER_ARM)
    forearms = {"near_arm": (-90.0, 180.0), "far_arm": (-88.0, 182.0)}
    plank = straight_body(shoulder, **forearms)

    def on_knees(hip_y: float) -> Pose:
        knee = (322.0, LIMB)
        hip = (knee[0] - math.sqrt(THIGH**2 - (knee[1] - hip_y) ** 2), hip_y)
        thigh = angle_of(hip, knee)
        return replace(
            plank,
            lower=angle_of(hip, shoulder),
            near_leg=(thigh, 0.0),
            far_leg=(thigh + 3, 3.0),
            near_foot=-5.0,
            far_foot=-5.0,
        )

    knees_down = on_knees(LIMB - 26)
    knee_plank = on_knees(LIMB - 40)
    lying = replace(
        knees_down, lower=angle_of((276, BACK), shoulder), near_leg=(-2.0, -2.0), far_leg=(0.0, 0.0)
    )
    lifted = replace(plank, near_leg=(4.0, 4.0))
    lifted_far = replace(plank, far_leg=(4.0, 4.0))
    return {
        "": move("hip", key(knees_down), key(plank, "torso", "near_leg", "far_leg", hold=1400)),
        "easier": move(
            "hip",
            key(lying),
            key(knee_plank, "torso", hold=1400),
        ),
        "harder": move(
            "near_leg", key(plank), key(lifted, "near_leg"), key(plank), key(lifted_far, "far_leg")
        ),
    }


def _side_plank() -> dict[str, Move]:
    # Seen from the front: the face turned to us, lying on the right side, top arm up.
    shoulder = (180.0, LIMB - UPPER_ARM)
    feet = (392.0, LIMB)
    line = angle_of(feet, shoulder)
    down = Pose(
        root=shoulder,
        root_joint="shoulder",
        lower=angle_of((282, BACK), shoulder),
        neck=line - 14,
        front=1,
        frontal=True,
        near_arm=(90.0, 90.0),
        far_arm=(-90.0, 200.0),
        near_leg=To(feet[0] - 2, feet[1] - 6, 1),
        far_leg=To(feet[0], feet[1], 1),
        near_foot=90.0,
        far_foot=90.0,
    )
    up = replace(down, lower=line, neck=line - 14)
    hip_down = build(down).hip
    thigh_down = -math.degrees(math.asin((LIMB - hip_down[1]) / THIGH))
    bent_down = replace(
        down,
        near_leg=(thigh_down + 6, 0.0),
        far_leg=(thigh_down, 0.0),
        near_foot=70.0,
        far_foot=70.0,
    )
    knee_line = -math.degrees(math.asin((LIMB - shoulder[1]) / (TORSO + THIGH)))
    bent_up = replace(
        bent_down,
        lower=knee_line + 180,
        neck=knee_line + 166,
        near_leg=(knee_line + 6, 0.0),
        far_leg=(knee_line, 0.0),
    )
    lift = replace(up, near_leg=(20.0, 20.0), near_foot=110.0)
    return {
        "": move("hip", key(down), key(up, "torso", hold=1400)),
        "easier": move("hip", key(bent_down), key(bent_up, "torso", hold=1400)),
        "harder": move("near_leg", key(up), key(lift, "near_leg")),
    }


def _glute_bridge() -> dict[str, Move]:
    lying = supine(root=(174, BACK), root_joint="shoulder", **ARMS_BY_SIDES, **KNEES_BENT)
    lying = replace(lying, **FLAT_FOOT)  # type: ignore[arg-type]
    arms = {"near_arm": To(250, HAND, 1), "far_arm": To(254, HAND, 1)}
    top = replace(lying, lower=208, upper=196, **arms)  # type: ignore[arg-type]
    half = replace(lying, lower=196, upper=188, **arms)  # type: ignore[arg-type]
    lying = replace(lying, **arms)  # type: ignore[arg-type]
    one_leg = replace(lying, far_leg=(40.0, 40.0), far_foot=120.0)
    one_top = replace(top, far_leg=(-12.0, -12.0), far_foot=70.0)
    return {
        "": move("hip", key(lying), key(top, "torso", hold=1200)),
        "easier": move("hip", key(lying), key(half, "torso", hold=1200)),
        "harder": move("hip", key(one_leg), key(one_top, "torso", "far_leg", hold=1200)),
    }


def _crunch() -> dict[str, Move]:
    hands = {"near_arm": To(168, 226, 1), "far_arm": To(172, 228, 1)}
    lying = supine(root=(290, BACK), **KNEES_BENT, **FLAT_FOOT)  # type: ignore[arg-type]
    lying = replace(lying, **hands)  # type: ignore[arg-type]
    lying = replace(lying, near_arm=(120.0, 200.0), far_arm=(124.0, 204.0))
    up = replace(lying, upper=148, neck=140, near_arm=(88.0, 168.0), far_arm=(92.0, 172.0))
    fwd = replace(lying, near_arm=(0.0, 0.0), far_arm=(4.0, 4.0))
    fwd_up = replace(up, near_arm=(-14.0, -8.0), far_arm=(-10.0, -4.0))
    table = replace(
        lying, near_leg=(88.0, -2.0), far_leg=(92.0, 2.0), near_foot=90.0, far_foot=90.0
    )
    table_up = replace(
        up, near_leg=(88.0, -2.0), far_leg=(92.0, 2.0), near_foot=90.0, far_foot=90.0
    )
    return {
        "": move("head", key(lying), key(up, "torso", hold=900)),
        "easier": move("head", key(fwd), key(fwd_up, "torso", "near_arm", "far_arm", hold=900)),
        "harder": move("head", key(table), key(table_up, "torso", hold=2000)),
    }


def _reverse_crunch() -> dict[str, Move]:
    base = supine(root=(186, BACK), root_joint="shoulder", **ARMS_BY_SIDES)
    base = replace(base, near_arm=To(250, HAND, 1), far_arm=To(254, HAND, 1))
    table = replace(base, near_leg=(88.0, -2.0), far_leg=(92.0, 2.0), near_foot=90.0, far_foot=90.0)
    curled = replace(table, lower=200, near_leg=(130.0, 40.0), far_leg=(134.0, 44.0))
    feet_down = replace(base, **KNEES_BENT, **FLAT_FOOT)  # type: ignore[arg-type]
    tucked = replace(
        base, near_leg=(125.0, 20.0), far_leg=(129.0, 24.0), near_foot=110.0, far_foot=110.0
    )
    long = replace(
        table, near_leg=(80.0, 40.0), far_leg=(84.0, 44.0), near_foot=120.0, far_foot=120.0
    )
    long_curled = replace(long, lower=200, near_leg=(120.0, 90.0), far_leg=(124.0, 94.0))
    legs = ("torso", "near_leg", "far_leg")
    return {
        "": move("near_leg", key(table), key(curled, *legs)),
        "easier": move("near_leg", key(feet_down), key(tucked, "near_leg", "far_leg")),
        "harder": move(
            "near_leg", key(long), key(long_curled, *legs, hold=300), key(long, hold=2200)
        ),
    }


def _hollow_hold() -> dict[str, Move]:
    flat = supine(
        near_arm=(178.0, 178.0),
        far_arm=(182.0, 182.0),
        **LEGS_FLAT,
        near_foot=60.0,
        far_foot=60.0,
    )
    flat = replace(flat, root=(270, BACK))
    hollow = replace(
        flat,
        upper=160,
        neck=150,
        near_arm=(160.0, 162.0),
        far_arm=(164.0, 166.0),
        near_leg=(18.0, 18.0),
        far_leg=(22.0, 22.0),
    )
    everything = ("torso", "near_arm", "far_arm", "near_leg", "far_leg")
    tuck_flat = replace(flat, **ARMS_BY_SIDES, **KNEES_BENT, **FLAT_FOOT)  # type: ignore[arg-type]
    tuck = replace(
        tuck_flat,
        upper=160,
        neck=150,
        near_arm=(8.0, 8.0),
        far_arm=(12.0, 12.0),
        near_leg=(60.0, -10.0),
        far_leg=(64.0, -6.0),
        near_foot=60.0,
        far_foot=60.0,
    )

    def rocked(delta: float, lift: float) -> Pose:
        a1, a2 = hollow.near_arm  # type: ignore[misc]
        b1, b2 = hollow.far_arm  # type: ignore[misc]
        c1, c2 = hollow.near_leg  # type: ignore[misc]
        d1, d2 = hollow.far_leg  # type: ignore[misc]
        return replace(
            hollow,
            root=(270, BACK - lift),
            lower=180 + delta,
            upper=160 + delta,
            neck=150 + delta,
            near_arm=(a1 + delta, a2 + delta),
            far_arm=(b1 + delta, b2 + delta),
            near_leg=(c1 + delta, c2 + delta),
            far_leg=(d1 + delta, d2 + delta),
        )

    return {
        "": move("near_leg", key(flat), key(hollow, *everything, hold=1400)),
        "easier": move("near_leg", key(tuck_flat), key(tuck, *everything, hold=1400)),
        "harder": move(
            "near_leg",
            key(hollow, *everything, hold=300),
            key(rocked(-12, 4), *everything, hold=200),
            key(hollow, *everything, hold=100),
            key(rocked(10, 2), *everything, hold=200),
        ),
    }


def _superman() -> dict[str, Move]:
    flat = prone(near_arm=(178.0, 178.0), far_arm=(182.0, 182.0), **LEGS_FLAT)
    flat = replace(flat, root=(270, BACK), near_foot=-60.0, far_foot=-60.0)
    up = replace(
        flat,
        upper=156,
        neck=168,
        near_arm=(150.0, 152.0),
        far_arm=(154.0, 156.0),
        near_leg=(14.0, 14.0),
        far_leg=(18.0, 18.0),
        near_foot=-60.0,
        far_foot=-60.0,
    )
    everything = ("torso", "near_arm", "far_arm", "near_leg", "far_leg")
    alt_a = replace(flat, neck=182, near_arm=(166.0, 166.0), far_leg=(14.0, 14.0), far_foot=-60.0)
    alt_b = replace(flat, neck=182, far_arm=(166.0, 166.0), near_leg=(14.0, 14.0), near_foot=-60.0)
    pull = replace(up, near_arm=(-40.0, 170.0), far_arm=(-36.0, 174.0))
    return {
        "": move("near_arm", key(flat), key(up, *everything, hold=1400)),
        "easier": move(
            "near_arm",
            key(flat),
            key(alt_a, "near_arm", "far_leg"),
            key(flat),
            key(alt_b, "far_arm", "near_leg"),
        ),
        "harder": move(
            "near_arm",
            key(flat),
            key(up, *everything),
            key(pull, "near_arm", "far_arm"),
            key(up, *everything),
        ),
    }


def _mountain_climbers() -> dict[str, Move]:
    start = high_plank()
    piked = replace(start, lower=start.lower + 8)
    drive_a = replace(piked, near_leg=(210.0, -40.0), near_foot=-110.0)
    drive_b = replace(piked, far_leg=(210.0, -40.0), far_foot=-110.0)
    swing_a = replace(piked, near_leg=(-80.0, 15.0), near_foot=-60.0)
    swing_b = replace(piked, far_leg=(-80.0, 15.0), far_foot=-60.0)
    bench = ((110.0, 206.0, 196.0, FLOOR),)
    incline = straight_body(
        (160.0, 206 - UPPER_ARM - FOREARM + 2),
        near_arm=To(156, 201, -1),
        far_arm=To(160, 201, -1),
        props=bench,
    )
    inc_a = replace(incline, near_leg=(200.0, -50.0), near_foot=-120.0)
    inc_b = replace(incline, far_leg=(200.0, -50.0), far_foot=-120.0)
    inc_swing_a = replace(incline, near_leg=(-80.0, 15.0), near_foot=-60.0)
    inc_swing_b = replace(incline, far_leg=(-80.0, 15.0), far_foot=-60.0)
    cross_a = replace(piked, near_leg=(216.0, -30.0), near_foot=-100.0)
    cross_b = replace(piked, far_leg=(216.0, -30.0), far_foot=-100.0)

    def climb(
        rest: Pose, a: tuple[Pose, Pose], b: tuple[Pose, Pose], hold: int = HOLD_MS // 2
    ) -> Move:
        return move(
            "near_leg",
            key(rest, hold=hold),
            via(a[0], "near_leg"),
            key(a[1], "near_leg", hold=hold),
            via(a[0], "near_leg"),
            key(rest, hold=hold),
            via(b[0], "far_leg"),
            key(b[1], "far_leg", hold=hold),
            via(b[0], "far_leg"),
        )

    return {
        "": climb(start, (swing_a, drive_a), (swing_b, drive_b)),
        "easier": climb(incline, (inc_swing_a, inc_a), (inc_swing_b, inc_b)),
        "harder": climb(start, (swing_a, cross_a), (swing_b, cross_b), hold=HOLD_MS),
    }


def _shoulder_taps() -> dict[str, Move]:
    start = high_plank()
    x, y = HIGH_SHOULDER
    tap_a = replace(start, near_arm=To(x + 6, y + 10, -1))
    tap_b = replace(start, far_arm=To(x + 8, y + 10, -1))
    knee = (300.0, LIMB)
    kneel = high_plank(
        lower=angle_of(step(knee, 118, THIGH), HIGH_SHOULDER),
        near_leg=(-62.0, 0.0),
        far_leg=(-60.0, 2.0),
        near_foot=-5.0,
        far_foot=-5.0,
    )
    ktap_a = replace(kneel, near_arm=To(x + 6, y + 10, -1))
    ktap_b = replace(kneel, far_arm=To(x + 8, y + 10, -1))
    narrow = start
    ntap_a, ntap_b = tap_a, tap_b
    return {
        "": move("near_arm", key(start), key(tap_a, "near_arm"), key(start), key(tap_b, "far_arm")),
        "easier": move(
            "near_arm", key(kneel), key(ktap_a, "near_arm"), key(kneel), key(ktap_b, "far_arm")
        ),
        "harder": move(
            "near_arm",
            key(narrow),
            key(ntap_a, "near_arm", hold=2000),
            key(narrow),
            key(ntap_b, "far_arm", hold=2000),
        ),
    }


def _bear_walk() -> dict[str, Move]:
    def bear(x: float, hands: tuple[float, float], feet: tuple[float, float]) -> Pose:
        return prone(
            root=(x, 194),
            lower=184,
            neck=206,
            near_arm=To(hands[0], HAND, -1),
            far_arm=To(hands[1], HAND, -1),
            near_leg=To(feet[0], LIMB - 2, -1),
            far_leg=To(feet[1], LIMB - 2, -1),
        )

    s0 = bear(300, (200, 204), (340, 344))
    half = bear(280, (166, 204), (340, 310))
    s1 = bear(260, (166, 170), (306, 310))
    kneeling = replace(
        s0,
        root=(300, LIMB - THIGH),
        lower=176,
        near_leg=(-90.0, 0.0),
        far_leg=(-87.0, 0.0),
        near_foot=180.0,
        far_foot=180.0,
    )
    hover = replace(
        kneeling, root=(300, LIMB - THIGH - 9), near_leg=(-90.0, -10.0), far_leg=(-87.0, -9.0)
    )
    return {
        "": move(
            "near_arm",
            key(s0, hold=300),
            key(half, "near_arm", "far_leg", hold=200),
            key(s1, "far_arm", "near_leg", hold=500),
            key(half, "far_arm", "near_leg", hold=200),
        ),
        "easier": move("hip", key(kneeling), key(hover, "near_leg", "far_leg", hold=1800)),
        "harder": move(
            "near_arm",
            key(s0, hold=1000),
            key(half, "near_arm", "far_leg", hold=1000),
            key(s1, "far_arm", "near_leg", hold=1000),
            key(half, "far_arm", "near_leg", hold=1000),
        ),
    }


MOVES: dict[str, dict[str, Move]] = {
    "bear_walk": _bear_walk(),
    "bird_dog": _bird_dog(),
    "crunch": _crunch(),
    "dead_bug": _dead_bug(),
    "glute_bridge": _glute_bridge(),
    "hollow_hold": _hollow_hold(),
    "mountain_climbers": _mountain_climbers(),
    "plank": _plank(),
    "reverse_crunch": _reverse_crunch(),
    "shoulder_taps": _shoulder_taps(),
    "side_plank": _side_plank(),
    "superman_hold": _superman(),
}


def _check(target: Path, limit: int) -> bool:
    size = target.stat().st_size
    print(f"{target.name}: {size / 1024:.0f} KB")
    if size > limit:
        print(f"{target.name}: over {limit // 1024} KB", file=sys.stderr)
        return False
    return True


def main(only: list[str]) -> int:
    ok = True
    for card_file in sorted(CARDS.glob("*.yaml")):
        card = yaml.safe_load(card_file.read_text(encoding="utf-8"))
        card_id = card["id"]
        if only and card_id not in only:
            continue
        moves = MOVES.get(card_id)
        if moves is None:
            print(f"{card_file.name}: no move defined in {Path(__file__).name}", file=sys.stderr)
            ok = False
            continue
        for slot in ("", "easier", "harder"):
            title = card["name"] if not slot else f"{slot.capitalize()}: {card[slot]['name']}"
            stem = card_id if not slot else f"{card_id}--{slot}"
            target = HERE / f"{stem}.gif"
            save_gif(render_move(title, moves[slot]), target)
            ok = _check(target, MAX_GIF_BYTES) and ok
        still = HERE / f"{card_id}.png"
        key_frame(card["name"], moves[""]).quantize(colors=64).save(still, optimize=True)
        ok = _check(still, MAX_PNG_BYTES) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
