"""Guided core sessions: /session (and the `session:start` button of reminders and soreness
results), and /level. The session itself runs in handlers/session_runner.py, after the safety
question of handlers/session_screen.py for people who keep no soreness checks."""

from __future__ import annotations

from bot.content.plural import fill
from bot.content.session_schema import SessionTemplate
from bot.content.text import normalise
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import ReplyIntent
from handlers.sessions import runner as session_runner
from handlers.sessions import safety_screen as session_screen
from handlers.sessions.api import SESSION_ACTION as ACTION
from handlers.sessions.runner import as_level

LEVEL_ACTION = "level"


async def session_command(ctx: TurnContext) -> None:
    sessions = ctx.content.sessions
    query = normalise(ctx.event.args)
    template = sessions.default
    if query:
        found = _find_template(ctx, query)
        if found is None:
            names = ", ".join(f"**{t.id}** ({t.summary})" for t in sessions.templates.values())
            ctx.say(f"I don't know that kind of session. I have: {names}")
            return
        template = found
    await _start(ctx, template)


async def session_button(ctx: TurnContext) -> None:
    """Reminders, soreness results and the group pointer. A press in a group reaches us where
    the platform answers privately (Discord ephemeral); Telegram's deep link opens a private
    chat first. Either way the replies go to the person only."""
    await _open_or_begin(ctx, ctx.content.sessions.default)
    private_in_group(ctx)


async def on_input(ctx: TurnContext, answer: DialogInput) -> None:
    await session_runner.on_input(ctx, answer)
    private_in_group(ctx)


async def on_screen_answer(ctx: TurnContext, answer: DialogInput) -> None:
    """The safety question before a session (session_screen): No starts the session."""
    template = await session_screen.on_input(ctx, answer)
    if template is not None:
        await session_runner.begin(ctx, template, screened=True)
    private_in_group(ctx)


def private_in_group(ctx: TurnContext) -> None:
    """Level, soreness and the log are personal: never shown to a whole group."""
    if ctx.in_group:
        for reply in ctx.replies:
            reply.intent = ReplyIntent.PRIVATE


async def _start(ctx: TurnContext, template: SessionTemplate) -> None:
    texts = ctx.content.sessions.texts
    if ctx.in_group:
        ctx.say(
            texts.group_redirect,
            buttons=[[ctx.action(texts.group_button, ACTION, "start", private=True)]],
        )
        return
    await _open_or_begin(ctx, template)


async def _open_or_begin(ctx: TurnContext, template: SessionTemplate) -> None:
    open_state = session_runner.open_state(ctx)
    if open_state is not None and open_state.started_at is not None:
        await session_runner.offer_open(ctx, open_state)
        return
    await session_runner.begin(ctx, template)


def _find_template(ctx: TurnContext, query: str) -> SessionTemplate | None:
    for template in ctx.content.sessions.templates.values():
        if query in (normalise(template.id), normalise(template.name)):
            return template
    return None


async def level_command(ctx: TurnContext) -> None:
    texts = ctx.content.sessions.texts
    level = as_level(ctx.user.level)
    lead = (
        fill(texts.level_current, level=texts.levels[level].label.casefold())
        if level
        else texts.level_unset
    )
    lines = [lead, ""]
    lines += [f"**{text.label}:** {text.description}" for text in texts.levels.values()]
    buttons = [
        [ctx.action(text.label, LEVEL_ACTION, key)]
        for key, text in texts.levels.items()
        if key != level
    ]
    ctx.say("\n".join(lines), buttons=buttons)
    private_in_group(ctx)


async def level_button(ctx: TurnContext) -> None:
    texts = ctx.content.sessions.texts
    level = as_level(ctx.action_arg)
    if level is None:
        await level_command(ctx)  # an old or forged button: show the real choices
        return
    ctx.user.level = level
    ctx.say(
        fill(texts.level_set, level=texts.levels[level].label.casefold()),
        buttons=[[ctx.action("Start a session", ACTION, "start")]],
    )
    private_in_group(ctx)
