"""Running the real Discord adapter (discord.py client + engine + database) against FakeDiscord.

`running(fake, engine)` starts a DiscordBot for real (login, zlib gateway, setup_hook) and
closes it afterwards; `Clubhouse` is a small world (one guild, a channel, members with and
without Manage Server, a coach-role holder); `act()` dispatches one interaction and returns
every request the bot made in answer, once the bot is idle again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from bot.adapters.discord.client import DiscordBot
from bot.adapters.discord.countdown import Countdowns
from bot.adapters.discord.render import PRIVATE_MARK
from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.content.triage_schema import BACK, TriageTree
from bot.engine.context import TurnContext
from bot.engine.engine import Engine
from bot.engine.events import ReplyIntent
from bot.engine.feature import Feature
from bot.engine.router import Router
from handlers.triage import flow as triage_flow
from tests import triage_driver
from tests.fakes.discord_api import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeUser,
    MessageFlag,
    Perm,
    RecordedRequest,
)
from tests.manual_clock import ManualClock

Json = dict[str, Any]
COACH_ROLE = "Coach"


@dataclass
class Clubhouse:
    guild: FakeGuild
    general: FakeChannel
    alice: FakeUser  # a member
    bob: FakeUser  # a member
    admin: FakeUser  # Manage Server
    coach: FakeUser  # holds the configured coach role, no admin permissions


def clubhouse(fake: FakeDiscord) -> Clubhouse:
    guild = fake.add_guild("Harriers")
    general = guild.add_text_channel("general")
    alice, bob, admin, coach = (fake.add_user(n) for n in ("alice", "bob", "admin", "coach"))
    guild.add_member(alice)
    guild.add_member(bob)
    guild.add_member(admin, roles=[guild.add_role("Committee", Perm.MANAGE_GUILD)])
    guild.add_member(coach, roles=[guild.add_role(COACH_ROLE, 0)])
    return Clubhouse(guild, general, alice, bob, admin, coach)


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, engine: Engine, **options: Any) -> AsyncIterator[DiscordBot]:
    options.setdefault("coach_role", COACH_ROLE)
    # Countdowns tick only when a test moves their clock: none edits a message behind its back.
    options.setdefault("countdowns", Countdowns(clock=ManualClock()))
    bot = DiscordBot(engine, guild_ready_timeout=0.05, **options)
    task = asyncio.create_task(bot.start(fake.token))
    ready = asyncio.create_task(bot.ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=3, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()
        assert ready in done, "the bot never reached on_ready"
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        await asyncio.wait_for(task, timeout=3)


async def act(fake: FakeDiscord, bot: DiscordBot, payload: Json) -> list[RecordedRequest]:
    """Dispatch an interaction; every successful request made in answer to it."""
    iid = await fake.dispatch_interaction(payload)
    await fake.wait_for_interaction_responses(iid, timeout=5)  # acknowledged: now in flight
    assert await bot.drain(5), "the bot did not finish answering"
    return fake.interaction_responses(iid)


def messages(fake: FakeDiscord, channel: FakeChannel) -> list[Json]:
    return fake.sent_messages(channel)


def is_ephemeral(message: Json) -> bool:
    return bool(int(message.get("flags") or 0) & MessageFlag.EPHEMERAL)


def text_of(message: Json) -> str:
    """Everything a reader sees in a message: content, embed titles and descriptions."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(p for p in parts if p)


def buttons(message: Json) -> Iterator[Json]:
    for row in message.get("components") or []:
        yield from row.get("components") or []


def find_button(
    fake: FakeDiscord, channel: FakeChannel, *, label: str | None = None, value: str | None = None
) -> tuple[int, str]:
    """(message id, custom_id) of the newest button with this label, or whose dialog choice
    (the end of an engine payload) is `value`."""
    for message in reversed(messages(fake, channel)):
        for button in buttons(message):
            custom_id = str(button["custom_id"])
            if (label is not None and button.get("label") == label) or (
                value is not None and custom_id.rsplit(".", 1)[-1] == value
            ):
                return int(message["id"]), custom_id
    raise AssertionError(f"no button {label or value!r} in #{channel.name or channel.id}")


async def press(
    fake: FakeDiscord,
    bot: DiscordBot,
    user: FakeUser,
    channel: FakeChannel,
    *,
    label: str | None = None,
    value: str | None = None,
) -> list[RecordedRequest]:
    message_id, custom_id = find_button(fake, channel, label=label, value=value)
    return await act(fake, bot, fake.button(user, channel, message_id, custom_id))


# A soreness check that ends in the "active" outcome (see tests/test_triage_dialog.py).
MILD = {**triage_driver.MILD, **triage_driver.DEFAULTS}


def choice_for(tree: TriageTree, custom_ids: list[str]) -> str:
    """Which offered value to press: identifies the question by its set of choices."""
    offered = {c.rsplit(".", 1)[-1] for c in custom_ids} - {BACK}
    if offered == {"yes", "no"} and not any(
        {o.value for o in q.options} == offered for q in tree.questions
    ):
        return "yes"  # the consent question
    for question in tree.questions:
        if {o.value for o in question.options} == offered:
            if question.id in MILD:
                return MILD[question.id]
            if question.kind == "red_flag":
                return next(o.value for o in question.options if not o.flag)
    raise AssertionError(f"unexpected choices {sorted(offered)}")


def mild_outcome(tree: TriageTree) -> str:
    """The outcome the engine's own tree walk reaches with the MILD answers (what the
    Discord conversation must end with)."""
    facts: dict[str, str] = {}
    step = triage_flow.first_step(tree)
    while isinstance(step, triage_flow.Ask):
        question = step.question
        values = [o.value for o in question.options]
        option = question.option(choice_for(tree, [f"~x.0.{v}" for v in values]))
        assert option is not None
        facts, step = triage_flow.answer(tree, question, option, facts)
    return step.outcome.title


def outcome_title(tree: TriageTree, message: Json) -> str | None:
    titles = {o.title for o in tree.outcomes.values()}
    return next((e["title"] for e in message.get("embeds") or [] if e.get("title") in titles), None)


async def walk_triage(
    fake: FakeDiscord,
    bot: DiscordBot,
    user: FakeUser,
    channel: FakeChannel,
    content: ContentBundle,
) -> Json:
    """Press the newest dialog buttons until an outcome appears; returns that message (an
    offer to check in later may follow it)."""
    tree = content.triage
    seen = 0
    for _ in range(30):
        latest = messages(fake, channel)[seen:]
        seen += len(latest)
        outcome = next((m for m in latest if outcome_title(tree, m)), None)
        if outcome is not None:
            return outcome
        asking = [m for m in latest if _dialog_ids(m)]
        assert asking, f"no dialog buttons on {[text_of(m)[:60] for m in latest]}"
        await press(fake, bot, user, channel, value=choice_for(tree, _dialog_ids(asking[-1])))
    raise AssertionError("no outcome after 30 presses")


def _dialog_ids(message: Json) -> list[str]:
    ids = [str(b["custom_id"]) for b in buttons(message)]
    return [c for c in ids if c.lstrip(PRIVATE_MARK).startswith("~")]


# --- a router with test-only commands beside the real ones --------------------------------

SLOW_SECONDS = 0.6
LONG_PARAGRAPH = "Keep your ribs down and breathe out slowly while you brace. " * 12  # ~720


def adapter_router() -> Router:
    """The real router plus commands that exercise the adapter's corners."""
    router = build_router()
    extra = Feature("adapter-test")

    @extra.command("clubpost", "Post news to the club (coaches)", coach_only=True)
    async def clubpost(ctx: TurnContext) -> None:
        ctx.say(
            "Club news: plank ladder this week!",
            buttons=[
                [
                    ctx.action("Flip", "flip"),
                    ctx.action("Flip for me", "flip", private=True),
                    ctx.action("Peek", "peek", private=True),
                ]
            ],
        )

    @extra.action("flip")
    async def flip(ctx: TurnContext) -> None:
        ctx.say(f"Flipped by {ctx.event.actor.display_name}", intent=ReplyIntent.EDIT)

    @extra.action("peek")
    async def peek(ctx: TurnContext) -> None:
        ctx.say(f"Peek for {ctx.event.actor.display_name}")

    @extra.command("slow", "Answer after a slow database")
    async def slow(ctx: TurnContext) -> None:
        await asyncio.sleep(SLOW_SECONDS)
        ctx.say("Thanks for waiting.")

    @extra.command("longread", "A very long text and a very long card")
    async def longread(ctx: TurnContext) -> None:
        text = "\n\n".join(f"{n}. {LONG_PARAGRAPH.strip()}" for n in range(1, 9))
        ctx.say(text)
        ctx.say(f"{text}\n\n{text}", title="The long card", buttons=[[ctx.action("Flip", "flip")]])

    @extra.command("hold", "A timed plank hold", args_hint="SECONDS")
    async def hold(ctx: TurnContext) -> None:
        reply = ctx.say("Plank: hold it!", buttons=[[ctx.action("Done", "flip")]])
        reply.countdown_seconds = int(ctx.event.args or "1")

    @extra.command("shout", "Say something with a mention in it")
    async def shout(ctx: TurnContext) -> None:
        ctx.say("@everyone time for **core** <@123456789012345678>")

    router.include(extra)
    return router
