"""A tiny test-only dialog, so dialog mechanics are tested independently of any real feature.

`/echo` opens the "echo" dialog; every answer (a pressed colour or typed text) is appended to
`dialog.data["said"]` in place, so a nested change must reach the database; "stop" ends it;
typing "boom" changes the dialog and then raises, to prove the turn is rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.engine.context import DialogInput, TurnContext
from bot.engine.engine import Engine
from bot.engine.events import Button
from bot.engine.feature import Feature
from bot.engine.router import Router
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock


def _question(ctx: TurnContext, text: str) -> None:
    buttons: list[Button] = [
        ctx.choice("Red", "red"),
        ctx.choice("Blue", "blue"),
        ctx.choice("Stop", "stop"),
    ]
    ctx.say(text, buttons=[buttons])


class Rendezvous:
    """Holds each dialog turn until `parties` turns have arrived or `timeout` passed, so
    concurrent turns can be forced to overlap where they would otherwise run one by one."""

    def __init__(self, parties: int, timeout: float) -> None:
        self.parties = parties
        self.timeout = timeout
        self.arrived = 0
        self._all_here = asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self._all_here.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_here.wait(), self.timeout)


def echo_router(rendezvous: Rendezvous | None = None) -> Router:
    """The shipped router plus the echo dialog (a fresh Router each time)."""
    router = build_router()
    extra = Feature("echo")

    @extra.command("echo", "Test-only echo dialog")
    async def echo(ctx: TurnContext) -> None:
        ctx.start_dialog("echo", {"said": []})
        _question(ctx, "Echo started. Say something.")

    @extra.command("boom", "Test-only failing command", listed=False)
    async def boom(ctx: TurnContext) -> None:
        ctx.say("half a reply")
        raise RuntimeError("handler bug")

    @extra.dialog("echo")
    async def echo_turn(ctx: TurnContext, answer: DialogInput) -> None:
        assert ctx.dialog is not None
        if rendezvous is not None:
            await rendezvous.arrive()
        said = answer.choice if answer.choice is not None else answer.text
        if said == "stop":
            ctx.end_dialog()
            ctx.say("Echo stopped.")
            return
        ctx.dialog.data["said"].append(said)
        if said == "boom":
            raise RuntimeError("dialog bug")
        _question(ctx, f"Echo {len(ctx.dialog.data['said'])}: {said}")

    router.include(extra)
    return router


def echo_engine(
    db: AsyncEngine,
    content: ContentBundle,
    clock: FakeClock,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    rendezvous: Rendezvous | None = None,
) -> Engine:
    router = echo_router(rendezvous)
    return build_engine(sessions or db, content, router=router, clock=clock)


def echo_bot(db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> ChatHarness:
    return ChatHarness(echo_engine(db, content, clock))


_RAW_ROWS = text(
    "SELECT user_id, chat_id, thread_id, kind, nonce, step, CAST(data AS TEXT) AS data, "
    "CAST(updated_at AS TEXT) AS updated_at FROM dialog_states ORDER BY 1, 2, 3"
)


async def dialog_rows(db: AsyncEngine) -> list[dict[str, Any]]:
    """Every dialog_states row with every column as the database stores it (JSON and time as
    text), so "nothing changed" can be asserted exactly."""
    async with db.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(_RAW_ROWS)]


async def said(db: AsyncEngine) -> list[list[str]]:
    """The echo dialog's answers per stored row."""
    return [json.loads(row["data"])["said"] for row in await dialog_rows(db)]
