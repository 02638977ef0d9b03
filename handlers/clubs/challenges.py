"""Club challenges as rows: creating one, its post with Join / Done today, taps, pausing when
the bot leaves a group and resuming when a coach says so.

Taps are safe to forge or replay: the payload carries only the challenge id, the person is
whoever pressed (the platform's word), the button only works in the chat the challenge
belongs to, and the primary keys count one join per person and one Done per local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.challenge_schema import ClubTexts
from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import Button, Reply, ReplyIntent
from bot.engine.payloads import action_payload
from bot.storage.models import Challenge, ChallengeDone, ChallengeParticipant, Chat, Outbox
from handlers.clubs.roles import note_seen, upsert
from scheduler import outbox
from scheduler.occurrences import zone

SCHEDULED = "scheduled"
ACTIVE = "active"
PAUSED = "paused"
ENDED = "ended"
CANCELLED = "cancelled"
MISSED = "missed"  # an outage outlasted the whole challenge: never posted
LIVE = (SCHEDULED, ACTIVE)
OVER = (ENDED, CANCELLED, MISSED)

JOIN_ACTION = "cjoin"
DONE_ACTION = "cdone"
RESUME_ACTION = "cresume"
STOP_ACTION = "cstop"
NEW_ACTION = "cnew"  # a coach's New challenge: the set-up dialog

DEFAULT_DAYS = 7
WEEK = timedelta(days=7)


def key_prefix(challenge_id: int) -> str:
    """Every outbox row about one challenge starts with this (post, summary, report...)."""
    return f"club:challenge:{challenge_id}:"


@dataclass(frozen=True)
class Plan:
    """What a coach chose in the /challenge dialog."""

    title: str
    details: str
    template_id: str | None
    target_days: int
    days: int
    timezone: str
    starts_at: datetime
    repeat_weekly: bool


def scaled_target(week_target: int, days: int) -> int:
    """A library target is per week; a 3-day or 2-week challenge scales it."""
    return max(1, min(days, round(week_target * days / 7)))


def ends_at(starts_at: datetime, tz: str, days: int) -> datetime:
    # Adding days to a zone-aware local time keeps the wall-clock time across DST changes.
    local = starts_at.astimezone(zone(tz))
    return (local + timedelta(days=days)).astimezone(ZoneInfo("UTC"))


async def create(
    session: AsyncSession,
    chat: Chat,
    created_by: int | None,
    plan: Plan,
    now: datetime,
    *,
    series_id: int | None = None,
) -> Challenge:
    challenge = Challenge(
        chat_id=chat.id,
        created_by=created_by,
        template_id=plan.template_id,
        title=plan.title[:120],
        details=plan.details[:1200],
        target_days=plan.target_days,
        days=plan.days,
        timezone=plan.timezone,
        starts_at=plan.starts_at,
        ends_at=ends_at(plan.starts_at, plan.timezone, plan.days),
        repeat_weekly=plan.repeat_weekly,
        series_id=series_id,
        status=SCHEDULED,
        created_at=now,
    )
    session.add(challenge)
    await session.flush()
    if plan.repeat_weekly and series_id is None:
        challenge.series_id = challenge.id
    return challenge


def plan_of(challenge: Challenge, starts_at: datetime) -> Plan:
    return Plan(
        title=challenge.title,
        details=challenge.details,
        template_id=challenge.template_id,
        target_days=challenge.target_days,
        days=challenge.days,
        timezone=challenge.timezone,
        starts_at=starts_at,
        repeat_weekly=challenge.repeat_weekly,
    )


def next_start(challenge: Challenge) -> datetime:
    """A weekly series starts again a week later (at least once this one has ended)."""
    weeks = max(1, -(-challenge.days // 7))
    return ends_at(challenge.starts_at, challenge.timezone, 7 * weeks)


# --- how it reads ------------------------------------------------------------------------


def local_day(challenge: Challenge, moment: datetime) -> date:
    return moment.astimezone(zone(challenge.timezone)).date()


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def moment_label(moment: datetime, tz: str) -> str:
    local = moment.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def period_label(challenge: Challenge) -> str:
    start = moment_label(challenge.starts_at, challenge.timezone)
    end = moment_label(challenge.ends_at, challenge.timezone)
    return f"{start} to {end} ({challenge.timezone})"


def goal_label(challenge: Challenge, texts: ClubTexts) -> str:
    return fill(texts.goal, target=challenge.target_days, days=challenge.days)


def tap_buttons(challenge_id: int) -> list[list[Button]]:
    return [
        [
            Button("Join", action_payload(JOIN_ACTION, str(challenge_id))),
            Button("Done today", action_payload(DONE_ACTION, str(challenge_id))),
        ]
    ]


def post_text(challenge: Challenge, texts: ClubTexts, *, lead: str = "") -> str:
    parts = [lead] if lead else []
    parts += [
        f"**Club challenge: {challenge.title}**",
        challenge.details,
        f"**When:** {period_label(challenge)}\n**Goal:** {goal_label(challenge, texts)}",
        texts.post_footer,
        texts.safety_note,
    ]
    return "\n\n".join(parts)


def post_reply(challenge: Challenge, texts: ClubTexts, *, lead: str = "") -> Reply:
    return Reply(post_text(challenge, texts, lead=lead), buttons=tap_buttons(challenge.id))


async def queue_post(
    session: AsyncSession, challenge: Challenge, chat: Chat, texts: ClubTexts, now: datetime
) -> int:
    """The post goes out through the outbox, once per challenge (its dedupe key)."""
    challenge.status = ACTIVE
    challenge.posted_at = now
    message = outbox.NewMessage.to(
        chat,
        dedupe_key=f"{key_prefix(challenge.id)}post",
        reply=post_reply(challenge, texts),
        expires_at=challenge.ends_at,
    )
    return await outbox.enqueue(session, [message], now=now)


# --- finding challenges --------------------------------------------------------------------


async def of_club(session: AsyncSession, chat: Chat, statuses: tuple[str, ...]) -> list[Challenge]:
    found = await session.scalars(
        select(Challenge)
        .where(Challenge.chat_id == chat.id, Challenge.status.in_(statuses))
        .order_by(Challenge.starts_at, Challenge.id)
    )
    return list(found)


async def current(session: AsyncSession, chat: Chat, now: datetime) -> list[Challenge]:
    """Running now in this club: started, not over (even if the sweep has not caught up)."""
    return [c for c in await of_club(session, chat, LIVE) if c.starts_at <= now < c.ends_at]


async def in_the_way(
    session: AsyncSession, chat: Chat, starts_at: datetime, ends_at: datetime | None
) -> list[Challenge]:
    """The club's challenges that would run alongside one from `starts_at` to `ends_at` (None:
    a weekly series, which runs until stopped): scheduled, running or paused ones whose period
    overlaps it, a weekly series counting from its start on. A club runs one at a time."""
    found = await of_club(session, chat, (*LIVE, PAUSED))
    return [
        c
        for c in found
        if (ends_at is None or c.starts_at < ends_at) and (c.repeat_weekly or starts_at < c.ends_at)
    ]


def state_label(challenge: Challenge) -> str:
    """ "starts Tue 24 Nov 07:00", "running until …", "paused"; and whether it repeats."""
    if challenge.status == SCHEDULED:
        state = "starts " + moment_label(challenge.starts_at, challenge.timezone)
    elif challenge.status == ACTIVE:
        state = "running until " + moment_label(challenge.ends_at, challenge.timezone)
    else:
        state = challenge.status
    return state + (", repeats weekly" if challenge.repeat_weekly else "")


async def latest_ended(session: AsyncSession, chat: Chat, since: datetime) -> Challenge | None:
    return await session.scalar(
        select(Challenge)
        .where(Challenge.chat_id == chat.id, Challenge.status == ENDED, Challenge.ends_at >= since)
        .order_by(Challenge.ends_at.desc())
        .limit(1)
    )


async def last_timezone(session: AsyncSession, chat: Chat) -> str | None:
    """The club's zone: the one its latest challenge used."""
    return await session.scalar(
        select(Challenge.timezone)
        .where(Challenge.chat_id == chat.id)
        .order_by(Challenge.created_at.desc(), Challenge.id.desc())
        .limit(1)
    )


# --- taps ----------------------------------------------------------------------------------


async def _challenge_for_tap(ctx: TurnContext) -> Challenge | None:
    """The challenge a Join/Done/Resume button names, if it belongs to this chat."""
    texts = ctx.content.clubs
    arg = ctx.action_arg
    challenge = await ctx.session.get(Challenge, int(arg)) if arg.isdigit() else None
    if challenge is None or challenge.chat_id != ctx.chat.id:
        ctx.say(texts.wrong_chat, intent=ReplyIntent.PRIVATE)
        return None
    return challenge


def _refusal(challenge: Challenge, now: datetime, texts: ClubTexts) -> str | None:
    if challenge.status in OVER or now >= challenge.ends_at:
        return texts.ended
    if challenge.status == PAUSED:
        return texts.paused
    if now < challenge.starts_at:
        return texts.not_started
    return None


async def _join(ctx: TurnContext, challenge: Challenge) -> bool:
    """True if this person joined just now (False: they were in already)."""
    table = ChallengeParticipant.__table__
    result = await ctx.session.execute(
        upsert(ctx.session)(table)
        .values(challenge_id=challenge.id, user_id=ctx.user.id, joined_at=ctx.now)
        .on_conflict_do_nothing(index_elements=[table.c.challenge_id, table.c.user_id])
        .returning(table.c.user_id)
    )
    return len(result.all()) == 1


async def join_tap(ctx: TurnContext) -> None:
    challenge = await _challenge_for_tap(ctx)
    if challenge is None:
        return
    await note_seen(ctx)
    texts = ctx.content.clubs
    refusal = _refusal(challenge, ctx.now, texts)
    if refusal is not None:
        ctx.say(refusal, intent=ReplyIntent.PRIVATE)
        return
    joined = await _join(ctx, challenge)
    message = texts.joined if joined else texts.already_joined
    ctx.say(fill(message, title=challenge.title), intent=ReplyIntent.PRIVATE)


async def done_tap(ctx: TurnContext) -> None:
    challenge = await _challenge_for_tap(ctx)
    if challenge is None:
        return
    await note_seen(ctx)
    texts = ctx.content.clubs
    refusal = _refusal(challenge, ctx.now, texts)
    if refusal is not None:
        ctx.say(refusal, intent=ReplyIntent.PRIVATE)
        return
    await _join(ctx, challenge)  # a Done counts as joining
    day = local_day(challenge, ctx.now)
    table = ChallengeDone.__table__
    added = await ctx.session.execute(
        upsert(ctx.session)(table)
        .values(challenge_id=challenge.id, user_id=ctx.user.id, day=day, done_at=ctx.now)
        .on_conflict_do_nothing(index_elements=[table.c.challenge_id, table.c.user_id, table.c.day])
        .returning(table.c.day)
    )
    if len(added.all()) == 0:
        ctx.say(fill(texts.done_again, day=day_label(day)), intent=ReplyIntent.PRIVATE)
        return
    count = await ctx.session.scalar(
        select(func.count())
        .select_from(ChallengeDone)
        .where(ChallengeDone.challenge_id == challenge.id, ChallengeDone.user_id == ctx.user.id)
    )
    message = texts.done_finished if count == challenge.target_days else texts.done
    ctx.say(
        fill(message, day=day_label(day), count=count, target=challenge.target_days),
        intent=ReplyIntent.PRIVATE,
    )


# --- the bot leaving and coming back ------------------------------------------------------


async def pause_club(session: AsyncSession, chat: Chat) -> list[Challenge]:
    """The bot left the group: its challenges wait, and pending club posts there are dropped
    (marked unreachable, so a broadcast's delivery report still counts them)."""
    paused = await of_club(session, chat, LIVE)
    for challenge in paused:
        pause(challenge)
    await session.execute(
        update(Outbox)
        .where(
            Outbox.platform == chat.platform,
            Outbox.platform_chat_id == chat.platform_chat_id,
            Outbox.status == outbox.PENDING,
            Outbox.dedupe_key.startswith("club:", autoescape=True),
        )
        .values(status=outbox.UNREACHABLE, last_error="bot removed from the group")
        .execution_options(synchronize_session=False)
    )
    return paused


def pause(challenge: Challenge) -> None:
    """Wait where it stands until the coach resumes or stops it."""
    challenge.paused_from = challenge.status
    challenge.status = PAUSED


def resume(challenge: Challenge) -> None:
    """Back to what it was; the sweep posts a due start or ends an overdue one."""
    challenge.status = challenge.paused_from or SCHEDULED
    challenge.paused_from = None
    if challenge.status == ACTIVE and challenge.posted_at is None:
        challenge.status = SCHEDULED


async def stop(session: AsyncSession, challenge: Challenge) -> None:
    challenge.status = CANCELLED
    challenge.paused_from = None
    challenge.repeat_weekly = False
    await outbox.cancel_pending(session, key_prefix(challenge.id))
