"""Fuzzing the whole engine with the shipped router: random unicode, empty and 100 KB
messages, control characters, markdown/HTML injection, random and forged button payloads,
real buttons pressed late or twice, commands with absurd arguments, time jumps, in random
order, from several people in private and group chats.

After every input: no handler crashed (the engine would have answered SOMETHING_WRONG), the
database was never "unavailable", every input was answered (plain chatter in a group may be
deliberately ignored), every offered button is one the engine can route, no reply echoes a
huge message back; after every script, each stored dialog is of a registered kind, with a
well-formed nonce and JSON data that its kind's state model reads.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.engine import payloads
from bot.engine.commands import parse_command
from bot.engine.engine import SOMETHING_WRONG, TRY_AGAIN, Engine, Turn
from bot.engine.events import Actor, Inbound, Place
from bot.engine.router import Router
from bot.storage.db import make_engine, migrate
from bot.storage.models import DialogState
from tests.factory import build_engine
from tests.harness import FakeClock

PLATFORM = "fuzz"
PEOPLE = ("ann", "bob", "cy")
PLACES = (
    Place("dm:{who}", is_private=True),
    Place("group:harriers", is_private=False, title="Harriers"),
    Place("group:striders", is_private=False, thread_id="t1", title="Striders"),
)
# No reply may come close to echoing a 100 KB message (platforms cap messages at 2–4 KB).
MAX_REPLY = 8000
_NONCE = re.compile(r"[A-Za-z0-9_-]{8}")
_ROUTER = build_router()

INJECTIONS = [
    "",
    " ",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
    "\ufeff/start",
    "**bold",
    "<b>x</b>",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "`code` _i_ *b* ~s~ ||sp||",
    "&amp;&lt;&#0;",
    "\n\n\n",
    "🏃\u200d♀️" * 40,
    "'; DROP TABLE users; --",
    "%s%s%n{0}{{}}",
    "my abs are sore",
    "plank",
    "help",
    "yes",
    "stop",
    "7/10",
]
ABSURD_ARGS = [
    "",
    "99:99",
    "25:61 every 0 days",
    "-1",
    "0",
    "9" * 400,
    "mon,tue,wed,thu,fri,sat,sun,mon",
    "Europe/Nowhere",
    "../../etc/passwd",
    "@everyone",
    "\x00\x01\x02",
    "a" * 5000,
]


def _big(unit: str) -> str:
    return (unit * (100_000 // max(1, len(unit)) + 1))[:100_000]


texts = st.one_of(
    st.text(max_size=200),
    st.sampled_from(INJECTIONS),
    st.text(min_size=1, max_size=3).map(_big),
    st.sampled_from(["", "x"]).map(lambda s: s * 100_000),
)
command_names = st.one_of(
    st.sampled_from(sorted({*_ROUTER.commands, *_ROUTER.aliases})),
    st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
)
command_args = st.one_of(st.text(max_size=120), st.sampled_from(ABSURD_ARGS))
forged_payloads = st.one_of(
    st.text(max_size=90),
    st.from_regex(r"~[A-Za-z0-9_-]{8}\.[0-9]{1,6}\.[A-Za-z0-9_:+\-]{1,40}", fullmatch=True),
    st.builds(
        lambda name, arg: f"{name}:{arg}",
        st.sampled_from(sorted(_ROUTER.actions)),
        st.text(max_size=70),
    ),
)


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Command:
    name: str
    args: str


@dataclass(frozen=True)
class Press:
    pick: int  # which of the buttons offered so far in this chat (newest first, wrapping)


@dataclass(frozen=True)
class Forge:
    payload: str


@dataclass(frozen=True)
class Wait:
    minutes: int


moves = st.one_of(
    st.builds(Say, texts),
    st.builds(Command, command_names, command_args),
    st.builds(Press, st.integers(0, 50)),
    st.builds(Press, st.just(0)),  # the newest button: goes deep into dialogs
    st.builds(Forge, forged_payloads),
    st.builds(Wait, st.sampled_from([1, 45, 60 * 20, 60 * 24 * 3, 60 * 24 * 100])),
)
steps = st.tuples(st.sampled_from(PEOPLE), st.sampled_from(range(len(PLACES))), moves)


@dataclass
class World:
    engine: Engine
    router: Router
    clock: FakeClock
    # Every payload offered to a person in a chat, newest last.
    offered: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    turns: int = 0


def _event(who: str, where: int, move: Any, world: World) -> Inbound | None:
    place = PLACES[where]
    place = Place(place.chat_id.format(who=who), place.is_private, place.thread_id, place.title)
    actor = Actor(PLATFORM, who, display_name=who.title())
    if isinstance(move, Say):
        parsed = parse_command(move.text)
        if parsed:
            return Inbound(actor, place, text=move.text, command=parsed[0], args=parsed[1])
        return Inbound(actor, place, text=move.text)
    if isinstance(move, Command):
        text = f"/{move.name} {move.args}"
        # Adapters hand over lower-case names without "/"; a raw odd name is tested too.
        return Inbound(actor, place, text=text, command=move.name.casefold(), args=move.args)
    if isinstance(move, Press):
        offered = world.offered.get((who, where), [])
        if not offered:
            return None
        return Inbound(actor, place, payload=offered[-1 - move.pick % len(offered)])
    if isinstance(move, Forge):
        return Inbound(actor, place, payload=move.payload)
    return None


def _check_turn(event: Inbound, turn: Turn) -> None:
    texts = [r.text for r in turn.replies]
    assert turn.failure is None, f"{turn.failure} for {event.kind} {event.command or ''}"
    assert SOMETHING_WRONG not in texts, "a handler crashed"
    assert TRY_AGAIN not in texts
    chatter_in_group = event.kind == "text" and not event.place.is_private
    assert turn.replies or chatter_in_group, f"no answer to a {event.kind}"
    if turn.dialog is not None:
        assert turn.dialog in _ROUTER.dialogs
    for reply in turn.replies:
        assert isinstance(reply.text, str)
        assert reply.text.strip() or reply.image or reply.attachment, "an empty reply"
        assert len(reply.text) <= MAX_REPLY, f"a {len(reply.text)}-character reply"
        for button in reply.flat_buttons():
            assert payloads.parse(button.payload) is not None, button.payload


async def _play(world: World, script: list[tuple[str, int, Any]]) -> None:
    for who, where, move in script:
        if isinstance(move, Wait):
            world.clock.advance(minutes=move.minutes)
            continue
        event = _event(who, where, move, world)
        if event is None:
            continue
        turn = await world.engine.handle(event)
        world.turns += 1
        _check_turn(event, turn)
        offered = world.offered.setdefault((who, where), [])
        offered.extend(b.payload for r in turn.replies for b in r.flat_buttons())
    await _check_dialogs(world)


async def _check_dialogs(world: World) -> None:
    async with world.engine.sessions() as session:
        rows = list(await session.scalars(select(DialogState)))
    for row in rows:
        assert row.kind in world.router.dialogs, f"stored dialog of unknown kind {row.kind!r}"
        assert _NONCE.fullmatch(row.nonce), row.nonce
        assert row.step >= 0
        assert isinstance(row.data, dict)
        json.loads(json.dumps(row.data))  # plain JSON, nothing a restart could not read
        model = world.router.dialogs[row.kind].state
        if model is not None:
            model.model_validate(row.data)  # and in the shape its kind's model reads


def test_fuzzed_inputs_never_crash_or_corrupt_state(
    content: ContentBundle, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    loop = asyncio.new_event_loop()
    db = make_engine(f"sqlite+aiosqlite:///{folder / 'coach.db'}")
    loop.run_until_complete(migrate(db))
    clock = FakeClock()
    engine = build_engine(db, content, data_dir=folder, clock=clock)
    world = World(engine, engine.router, clock)

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(script=st.lists(steps, min_size=1, max_size=12))
    def run(script: list[tuple[str, int, Any]]) -> None:
        loop.run_until_complete(_play(world, script))

    try:
        run()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
    assert world.turns > 300  # the scripts really reached the engine
