"""The club's weekly distance board, beside the challenge leaderboard: members who chose to be
on it (per club), each with their display name, distance and runs this week.

Opt-in per club (the Show / Take me off buttons under /board); taking yourself off deletes the
row. Only the training log's week totals and display names are read (through
handlers.training.api), never soreness checks or sessions, so no health data reaches a group.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from bot.storage.models import ClubBoardMember, User
from handlers.clubs.roles import require_club, safe_name
from handlers.training.api import distance_text, this_week_totals

ACTION = "board"  # board:join / board:leave, pressed in the club's group
JOIN, LEAVE = "join", "leave"
BOARD_ROWS = 15
BOARD_UNIT = "km"  # one unit for the whole club, so the board compares like with like


async def board_command(ctx: TurnContext) -> None:
    if not await require_club(ctx):
        return
    await _show(ctx)


async def _show(ctx: TurnContext) -> None:
    texts = ctx.content.clubs
    members = (
        await ctx.session.execute(
            select(User.id, User.display_name)
            .join(ClubBoardMember, ClubBoardMember.user_id == User.id)
            .where(ClubBoardMember.chat_id == ctx.chat.id)
        )
    ).all()
    totals = await this_week_totals(ctx.session, [uid for uid, _ in members], ctx.now)
    ranked = sorted(
        members, key=lambda m: (-(totals[m[0]].distance_m if m[0] in totals else 0), m[1])
    )
    buttons = [
        [
            ctx.action(texts.board_join_button, ACTION, JOIN),
            ctx.action(texts.board_leave_button, ACTION, LEAVE),
        ]
    ]
    if not ranked:
        ctx.say(texts.board_empty, buttons=buttons)
        return
    lines = [texts.board_title]
    for rank, (uid, name) in enumerate(ranked[:BOARD_ROWS], start=1):
        week = totals.get(uid)
        lines.append(
            fill(
                texts.board_line,
                rank=rank,
                name=safe_name(name),
                distance=distance_text(week.distance_m if week else 0, BOARD_UNIT),
                runs=week.runs if week else 0,
            )
        )
    lines += ["", texts.board_note]
    ctx.say("\n".join(lines), buttons=buttons)


async def board_tap(ctx: TurnContext) -> None:
    """Join or leave this club's board: the buttons act for the person who presses them."""
    if not await require_club(ctx):
        return
    texts = ctx.content.clubs
    on_board = await ctx.session.get(ClubBoardMember, (ctx.chat.id, ctx.user.id)) is not None
    if ctx.action_arg == JOIN:
        if not on_board:
            ctx.session.add(ClubBoardMember(chat_id=ctx.chat.id, user_id=ctx.user.id))
        ctx.say(texts.board_joined, intent=ReplyIntent.PRIVATE)
    elif ctx.action_arg == LEAVE:
        await ctx.session.execute(
            delete(ClubBoardMember).where(
                ClubBoardMember.chat_id == ctx.chat.id, ClubBoardMember.user_id == ctx.user.id
            )
        )
        ctx.say(texts.board_left, intent=ReplyIntent.PRIVATE)
    else:
        await _show(ctx)
