"""The safety question before a core session, for people who chose not to keep their soreness
checks (session_gate.needs_screen says who): with nothing stored, the bot cannot know that a
check told them minutes ago to rest or to see a doctor, so it asks.

A dialog of its own ("session_screen") with one question and two buttons, its texts in
content/sessions/texts.yaml. Yes ends it with a refusal that repeats the advice; No hands back
to the session (sessions.py starts it); soreness typed here goes to the soreness check; anything
else asks again. The dialog holds only the session template (ScreenState; one question, so no
phase): the answer is never stored.

Asked whenever a new session begins (/session, a session:start button, Start over); resuming
an open session is not: it was asked when that session began, and a soreness check in the same
chat ends the open session anyway.
"""

from __future__ import annotations

from bot.content.session_schema import SessionTemplate
from bot.engine.context import DialogInput, TurnContext
from bot.engine.state_model import StateModel
from bot.engine.understanding import NO, YES, typed_yes_no
from handlers.sessions import views as session_views
from handlers.sessions.gate import typed_soreness

DIALOG = "session_screen"


class ScreenState(StateModel):
    template: str  # the session to start once the person answers No


def ask(ctx: TurnContext, template: SessionTemplate) -> None:
    ctx.start_dialog(DIALOG, ScreenState(template=template.id))
    _question(ctx)


def _question(ctx: TurnContext, lead: str | None = None) -> None:
    texts = ctx.content.sessions.texts
    text = f"{lead}\n\n{texts.screen_question}" if lead else texts.screen_question
    buttons = [[ctx.choice(texts.screen_yes, YES), ctx.choice(texts.screen_no, NO)]]
    ctx.say(text, buttons=buttons)


async def on_input(ctx: TurnContext, answer: DialogInput) -> SessionTemplate | None:
    """The template to start now that the person said No; None when the dialog is dealt with
    here (refused, asked again, or handed to the soreness check)."""
    sessions = ctx.content.sessions
    # A template removed since the question was asked: the default one, as /session would.
    template = sessions.templates.get(ctx.state(ScreenState).template, sessions.default)
    said = answer.choice or typed_yes_no(
        answer.text or "",
        ctx.content.language,
        yes_label=sessions.texts.screen_yes,
        no_label=sessions.texts.screen_no,
    )
    if said == NO:
        ctx.end_dialog()
        return template
    if said == YES:
        ctx.end_dialog()
        ctx.say(sessions.texts.screen_refused, buttons=session_views.check_again(ctx))
        return None
    soreness = typed_soreness(ctx, answer.text or "")
    if soreness is not None:
        ctx.end_dialog()
        await soreness(ctx)
        return None
    _question(ctx, lead=sessions.texts.unknown_input)
    return None
