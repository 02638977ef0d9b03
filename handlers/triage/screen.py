"""The red-flag screen: every message, in every state of every conversation (before consent,
inside any feature's dialog, in groups), is read for warning signs before anything else.

A hit is answered at once with the matching advice from content (emergency now, or a doctor
today), then a button offers to go on with the soreness check. In a group the advice goes
privately and the group sees only a pointer that never names the symptom. Nothing about the
hit is logged or stored.
"""

from __future__ import annotations

from bot.content.language_schema import RedFlag
from bot.content.triage_schema import TriageTree
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from bot.engine.understanding import flags_said, understand
from handlers.triage.api import START_ACTION, START_ARG

SCREEN = "red_flags"
TRIAGE_DIALOG = "triage"


def screen_message(tree: TriageTree, flags: list[RedFlag]) -> tuple[str, str]:
    """(title, text) for the flags said, the most urgent first: each flag's own advice, then
    the steps and the seek-help line of the outcome its disposition maps to."""
    texts = tree.texts
    urgent = flags[0].disposition == "urgent"
    title = texts.screen_title_urgent if urgent else texts.screen_title_same_day
    outcome = tree.outcomes[
        texts.screen_outcome_urgent if urgent else texts.screen_outcome_same_day
    ]
    advice = "\n\n".join(dict.fromkeys(f.advice for f in flags))
    steps = "\n".join(f"• {s.text}" for s in outcome.steps if not s.when)
    parts = [
        advice,
        f"**{texts.run_today_heading}** {outcome.run_today}",
        f"**{texts.steps_heading}**\n{steps}",
        f"**{texts.seek_help_heading}:** {outcome.seek_help}",
        texts.screen_continue,
    ]
    return title, "\n\n".join(parts)


async def red_flag_screen(ctx: TurnContext, text: str) -> bool:
    language = ctx.content.language
    flags = flags_said(understand(text, language), language)
    if not flags:
        return False
    tree = ctx.content.triage
    if ctx.dialog is not None and ctx.dialog.kind == TRIAGE_DIALOG:
        ctx.end_dialog()  # the advice given is this check's result; the button starts afresh
    title, body = screen_message(tree, flags)
    label = tree.texts.screen_continue_button
    button = ctx.action(label, START_ACTION, START_ARG, private=ctx.in_group)
    if ctx.in_group:
        ctx.say(body, title=title, buttons=[[button]], intent=ReplyIntent.PRIVATE)
        ctx.say(tree.texts.screen_group_pointer)
    else:
        ctx.say(body, title=title, buttons=[[button]])
    return True
