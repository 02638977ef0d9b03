"""/timezone: each person's IANA time zone, so reminders and quiet hours follow their clock."""

from __future__ import annotations

from bot.content.plural import fill
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Button
from handlers.reminders import rules
from handlers.reminders import zones as timezones
from handlers.reminders.setup_state import SetupState, Stage

ACTION = "tz"
# The choice the reminder set-up receives when a zone is set while it waits at Stage.TZ.
ZONE_SET = "tz_set"
_PER_ROW = 3


def zone_buttons(ctx: TurnContext) -> list[list[Button]]:
    buttons = [
        ctx.action(label, ACTION, timezones.to_payload_arg(zone))
        for label, zone in timezones.COMMON_ZONES
    ]
    return [buttons[i : i + _PER_ROW] for i in range(0, len(buttons), _PER_ROW)]


def ask_for_zone(ctx: TurnContext, lead: str) -> None:
    ctx.say(f"{lead}\n\n{ctx.content.reminders.timezone_help}", buttons=zone_buttons(ctx))


async def set_zone_from_text(ctx: TurnContext, text: str) -> bool:
    """Resolve what the person typed; set it, or explain and suggest. True if set."""
    guess = timezones.resolve(text)
    if guess.zone is not None:
        await apply_zone(ctx, guess.zone, offset=guess.note == "offset")
        return True
    shown = " ".join(text.split())[:40]
    if guess.suggestions:
        ctx.say(
            f"I don't know the time zone “{shown}”. Did you mean one of these? "
            "Nothing was changed.",
            buttons=[
                [
                    ctx.action(zone, ACTION, timezones.to_payload_arg(zone))
                    for zone in guess.suggestions
                ]
            ],
        )
    elif guess.note == "offset":
        ask_for_zone(
            ctx,
            f"I can only use whole-hour offsets like UTC+2, so I left “{shown}” unset. "
            "Your city's zone works best.",
        )
    else:
        ask_for_zone(ctx, f"I don't know the time zone “{shown}”. Nothing was changed.")
    return False


async def apply_zone(ctx: TurnContext, zone: str, *, offset: bool = False) -> None:
    moved = await rules.follow_timezone(ctx.session, ctx.user, zone, ctx.now)
    lines = [f"Time zone set: {timezones.describe(zone, ctx.now)}."]
    if offset:
        lines.append("A fixed offset doesn't follow daylight saving; a city's zone would.")
    if moved:
        lines.append(fill(ctx.content.reminders.zone_moved, count=moved))
    ctx.say(" ".join(lines))
    waiting = ctx.find_state(SetupState)
    if waiting is not None and waiting.stage == Stage.TZ:
        await ctx.continue_dialog(DialogInput(choice=ZONE_SET))


async def timezone_command(ctx: TurnContext) -> None:
    if ctx.in_group:
        ctx.say(
            "Time zones are personal, so let's set yours in a private chat.",
            buttons=[[ctx.action("Set my time zone", ACTION, private=True)]],
        )
        return
    query = ctx.event.args.strip()
    if query:
        await set_zone_from_text(ctx, query)
        return
    current = ctx.user.timezone
    lead = (
        f"Your time zone is {timezones.describe(current, ctx.now)}. Pick another to change it."
        if current
        else "Which time zone are you in? Reminders then arrive at your local time, and I "
        "stay quiet at night."
    )
    ask_for_zone(ctx, lead)


async def zone_button(ctx: TurnContext) -> None:
    if not ctx.action_arg:
        await timezone_command(ctx)
        return
    zone = timezones.from_payload_arg(ctx.action_arg)
    if not timezones.is_valid(zone):
        ask_for_zone(ctx, "That time zone button is out of date. Nothing was changed.")
        return
    await apply_zone(ctx, zone)
