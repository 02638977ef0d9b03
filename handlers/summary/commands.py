"""/summary: your week now, and turning the Sunday-evening summary on or off (also buttons)."""

from __future__ import annotations

from bot.engine.context import TurnContext
from bot.engine.events import Button
from handlers.summary import optin
from handlers.summary.message import compose

ACTION = "summary"  # summary:on / summary:off
ON, OFF = "on", "off"


def toggle_button(ctx: TurnContext, on: bool) -> Button:
    texts = ctx.content.training.texts
    if on:
        return ctx.action(texts.summary_off_button, ACTION, OFF)
    return ctx.action(texts.summary_on_button, ACTION, ON)


async def summary_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    arg = ctx.event.args.strip().casefold()
    if arg in (ON, OFF):
        await _switch(ctx, arg == ON)
    elif arg:
        ctx.say(texts.summary_help)
    else:
        await show(ctx)


async def show(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    summary = await compose(ctx.session, ctx.user, ctx.now, ctx.content, ctx.data_dir)
    on = await optin.is_on(ctx.session, ctx.user.id)
    status = texts.summary_status_on if on else texts.summary_status_off
    ctx.say(
        f"{summary.text}\n\n{status}",
        title=texts.summary_title,
        image=summary.image,
        buttons=[[toggle_button(ctx, on)]],
    )


async def summary_button(ctx: TurnContext) -> None:
    """The On / Off buttons: they act for the person who presses them."""
    if ctx.action_arg in (ON, OFF):
        await _switch(ctx, ctx.action_arg == ON)
    else:
        await show(ctx)


async def _switch(ctx: TurnContext, on: bool) -> None:
    texts = ctx.content.training.texts
    if on:
        await optin.turn_on(ctx.session, ctx.user.id, ctx.now)
    else:
        await optin.turn_off(ctx.session, ctx.user.id)
    ctx.say(texts.summary_on if on else texts.summary_off)
