"""/strava: connect (a single-use authorisation link), the settings of a connection, and
/strava disconnect. Nothing is read from Strava before the person connects explicitly."""

from __future__ import annotations

from sqlalchemy import select

from bot.engine.context import TurnContext
from bot.storage.models import Chat
from handlers.strava import store
from handlers.strava.gateway import authorize_url
from handlers.strava.setup import current

ACTION = "strava"  # strava:connect.public|connect.private|sports|checkins|disconnect
CONNECT_PUBLIC, CONNECT_PRIVATE = "connect.public", "connect.private"
SPORTS, CHECKINS, DISCONNECT = "sports", "checkins", "disconnect"


async def strava_command(ctx: TurnContext) -> None:
    texts = ctx.content.strava
    if current() is None:
        ctx.say(texts.not_configured)
        return
    word = ctx.event.args.strip().casefold()
    if word == DISCONNECT:
        await disconnect(ctx)
        return
    if word == "private":
        await _send_link(ctx, private_runs=True)
        return
    await _show(ctx)


async def _show(ctx: TurnContext) -> None:
    texts = ctx.content.strava
    conn = await store.connection_of(ctx.session, ctx.user.id)
    if conn is None:
        ctx.say(
            texts.ask_scope,
            buttons=[
                [
                    ctx.action(texts.public_button, ACTION, CONNECT_PUBLIC),
                    ctx.action(texts.private_button, ACTION, CONNECT_PRIVATE),
                ]
            ],
        )
        return
    ctx.say(
        texts.status.format(
            summary="\n".join(
                (
                    texts.all_sports_on if conn.all_sports else texts.all_sports_off,
                    texts.checkins_on if conn.checkins else texts.checkins_off,
                )
            )
        ),
        buttons=[
            [
                ctx.action(
                    texts.sports_button_off if conn.all_sports else texts.sports_button_on,
                    ACTION,
                    SPORTS,
                ),
                ctx.action(
                    texts.checkins_button_off if conn.checkins else texts.checkins_button_on,
                    ACTION,
                    CHECKINS,
                ),
            ],
            [ctx.action(texts.disconnect_button, ACTION, DISCONNECT)],
        ],
    )


async def _send_link(ctx: TurnContext, *, private_runs: bool) -> None:
    setup = current()
    if setup is None:
        ctx.say(ctx.content.strava.not_configured)
        return
    if await store.connection_of(ctx.session, ctx.user.id) is not None:
        await _show(ctx)
        return
    home = await _private_chat(ctx)
    if home is None:
        ctx.say(ctx.content.strava.private_only)
        return
    state = await store.new_state(
        ctx.session, ctx.user.id, home, private_runs=private_runs, now=ctx.now
    )
    url = authorize_url(setup, state, private_runs=private_runs)
    ctx.say(f"{ctx.content.strava.link}\n\n{url}")


async def _private_chat(ctx: TurnContext) -> int | None:
    """Where the confirmation and after-run questions go: the person's private chat, never a
    group (asked in one, the private chat they already have with the bot, if any)."""
    if not ctx.in_group:
        return ctx.chat.id
    found = await ctx.session.scalar(
        select(Chat.id).where(
            Chat.private_user_id == ctx.user.id, Chat.platform == ctx.user.platform
        )
    )
    return int(found) if found is not None else None


async def disconnect(ctx: TurnContext) -> None:
    """Delete the tokens now; deauthorising at Strava is a job, so it happens even if Strava
    is down this minute (the job keeps the sealed access token until then)."""
    texts = ctx.content.strava
    conn = await store.connection_of(ctx.session, ctx.user.id)
    if conn is None:
        ctx.say(texts.not_connected)
        return
    store.add_job(ctx.session, conn.athlete_id, store.REVOKE, ctx.now, token=conn.access_token)
    await ctx.session.delete(conn)
    ctx.say(texts.disconnected)


async def revoke_before_forget(ctx: TurnContext) -> None:
    """/forget: the grant at Strava goes too. The revoke job names the athlete, not the
    person, so it outlives the erased rows and deauthorises even if Strava is down now."""
    conn = await store.connection_of(ctx.session, ctx.user.id)
    if conn is not None:
        store.add_job(ctx.session, conn.athlete_id, store.REVOKE, ctx.now, token=conn.access_token)


async def button(ctx: TurnContext) -> None:
    texts = ctx.content.strava
    choice = ctx.action_arg
    if choice in (CONNECT_PUBLIC, CONNECT_PRIVATE):
        await _send_link(ctx, private_runs=choice == CONNECT_PRIVATE)
        return
    if choice == DISCONNECT:
        await disconnect(ctx)
        return
    conn = await store.connection_of(ctx.session, ctx.user.id)
    if conn is None:
        ctx.say(texts.not_connected)
        return
    if choice == SPORTS:
        conn.all_sports = not conn.all_sports
    elif choice == CHECKINS:
        conn.checkins = not conn.checkins
    else:
        ctx.say(texts.not_yours)
        return
    ctx.say(texts.settings_saved)
    await _show(ctx)
