"""Onboarding, help, cancel, and the answer to words nobody else understood."""

from __future__ import annotations

import re

from bot.content.bundle import ContentBundle
from bot.content.text import normalise
from bot.engine.context import TurnContext
from bot.engine.understanding import understand

_HELP_WORDS = re.compile(r"^(help|menu|commands|what can you do|hi|hello|hey|start)$")


def asks_for_help(text: str, _content: ContentBundle) -> bool:
    return bool(_HELP_WORDS.match(normalise(text)))


async def start(ctx: TurnContext) -> None:
    ctx.say(
        ctx.content.texts.welcome,
        buttons=[[ctx.action("Exercise cards", "cards"), ctx.action("Help", "help")]],
    )


async def help_command(ctx: TurnContext) -> None:
    lines = [ctx.content.texts.help_intro, ""]
    for command in ctx.router.listed_commands():
        hint = f" {command.args_hint}" if command.args_hint else ""
        lines.append(f"/{command.name}{hint} — {command.help}")
    ctx.say("\n".join(lines))


async def cancel(ctx: TurnContext) -> None:
    if ctx.dialog is None:
        ctx.say("There's nothing to cancel. Type /help to see what I can do.")
        return
    ctx.end_dialog()
    ctx.say("Okay, I've stopped that conversation. Nothing else was changed.")


async def fallback(ctx: TurnContext) -> None:
    ctx.say(ctx.content.texts.fallback, buttons=[[ctx.action("Help", "help")]])


def is_small_talk(text: str, content: ContentBundle) -> bool:
    """Only thanks, a greeting, an "ok" or a goodbye (content/language/en/small_talk.yaml)."""
    return understand(text, content.language).small_talk is not None


async def small_talk(ctx: TurnContext) -> None:
    """A short friendly answer; in a group, silence (a club chat is full of "thanks")."""
    if ctx.in_group:
        return
    language = ctx.content.language
    kind = understand(ctx.event.text or "", language).small_talk
    reply = next((k.reply for k in language.small_talk.kinds if k.id == kind), None)
    if reply is not None:
        ctx.say(reply)
