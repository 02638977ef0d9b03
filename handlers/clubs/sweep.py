"""Due club work, run by the scheduler's sweep on every pass (`sweep_hook`, registered on the
router by handlers/clubs.py).

- A scheduled challenge whose start has come is posted (one outbox row per challenge,
  `club:challenge:<id>:post`); one whose club the bot has left is paused instead; one an
  outage outlasted entirely is marked missed, never posted late.
- An active challenge whose end has come gets its summary post in the group and the private
  report to the coach who set it (`…:summary`, `…:report`), and a weekly series gets its
  next occurrence.
- A broadcast whose every club message has an outcome gets its delivery report.

Each batch is one transaction that writes the outbox rows and moves the rows on, claimed
with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes never repeat each other
and a crash leaves either both or neither; the dedupe keys make a re-run harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.engine.feature import DueWork
from bot.storage.models import Broadcast, Challenge, Chat, CoachIdentity, User
from handlers.clubs import challenges
from handlers.clubs.broadcast import REPORTED, SENDING, delivery_counts, report_key, report_text
from handlers.clubs.coach_link import private_chat_id
from handlers.clubs.leaderboard import report_reply, standings, summary_reply
from handlers.clubs.roles import members_seen, safe_name
from scheduler import outbox
from scheduler.occurrences import zone

BATCH = 200


@dataclass
class ClubSweepResult:
    posted: int = 0
    ended: int = 0
    paused: int = 0
    missed: int = 0
    broadcast_reports: int = 0
    queued: int = 0  # outbox rows written

    def add(self, other: ClubSweepResult) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


async def sweep_clubs(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    now: datetime,
    *,
    batch_size: int = BATCH,
) -> ClubSweepResult:
    total = ClubSweepResult()
    # Endings first, so a weekly series' next post follows its results in the same pass.
    for step in (_end_batch, _start_batch):
        while True:
            found, result = await step(sessions, content, now, batch_size)
            total.add(result)
            if found < batch_size:
                break
    # Broadcasts still waiting for deliveries stay unchanged, so one batch per pass.
    _, result = await _report_batch(sessions, content, now, batch_size)
    total.add(result)
    return total


async def sweep_hook(work: DueWork) -> int:
    """The feature's sweep hook (bot.engine.feature.SweepHook): outbox rows written."""
    return (await sweep_clubs(work.sessions, work.content, work.now)).queued


def _due(
    status: str, column: InstrumentedAttribute[datetime], now: datetime, batch_size: int
) -> Select[Challenge, Chat]:
    return (
        select(Challenge, Chat)
        .join(Chat, Chat.id == Challenge.chat_id)
        .where(Challenge.status == status, column <= now)
        .order_by(column)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=Challenge)
    )


def _pause_if_gone(challenge: Challenge, chat: Chat, result: ClubSweepResult) -> bool:
    """The bot has left the club's chat (perhaps without us hearing: the sender found out):
    pause the challenge where it stands, and the coach decides later."""
    if chat.bot_is_member:
        return False
    challenges.pause(challenge)
    result.paused += 1
    return True


async def _start_batch(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    now: datetime,
    batch_size: int,
) -> tuple[int, ClubSweepResult]:
    result = ClubSweepResult()
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(_due(challenges.SCHEDULED, Challenge.starts_at, now, batch_size))
        ).all()
        for challenge, chat in rows:
            if _pause_if_gone(challenge, chat, result):
                continue
            if now >= challenge.ends_at:
                challenge.status = challenges.MISSED
                challenge.ended_at = now
                result.missed += 1
                await _continue_series(session, challenge, chat, now)
            else:
                result.queued += await challenges.queue_post(
                    session, challenge, chat, content.clubs, now
                )
                result.posted += 1
    return len(rows), result


async def _end_batch(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    now: datetime,
    batch_size: int,
) -> tuple[int, ClubSweepResult]:
    result = ClubSweepResult()
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(_due(challenges.ACTIVE, Challenge.ends_at, now, batch_size))
        ).all()
        for challenge, chat in rows:
            if _pause_if_gone(challenge, chat, result):
                continue
            messages = await _results(session, content, challenge, chat)
            result.queued += await outbox.enqueue(session, messages, now=now)
            challenge.status = challenges.ENDED
            challenge.ended_at = now
            result.ended += 1
            await _continue_series(session, challenge, chat, now)
    return len(rows), result


async def _results(
    session: AsyncSession, content: ContentBundle, challenge: Challenge, chat: Chat
) -> list[outbox.NewMessage]:
    """The group's summary and, where we can reach them privately, the coach's report."""
    st = await standings(session, challenge)
    club = safe_name(chat.title) if chat.title else "everyone"
    prefix = challenges.key_prefix(challenge.id)
    messages = [
        outbox.NewMessage.to(
            chat,
            dedupe_key=f"{prefix}summary",
            reply=summary_reply(st, club, content.clubs),
        )
    ]
    coach = await session.get(User, challenge.created_by) if challenge.created_by else None
    if coach is None or coach.unreachable:
        return messages
    # On the coach's own platform, which for a broadcast challenge may differ from the club's.
    target = private_chat_id(coach, await session.get(CoachIdentity, coach.id))
    if target is not None:
        seen = await members_seen(session, chat)
        messages.append(
            outbox.NewMessage(
                dedupe_key=f"{prefix}report",
                platform=coach.platform,
                chat_id=target,
                is_private=True,
                user_id=coach.id,
                reply=report_reply(st, club, seen, [], content.clubs),
            )
        )
    return messages


async def _continue_series(
    session: AsyncSession, challenge: Challenge, chat: Chat, now: datetime
) -> None:
    """A weekly series: the next occurrence, skipping weeks an outage swallowed whole."""
    if not challenge.repeat_weekly:
        return
    start = challenges.next_start(challenge)
    while challenges.ends_at(start, challenge.timezone, challenge.days) <= now:
        local = start.astimezone(zone(challenge.timezone)) + timedelta(days=7)
        start = local.astimezone(zone("UTC"))
    await challenges.create(
        session,
        chat,
        challenge.created_by,
        challenges.plan_of(challenge, start),
        now,
        series_id=challenge.series_id or challenge.id,
    )


async def _report_batch(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    now: datetime,
    batch_size: int,
) -> tuple[int, ClubSweepResult]:
    result = ClubSweepResult()
    async with sessions() as session, session.begin():
        found = list(
            await session.scalars(
                select(Broadcast)
                .where(Broadcast.status == SENDING)
                .order_by(Broadcast.created_at)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        for broadcast in found:
            counts = await delivery_counts(session, broadcast)
            if counts.pending:
                continue
            broadcast.status = REPORTED
            broadcast.reported_at = now
            broadcast.delivered = counts.delivered
            broadcast.failed = counts.failed
            broadcast.unreachable = counts.unreachable
            broadcast.maybe_twice = counts.maybe_twice
            result.broadcast_reports += 1
            coach = await session.get(User, broadcast.created_by)
            if coach is None or coach.unreachable or not broadcast.report_chat_id:
                continue
            reply = report_text(broadcast, counts, coach.timezone or "UTC", content.clubs)
            result.queued += await outbox.enqueue(
                session,
                [
                    outbox.NewMessage(
                        dedupe_key=report_key(broadcast.id),
                        platform=coach.platform,
                        chat_id=broadcast.report_chat_id,
                        is_private=True,
                        user_id=coach.id,
                        reply=Reply(reply),
                    )
                ],
                now=now,
            )
    return len(found), result
