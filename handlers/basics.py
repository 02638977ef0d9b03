"""Onboarding, help, privacy, cancel, and the answer to words nobody else understood."""

from __future__ import annotations

import re

from bot.content.bundle import ContentBundle
from bot.engine.context import TurnContext
from bot.engine.router import Router, normalise

_HELP_WORDS = re.compile(r"^(help|menu|commands|what can you do|hi|hello|hey|start)$")


def _asks_for_help(text: str, _content: ContentBundle) -> bool:
    return bool(_HELP_WORDS.match(normalise(text)))


def register(router: Router) -> None:
    @router.command("start", "Meet Core Coach")
    async def start(ctx: TurnContext) -> None:
        ctx.say(
            ctx.content.texts.welcome,
            buttons=[[ctx.action("Exercise cards", "cards"), ctx.action("Help", "help")]],
        )

    @router.command("help", "What I can do")
    async def help_command(ctx: TurnContext) -> None:
        lines = [ctx.content.texts.help_intro, ""]
        for command in router.listed_commands():
            hint = f" {command.args_hint}" if command.args_hint else ""
            lines.append(f"/{command.name}{hint} — {command.help}")
        ctx.say("\n".join(lines))

    router.action("help")(help_command)
    router.intent("help", _asks_for_help, priority=90)(help_command)

    @router.command("privacy", "What I store and why")
    async def privacy(ctx: TurnContext) -> None:
        ctx.say(ctx.content.texts.privacy)

    @router.command("cancel", "Leave the current conversation")
    async def cancel(ctx: TurnContext) -> None:
        if ctx.dialog is None:
            ctx.say("There's nothing to cancel. Type /help to see what I can do.")
            return
        ctx.end_dialog()
        ctx.say("Okay, I've stopped that conversation. Nothing else was changed.")

    @router.set_fallback
    async def fallback(ctx: TurnContext) -> None:
        ctx.say(ctx.content.texts.fallback, buttons=[[ctx.action("Help", "help")]])
