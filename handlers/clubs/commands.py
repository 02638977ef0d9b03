"""Running clubs: /coach, /challenge, /leaderboard, /broadcast, the Join / Done today /
Resume / Stop buttons, and what happens when the bot leaves or rejoins a group.

Coach checks happen here, per command and per tap (handlers.club_roles.is_coach: a chat
admin, or a coach granted with /coach add). The same check is the router's coach_check, so a
`coach_only` command anywhere accepts exactly these coaches.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.bundle import ContentBundle
from bot.content.challenge_schema import ClubTexts
from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import Button, Reply, ReplyIntent
from bot.engine.payloads import action_payload
from bot.logsafe import hashed
from bot.storage.models import Challenge, Chat, CoachIdentity, User
from handlers.clubs import challenge_setup as club_challenge_setup
from handlers.clubs import challenges
from handlers.clubs.coach_link import (
    CODE_LIFETIME,
    club_label,
    ensure_identity,
    identity_of,
    link_club,
    linked_clubs,
    new_code,
    note_private_chat,
    private_chat_id,
    redeem,
    unlink_club,
)
from handlers.clubs.leaderboard import leaderboard_text, standings
from handlers.clubs.roles import (
    COACH,
    MEMBER,
    find_member,
    granted_coaches,
    granted_role,
    is_coach,
    require_club,
    require_coach,
    safe_name,
    set_role,
)
from scheduler import outbox

log = logging.getLogger("corecoach.clubs")

MAX_BOARDS = 3
RECENT = timedelta(days=7)  # /leaderboard after the end still shows last week's results


# --- /coach --------------------------------------------------------------------------------


async def coach_command(ctx: TurnContext) -> None:
    sub, _, rest = ctx.event.args.strip().partition(" ")
    sub, rest = sub.casefold(), rest.strip()
    if not ctx.in_group:
        # Whoever manages coaching privately is (or becomes) a coach account, and this chat
        # is where their private reports go.
        await ensure_identity(ctx)
    handler = {
        "add": _coach_add,
        "remove": _coach_remove,
        "list": _coach_list,
        "link": _coach_link,
        "unlink": _coach_unlink,
    }.get(sub)
    if handler is not None:
        await handler(ctx, rest)
        return
    texts = ctx.content.clubs
    lead = f"I don't know /coach {sub[:20]}.\n\n" if sub and sub != "help" else ""
    if ctx.in_group:
        await require_club(ctx)
        help_text = texts.coach_help if await is_coach(ctx) else texts.member_help
    else:
        help_text = texts.coach_help
    ctx.say(lead + help_text)


async def _person(ctx: TurnContext, name: str, verb: str) -> User | None:
    if not name:
        ctx.say(f"Who should I {verb}? Type their name, like /coach {verb} @bob.")
        return None
    found = await find_member(ctx.session, ctx.chat, name)
    shown = " ".join(name.split())[:40]
    if found.candidates:
        names = ", ".join(
            f"{safe_name(u.display_name)} (id {u.platform_user_id})" for u in found.candidates
        )
        ctx.say(
            f"More than one person here goes by “{shown}”: {names}. Please use their "
            "@username or the id. Nothing was changed."
        )
        return None
    if found.user is None:
        ctx.say(
            f"I haven't seen “{shown}” in this group yet. Ask them to send me any command "
            "here (for example /leaderboard), then try again. Nothing was changed."
        )
        return None
    return found.user


async def _coach_add(ctx: TurnContext, name: str) -> None:
    if not await require_coach(ctx):
        return
    person = await _person(ctx, name, "add")
    if person is None:
        return
    shown = safe_name(person.display_name)
    if await granted_role(ctx.session, ctx.chat, person) == COACH:
        ctx.say(f"{shown} is already a coach of this club.")
        return
    await set_role(ctx.session, ctx.chat, person, COACH, ctx.user, ctx.now)
    log.info("club.coach_added", extra={"chat": hashed(ctx.chat.platform_chat_id)})
    ctx.say(f"{shown} is now a coach of this club and can set challenges and use /coach.")


async def _coach_remove(ctx: TurnContext, name: str) -> None:
    if not await require_coach(ctx):
        return
    person = await _person(ctx, name, "remove")
    if person is None:
        return
    shown = safe_name(person.display_name)
    if await granted_role(ctx.session, ctx.chat, person) != COACH:
        ctx.say(
            f"{shown} has no coach role that a coach granted here, so there's nothing to take "
            "back. Group admins are coaches through their admin rights, which the group's "
            "settings control."
        )
        return
    await set_role(ctx.session, ctx.chat, person, MEMBER, ctx.user, ctx.now)
    ctx.say(
        f"{shown} is no longer a coach of this club (unless they are a group admin, which "
        "makes them one anyway)."
    )


async def _coach_list(ctx: TurnContext, _rest: str) -> None:
    if ctx.in_group:
        await require_club(ctx)
        coaches = await granted_coaches(ctx.session, ctx.chat)
        names = ", ".join(safe_name(u.display_name) for u in coaches)
        extra = f" Also coaching here: {names}." if names else ""
        ctx.say(f"The group's admins are coaches of this club.{extra}")
        return
    identity = await identity_of(ctx)
    clubs = await linked_clubs(ctx, identity.account_id) if identity else []
    if not clubs:
        ctx.say(ctx.content.clubs.broadcast_no_clubs)
        return
    lines = ["**Clubs linked to your coach account**"]
    lines += [
        f"• {club_label(c)}" + ("" if c.bot_is_member else " (I'm not in it at the moment)")
        for c in clubs
    ]
    ctx.say("\n".join(lines))


async def _coach_link(ctx: TurnContext, code: str) -> None:
    texts = ctx.content.clubs
    if code:
        if not ctx.in_group:
            ctx.say(
                "Type the code in the group chat of the club you want to link, not here. "
                "Nothing was changed."
            )
            return
        if not await require_coach(ctx):
            return
        redeemed = await redeem(ctx, code)
        if not redeemed.ok:
            ctx.say(redeemed.problem)
            return
        ctx.say(fill(texts.linked, club=safe_name(ctx.chat.title or "This club")))
        return
    if ctx.in_group and not await require_coach(ctx):
        return
    identity = await ensure_identity(ctx)
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    message = fill(texts.link_code, code=await new_code(ctx, identity), minutes=minutes)
    if ctx.in_group:
        await link_club(ctx, identity.account_id, ctx.chat)
        ctx.say(
            fill(texts.linked, club=safe_name(ctx.chat.title or "This club"))
            + " I've sent you a code privately for linking your other clubs."
        )
        ctx.say(message, intent=ReplyIntent.PRIVATE)  # a code must never show in a group
        return
    ctx.say(message)


async def _coach_unlink(ctx: TurnContext, _rest: str) -> None:
    if not await require_coach(ctx):
        return
    removed = await unlink_club(ctx, ctx.chat)
    ctx.say(
        "This club is no longer linked to any coach account, so broadcasts won't reach it."
        if removed
        else "This club wasn't linked to a coach account."
    )


# --- /challenge and /leaderboard ------------------------------------------------------------


def _manage_buttons(challenge: Challenge) -> list[Button]:
    buttons = [Button("Stop", action_payload(challenges.STOP_ACTION, str(challenge.id)))]
    if challenge.status == challenges.PAUSED:
        buttons.insert(
            0, Button("Resume", action_payload(challenges.RESUME_ACTION, str(challenge.id)))
        )
    return buttons


async def challenge_command(ctx: TurnContext) -> None:
    """A member sees the current challenge with its buttons; a coach sees what is set, each
    with Stop (and Resume), and a New challenge button. `/challenge new`: a coach's set-up
    straight away."""
    if not await require_club(ctx):
        return
    coach = await is_coach(ctx)
    if ctx.event.args.strip().casefold() == "new":
        if coach:
            await club_challenge_setup.start(ctx)
        else:
            ctx.say(ctx.content.clubs.coach_only)
        return
    if coach:
        await _coach_status(ctx)
    else:
        await _show_current(ctx)


async def _show_current(ctx: TurnContext) -> None:
    texts = ctx.content.clubs
    running = await challenges.current(ctx.session, ctx.chat, ctx.now)
    for challenge in running[:MAX_BOARDS]:
        ctx.say(
            challenges.post_text(challenge, texts, lead=texts.current_lead),
            buttons=challenges.tap_buttons(challenge.id),
        )
    if running:
        return
    upcoming = [
        c
        for c in await challenges.of_club(ctx.session, ctx.chat, (challenges.SCHEDULED,))
        if c.starts_at > ctx.now
    ]
    if upcoming:
        first = upcoming[0]
        when = challenges.moment_label(first.starts_at, first.timezone)
        ctx.say(fill(texts.next_challenge, title=first.title, when=when))
    else:
        ctx.say(texts.no_challenge)


async def _coach_status(ctx: TurnContext) -> None:
    texts = ctx.content.clubs
    existing = await challenges.of_club(
        ctx.session, ctx.chat, (*challenges.LIVE, challenges.PAUSED)
    )
    for challenge in existing[:MAX_BOARDS]:
        ctx.say(
            f"**{challenge.title}**: {challenges.state_label(challenge)}.",
            buttons=[_manage_buttons(challenge)],
        )
    prompt = texts.coach_new_prompt if existing else texts.coach_status_none
    ctx.say(prompt, buttons=[[new_challenge_button(texts)]])


def new_challenge_button(texts: ClubTexts) -> Button:
    return Button(texts.new_challenge_button, action_payload(challenges.NEW_ACTION))


async def new_challenge_tap(ctx: TurnContext) -> None:
    """New challenge, under a coach's /challenge: the set-up, for a coach of this club."""
    if not await require_club(ctx):
        return
    if not await is_coach(ctx):
        ctx.say(ctx.content.clubs.coach_only, intent=ReplyIntent.PRIVATE)
        return
    await club_challenge_setup.start(ctx)


async def leaderboard_command(ctx: TurnContext) -> None:
    if not await require_club(ctx):
        return
    live = await challenges.current(ctx.session, ctx.chat, ctx.now)
    shown = live or [
        c
        for c in [await challenges.latest_ended(ctx.session, ctx.chat, ctx.now - RECENT)]
        if c is not None
    ]
    if not shown:
        ctx.say(ctx.content.clubs.no_challenge)
        return
    for challenge in shown[:MAX_BOARDS]:
        st = await standings(ctx.session, challenge)
        buttons = challenges.tap_buttons(challenge.id) if challenge in live else []
        ctx.say(leaderboard_text(st, ctx.now, ctx.content.clubs), buttons=buttons)


# --- Resume / Stop (in the group by a coach, or privately by the coach who set it) ---------


async def _managed_challenge(ctx: TurnContext) -> Challenge | None:
    arg = ctx.action_arg
    challenge = await ctx.session.get(Challenge, int(arg)) if arg.isdigit() else None
    allowed = False
    if challenge is not None and ctx.in_group:
        allowed = challenge.chat_id == ctx.chat.id and await is_coach(ctx)
    elif challenge is not None and challenge.created_by is not None:
        allowed = challenge.created_by == ctx.user.id or await _same_account(
            ctx, challenge.created_by
        )
    if challenge is None or not allowed:
        ctx.say(
            "Only a coach of that challenge's club can use that button, so nothing was changed.",
            intent=ReplyIntent.PRIVATE,
        )
        return None
    return challenge


async def _same_account(ctx: TurnContext, user_id: int) -> bool:
    mine = await identity_of(ctx)
    theirs = await ctx.session.get(CoachIdentity, user_id)
    return mine is not None and theirs is not None and mine.account_id == theirs.account_id


async def resume_tap(ctx: TurnContext) -> None:
    challenge = await _managed_challenge(ctx)
    if challenge is None:
        return
    await note_private_chat(ctx)
    if challenge.status != challenges.PAUSED:
        ctx.say(f"“{challenge.title}” isn't paused ({challenge.status}), so nothing changed.")
        return
    chat = await ctx.session.get(Chat, challenge.chat_id)
    assert chat is not None  # the challenge row cascades with its chat
    if not chat.bot_is_member:
        ctx.say(f"I'm not in {club_label(chat)} at the moment. Add me back, then resume.")
        return
    challenges.resume(challenge)
    if challenge.status == challenges.ACTIVE and ctx.now < challenge.ends_at:
        # Members may have missed the original post while the bot was away.
        await outbox.enqueue(
            ctx.session,
            [
                outbox.NewMessage.to(
                    chat,
                    dedupe_key=f"{challenges.key_prefix(challenge.id)}resumed:"
                    f"{int(ctx.now.timestamp())}",
                    reply=challenges.post_reply(
                        challenge, ctx.content.clubs, lead=ctx.content.clubs.resumed_lead
                    ),
                    expires_at=challenge.ends_at,
                )
            ],
            now=ctx.now,
        )
    ctx.say(f"Resumed: **{challenge.title}** in {club_label(chat)}.")


async def stop_tap(ctx: TurnContext) -> None:
    challenge = await _managed_challenge(ctx)
    if challenge is None:
        return
    if challenge.status in challenges.OVER:
        ctx.say(f"“{challenge.title}” is already over, so nothing changed.")
        return
    await challenges.stop(ctx.session, challenge)
    ctx.say(f"Stopped: **{challenge.title}**. No more posts or repeats for it.")


# --- the bot leaving and rejoining a group ------------------------------------------------


async def on_membership(
    session: AsyncSession, content: ContentBundle, chat: Chat, was_member: bool, now: datetime
) -> None:
    """Called by the engine whenever the platform reports the bot joining or leaving `chat`:
    leaving pauses the club's challenges (idempotent); rejoining asks each paused
    challenge's coach privately whether to resume it."""
    if chat.is_private or (chat.bot_is_member and was_member):
        return
    if not chat.bot_is_member:
        paused = await challenges.pause_club(session, chat)
        log.info("club.bot_removed", extra={"chat": hashed(chat.platform_chat_id)})
        if paused:
            log.info("club.challenges_paused", extra={"count": len(paused)})
        return
    paused = list(
        await session.scalars(
            select(Challenge)
            .where(Challenge.chat_id == chat.id, Challenge.status == challenges.PAUSED)
            .order_by(Challenge.id)
        )
    )
    messages = []
    for challenge in paused:
        coach = await session.get(User, challenge.created_by) if challenge.created_by else None
        if coach is None or coach.unreachable:
            continue  # a coach sees Resume / Stop with /challenge in the group
        target = private_chat_id(coach, await session.get(CoachIdentity, coach.id))
        if target is None:
            continue
        question = fill(
            content.clubs.resume_question,
            club=safe_name(chat.title or "your club"),
            title=challenge.title,
        )
        messages.append(
            outbox.NewMessage(
                dedupe_key=f"club:resume:{challenge.id}:{int(now.timestamp())}",
                platform=coach.platform,
                chat_id=target,
                is_private=True,
                user_id=coach.id,
                reply=Reply(question, buttons=[_manage_buttons(challenge)]),
            )
        )
    await outbox.enqueue(session, messages, now=now)
