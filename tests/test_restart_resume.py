"""A restart in the middle of every kind of dialog: a new process (new engine, router and
connection pool on the same database) takes the next message, and the dialog goes on from
where it was: the button of the last question is accepted, as if nothing had happened.

Parametrised over the dialog kinds registered at the time, so a new dialog without a start
recipe below shows up as a skip asking for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.engine.engine import FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON
from bot.engine.payloads import DIALOG_PREFIX
from tests.echo_dialog import dialog_rows
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock, Person

CLUB = "harriers"


@dataclass(frozen=True)
class Recipe:
    """How a person gets into the dialog: messages in order, each in "dm" or "club" (as a
    chat admin); the dialog lives where the last one was said. `answer` is typed to resume
    when the last question offers no dialog button."""

    steps: tuple[tuple[str, str], ...]
    answer: str | None = None


RECIPES: dict[str, Recipe] = {
    "triage": Recipe((("dm", "/sore"),)),
    "forget": Recipe((("dm", "/forget"),)),
    "session": Recipe((("dm", "/session"),)),
    # Declining to keep soreness checks (typed at the consent question) makes /session ask.
    "session_screen": Recipe((("dm", "/sore"), ("dm", "no"), ("dm", "/session"))),
    "remind": Recipe((("dm", "/remind"),), answer="Europe/Berlin"),
    "club_challenge": Recipe((("club", "/challenge new"),)),
    "club_broadcast": Recipe((("club", "/coach link"), ("dm", "/broadcast"))),
    # A typed run waits for Save / Fix / Undo.
    "training.run": Recipe((("dm", "ran 10k in 52 min, easy"),)),
}
KINDS = sorted(set(RECIPES) | set(build_router().dialogs))


def _person(bot: ChatHarness, where: str) -> Person:
    return bot.person("rita", group=CLUB, admin=True) if where == "club" else bot.person("rita")


def _bot(db: AsyncEngine, content: ContentBundle, clock: FakeClock, data: Path) -> ChatHarness:
    return ChatHarness(build_engine(db, content, data_dir=data, clock=clock))


@pytest.mark.parametrize("kind", KINDS)
async def test_the_next_message_after_a_restart_resumes_the_dialog(
    kind: str, db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    registered = build_router().dialogs
    if kind not in registered:
        pytest.skip(f"no handler registers the {kind!r} dialog yet")
    recipe = RECIPES.get(kind)
    if recipe is None:
        pytest.skip(f"dialog {kind!r} has no start recipe: add one to RECIPES in this file")

    before_restart = _bot(db, content, clock, tmp_path)
    person = _person(before_restart, "dm")
    for where, text in recipe.steps:
        person = _person(before_restart, where)
        await person.say(text)
    assert person.dialog == kind, f"the recipe did not open {kind!r}: {person.text()[:300]}"
    choices = [
        b.payload
        for r in (person.last_turn.replies if person.last_turn else [])
        for b in r.flat_buttons()
        if b.payload.startswith(DIALOG_PREFIX)
    ]
    [row] = await dialog_rows(db)

    await db.dispose()  # every pooled connection gone, as when the process dies
    after_restart = _bot(db, content, clock, tmp_path)
    assert after_restart.engine is not before_restart.engine
    resumed = _person(after_restart, "club" if person.group else "dm")
    if choices:
        await resumed.press_payload(choices[0])
    else:
        assert recipe.answer is not None, f"{kind!r} offers no button: give the recipe an answer"
        await resumed.say(recipe.answer)

    turn = resumed.last_turn
    assert turn is not None and turn.failure is None
    said = resumed.text()
    for refusal in (FOREIGN_BUTTON, OLD_BUTTON, UNKNOWN_BUTTON, content.texts.fallback):
        assert refusal not in said
    rows = await dialog_rows(db)
    if resumed.dialog == kind:
        [after] = rows
        # The answer was taken: the step moved on (or the handler began a new stage).
        assert (after["nonce"], after["step"]) != (row["nonce"], row["step"])
    else:
        assert all(r["kind"] != kind for r in rows)  # finished (or handed on) cleanly
