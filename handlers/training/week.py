"""/week: this week's runs against last week, the acute:chronic ratio in words, and the
load warnings, each said once per week (remembered in training_prefs)."""

from __future__ import annotations

from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from handlers.training import store, views
from handlers.training.load import RATIO_LOW, Load


def _ratio_sentence(ctx: TurnContext, load: Load) -> str:
    texts = ctx.content.training.texts
    if load.ratio is None:
        return texts.ratio_none
    if load.ratio_high:
        meaning = texts.ratio_high
    elif load.ratio < RATIO_LOW:
        meaning = texts.ratio_low
    else:
        meaning = texts.ratio_ok
    return fill(texts.ratio_sentence, ratio=f"{load.ratio:.1f}", meaning=meaning)


async def load_warnings(ctx: TurnContext, load: Load | None = None) -> list[str]:
    """The warnings the load calls for that were not given yet this week (and remember them)."""
    texts = ctx.content.training.texts
    if load is None:
        load, _ = await store.load_for(ctx.session, ctx.user, ctx.now)
    if not (load.week_jump or load.ratio_high):
        return []
    prefs = await store.prefs(ctx.session, ctx.user.id)
    said = []
    if load.week_jump and prefs.week_warned_for != load.week_start:
        prefs.week_warned_for = load.week_start
        said.append(fill(texts.warn_week, pct=load.change_pct))
    if load.ratio_high and load.ratio is not None and prefs.ratio_warned_for != load.week_start:
        prefs.ratio_warned_for = load.week_start
        said.append(fill(texts.warn_ratio, ratio=f"{load.ratio:.1f}"))
    return said


async def week_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    load, _ = await store.load_for(ctx.session, ctx.user, ctx.now)
    unit = await store.units(ctx.session, ctx.user.id)
    last = views.distance(load.last_week_m, unit)
    if load.week_runs:
        lines = [
            fill(
                texts.week_line,
                runs=load.week_runs,
                distance=views.distance(load.week_m, unit),
                time=views.duration(load.week_s),
            )
        ]
    else:
        lines = [texts.week_empty]
    change = load.change_pct
    if change is None:
        lines.append(texts.week_change_none)
    elif change >= 5:
        lines.append(fill(texts.week_change_up, pct=change, last=last))
    elif change <= -5:
        lines.append(fill(texts.week_change_down, pct=-change, last=last))
    else:
        lines.append(fill(texts.week_change_same, last=last))
    lines.append(_ratio_sentence(ctx, load))
    lines += await load_warnings(ctx, load)
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    ctx.say("\n\n".join(lines), title=texts.week_title, intent=intent)
