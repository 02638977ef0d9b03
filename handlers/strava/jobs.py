"""The Strava worker, run by the scheduler's sweep: pending jobs (webhook events, backfills,
disconnects) are leased one at a time, done, and deleted, each in its own transactions.

A job is deleted only once its effect is committed, and the effect is idempotent (activities
are keyed by Strava's id), so a crash or a second worker can repeat work but never lose or
double-count it. Strava calls happen outside any transaction, through the shared limiter.

Faults: 401 → refresh the token once, then treat the grant as revoked (the connection goes,
the person is told); 404 → the activity was deleted first (its run goes, if logged); 429 →
the job and all others wait for the next window; 5xx or no answer → retried with backoff,
given up after MAX_ATTEMPTS. Logs carry event names and kinds only, never ids or tokens."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.events import Reply
from bot.engine.feature import DueWork
from bot.storage.models import Chat, StravaAuthState, StravaConnection, StravaJob
from handlers.strava import activities, checkin, store
from handlers.strava.gateway import (
    Gateway,
    NotFound,
    RateLimited,
    Rejected,
    StravaError,
    Unauthorized,
    Unavailable,
)
from handlers.strava.limiter import SharedLimiter
from handlers.strava.setup import StravaSetup, current
from handlers.strava.tokens import TokenBox
from scheduler import outbox

log = logging.getLogger("corecoach.strava")
T = TypeVar("T")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
JOBS_PER_PASS = 50
# The sweep runs every feature's hook in turn: a slow Strava must not hold up reminders.
PASS_SECONDS = 10.0
BACKFILL_DAYS = 28
BACKFILL_LIMIT = 200
REFRESH_AHEAD = timedelta(minutes=10)  # refresh tokens this long before they expire


class Revoked(Exception):
    """The person's grant no longer works: their connection was removed."""


class Worker:
    def __init__(self, work: DueWork, setup: StravaSetup, gateway: Gateway | None = None) -> None:
        self.work = work
        self.setup = setup
        self.gateway = gateway or Gateway(setup)
        self.box = TokenBox(setup.token_key)
        self.limiter = SharedLimiter(work.sessions)

    async def run(self) -> int:
        """Jobs due now, until none is left, the pass's share is done or Strava says wait."""
        written = 0
        deadline = time.monotonic() + PASS_SECONDS
        for _ in range(JOBS_PER_PASS):
            if time.monotonic() > deadline:
                break
            job = await self._lease()
            if job is None:
                break
            try:
                written += await self._do(job)
            except RateLimited:
                retry = await self.limiter.exhausted(self.work.now)
                await self._postpone(job, retry, failed=False)
                log.warning("strava.rate_limited", extra={"kind": job.kind})
                break
            except _Wait as wait:
                await self._postpone(job, wait.until, failed=False)
                break
            except (Unavailable, StravaError) as error:
                await self._retry_later(job, error)
            except Exception as error:
                # A bug or an answer we cannot read: retried like a fault, then given up, so
                # one bad job never blocks the others.
                log.error("strava.job_failed", extra={"kind": job.kind, "error": _name(error)})
                await self._retry_later(job, error)
            else:
                await self._finish(job)
        return written

    # -- leasing ------------------------------------------------------------------------

    async def _lease(self) -> StravaJob | None:
        now = self.work.now
        async with self.work.sessions() as session, session.begin():
            job = (
                await session.scalars(
                    select(StravaJob)
                    .where(
                        StravaJob.not_before <= now,
                        or_(StravaJob.leased_until.is_(None), StravaJob.leased_until <= now),
                    )
                    .order_by(StravaJob.not_before, StravaJob.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if job is None:
                return None
            job.leased_until, job.attempts = now + LEASE, job.attempts + 1
        return job

    async def _finish(self, job: StravaJob) -> None:
        async with self.work.sessions() as session, session.begin():
            await session.execute(delete(StravaJob).where(StravaJob.id == job.id))

    async def _postpone(self, job: StravaJob, until: datetime, *, failed: bool) -> None:
        async with self.work.sessions() as session, session.begin():
            await session.execute(
                update(StravaJob)
                .where(StravaJob.id == job.id)
                .values(
                    not_before=until,
                    leased_until=None,
                    attempts=job.attempts if failed else job.attempts - 1,
                )
            )

    async def _retry_later(self, job: StravaJob, error: Exception) -> None:
        if job.attempts >= MAX_ATTEMPTS:
            log.error("strava.job_given_up", extra={"kind": job.kind, "error": _name(error)})
            await self._finish(job)
            return
        backoff = timedelta(seconds=30 * 2 ** (job.attempts - 1))
        log.warning("strava.job_retry", extra={"kind": job.kind, "error": _name(error)})
        await self._postpone(job, self.work.now + backoff, failed=True)

    # -- the jobs -----------------------------------------------------------------------

    async def _do(self, job: StravaJob) -> int:
        if job.kind == store.REVOKE:
            return await self._revoke(job)
        async with self.work.sessions() as session:
            conn = await store.connection_by_athlete(session, job.athlete_id)
        if conn is None:
            # Disconnected (or never connected) before the event was applied: nothing of
            # theirs is fetched or kept.
            log.info("strava.event_without_connection", extra={"kind": job.kind})
            return 0
        if job.kind == store.DEAUTHORIZED:
            return await self._forget_grant(conn, tell=True)
        if job.kind == store.DELETE and job.activity_id is not None:
            async with self.work.sessions() as session, session.begin():
                await activities.remove(session, await _same(session, conn), job.activity_id)
            return 0
        try:
            if job.kind == store.BACKFILL:
                return await self._backfill(conn)
            if job.activity_id is not None:
                return await self._fetch(conn, job)
        except Revoked:
            return 0
        return 0

    async def _fetch(self, conn: StravaConnection, job: StravaJob) -> int:
        assert job.activity_id is not None
        token = await self._access_token(conn)
        try:
            facts, headers = await self._call(
                lambda t: self.gateway.activity(t, job.activity_id or 0), conn, token
            )
        except NotFound:
            log.info("strava.activity_gone", extra={"kind": job.kind})
            async with self.work.sessions() as session, session.begin():
                await activities.remove(session, await _same(session, conn), job.activity_id)
            return 0
        await self.limiter.observe(headers, self.work.now)
        async with self.work.sessions() as session, session.begin():
            fresh = await _same(session, conn)
            run_id = await activities.apply(session, fresh, facts, self.work.now)
            if run_id is None or job.kind != store.CREATE:
                return 0
            return await checkin.maybe_ask(
                session, fresh, run_id, facts, self.work.content, self.work.settings, self.work.now
            )

    async def _backfill(self, conn: StravaConnection) -> int:
        token = await self._access_token(conn)
        after = self.work.now - timedelta(days=BACKFILL_DAYS)
        found, headers = await self._call(
            lambda t: self.gateway.activities(
                t, after=after, page_size=BACKFILL_LIMIT, limit=BACKFILL_LIMIT
            ),
            conn,
            token,
        )
        await self.limiter.observe(headers, self.work.now)
        async with self.work.sessions() as session, session.begin():
            fresh = await _same(session, conn)
            for facts in found:
                await activities.apply(session, fresh, facts, self.work.now)
        log.info("strava.backfilled", extra={"activities": len(found)})
        return 0

    async def _call(
        self, call: Callable[[str], Awaitable[T]], conn: StravaConnection, token: str
    ) -> T:
        """One counted request; a 401 gets one fresh token, then means revoked."""
        await self._reserve()
        try:
            return await call(token)
        except Unauthorized:
            token = await self._access_token(conn, force=True)
            await self._reserve()
            try:
                return await call(token)
            except Unauthorized:
                await self._forget_grant(conn, tell=True)
                raise Revoked() from None

    async def _reserve(self) -> None:
        wait = await self.limiter.reserve(self.work.now)
        if wait is not None:
            raise _Wait(wait)

    async def _access_token(self, conn: StravaConnection, *, force: bool = False) -> str:
        """A working access token, refreshed (and stored sealed) shortly before it expires."""
        token = self.box.open(conn.access_token)
        if token is not None and not force and conn.expires_at - self.work.now > REFRESH_AHEAD:
            return token
        refresh = self.box.open(conn.refresh_token)
        if refresh is None:
            await self._forget_grant(conn, tell=True)
            raise Revoked()
        try:
            grant = await self.gateway.refresh(refresh)
        except (Unauthorized, Rejected):
            await self._forget_grant(conn, tell=True)
            raise Revoked() from None
        async with self.work.sessions() as session, session.begin():
            fresh = await _same(session, conn)
            fresh.access_token = self.box.seal(grant.access_token)
            fresh.refresh_token = self.box.seal(grant.refresh_token)
            fresh.expires_at = grant.expires_at
        conn.access_token, conn.expires_at = self.box.seal(grant.access_token), grant.expires_at
        log.info("strava.token_refreshed")
        return grant.access_token

    async def _forget_grant(self, conn: StravaConnection, *, tell: bool) -> int:
        """Strava no longer honours the grant: remove it (tokens included) and say so."""
        async with self.work.sessions() as session, session.begin():
            await session.execute(
                delete(StravaConnection).where(StravaConnection.user_id == conn.user_id)
            )
            await session.execute(
                delete(StravaAuthState).where(StravaAuthState.user_id == conn.user_id)
            )
            chat = await session.get(Chat, conn.chat_id)
            log.warning("strava.grant_revoked")
            if not tell or chat is None:
                return 0
            message = outbox.NewMessage.to(
                chat,
                dedupe_key=f"strava:revoked:{conn.user_id}:{int(self.work.now.timestamp())}",
                user_id=conn.user_id,
                reply=Reply(self.work.content.strava.revoked_chat),
            )
            return await outbox.enqueue(session, [message], now=self.work.now)

    async def _revoke(self, job: StravaJob) -> int:
        """/strava disconnect: deauthorise at Strava with the token kept for it."""
        token = self.box.open(job.token) if job.token is not None else None
        if token is not None:
            # Already revoked or expired: nothing is left to undo at Strava.
            with contextlib.suppress(Unauthorized, NotFound):
                await self.gateway.deauthorize(token)
        log.info("strava.deauthorized")
        return 0


class _Wait(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__("rate limit")
        self.until = until


async def _same(session: AsyncSession, conn: StravaConnection) -> StravaConnection:
    """The connection's row in this session; Revoked if it went meanwhile."""
    fresh = await session.get(StravaConnection, conn.user_id)
    if fresh is None or fresh.athlete_id != conn.athlete_id:
        raise Revoked()
    return fresh


def _name(error: Exception) -> str:
    return type(error).__name__


async def sweep_strava(work: DueWork) -> int:
    """The feature's sweep hook: do the due Strava jobs; the outbox rows written."""
    setup = current()
    if setup is None:
        return 0
    return await Worker(work, setup).run()
