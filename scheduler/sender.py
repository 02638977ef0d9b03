"""The outbox sender: claims due rows, delivers them through the platform's Transport at the
platform's pace, and records the outcome of each message as soon as it is known.

Life of a row: `pending` → claimed (claimed_until, claim_token, claimed_by = this worker) →
attempt recorded (attempts + 1, lease renewed, fenced by the token) → its slot in the pace →
Transport.deliver → `sent` | back to `pending` later (transient failure: exponential backoff
with jitter, at least retry_after, which also holds that chat, or every send, for every
worker) | `failed` (permanent, or retries exhausted) | `unreachable` (blocked / removed: the
person or chat is marked and their other pending messages dropped) | `expired`.

**Guarantee.** Every outbox row is delivered at least once unless it fails, expires or its
recipient is unreachable, and in the normal path exactly once:

- Claims are exclusive: PostgreSQL claims with `SELECT … FOR UPDATE SKIP LOCKED`; before each
  send the worker re-checks its claim token in a committed UPDATE, so a worker whose claim
  was taken over can no longer send that row. SQLite runs one process and takes the same
  code path (SQLite has no row locks to skip).
- **A dead worker's claims move at once, not after a lease** (scheduler/workers.py). Each
  worker beats every 5 s in `outbox_workers`, apart from its sends, so a live worker in a
  60 s transport call keeps its rows; a claim whose worker has not beaten for 15 s is due
  again, and its new token fences the old owner. On PostgreSQL a killed worker's rows are
  sent by the others within ~15–20 s. A restarted SQLite process frees every claim at start
  (one process: they are all a dead one's). The leases stay as the last resort.
- A claim the running worker could not hand back, or could not begin sending, because the
  database was briefly away is remembered and handed back at its next drain, fenced by the
  token, so a short outage delays the row by a poll interval rather than by its lease.
- **Duplicates are bounded by the sends in flight at a crash.** The one at-least-once window
  is after the platform accepted a message and before our `status = 'sent'` commits: a
  crash there (or a lost response) means the row is sent again. At most `max_in_flight`
  (8) rows are in that window per worker, each sent at most once more. Discord drops the
  repeat (the outbox id is the message's `nonce`, with `enforce_nonce`: 0 duplicates);
  Telegram has no idempotency key, so a Telegram recipient may get those few twice. Such a
  resend (an attempt began, no outcome recorded, sent again) is logged as
  `outbox.resend_after_crash` and marked `maybe_twice`, and a broadcast's delivery report
  tells the coach how many clubs may have got it twice.
- A Transport call must return within `send_lease` (default 120 s; HTTP clients time out far
  sooner), otherwise another worker could take the row over while the call still runs.

**Pace.** The platform's caps are the bot's, not a process's: with a `SharedPace` (what
`corecoach run` uses for Telegram and Discord) every worker reserves its sends' slots in one
table (scheduler/shared_pace.py), so N workers together keep 30 msg/s, not N × 30.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage, RetryScope, Transport
from bot.engine.events import Reply
from bot.logsafe import hashed
from bot.storage.models import Chat, Outbox, User, utcnow
from scheduler import workers
from scheduler.outbox import EXPIRED, FAILED, OUTBOX, PENDING, SENT, UNREACHABLE
from scheduler.pacing import Pacer, PacingPolicy
from scheduler.shared_pace import SharedPace

log = logging.getLogger("corecoach.sender")

# Core statements: one small UPDATE per message, without the ORM's bookkeeping.
USERS = cast(Table, User.__table__)
CHATS = cast(Table, Chat.__table__)


@dataclass(frozen=True)
class SenderConfig:
    batch_size: int = 100
    claim_lease: timedelta = timedelta(seconds=60)  # for rows waiting their turn in a batch
    send_lease: timedelta = timedelta(seconds=120)  # renewed when a send starts
    max_in_flight: int = 8
    max_attempts: int = 8
    backoff_base: float = 2.0  # seconds; doubles per attempt
    backoff_cap: float = 900.0
    poll_interval: float = 1.0  # how often an idle sender looks for due rows
    # Claim only rows for these chats: a transport that reaches some chats only (the
    # terminal reaches the one chat it shows). None: every chat of the platform.
    chats: frozenset[str] | None = None


@dataclass(frozen=True)
class _Claimed:
    id: int
    chat_id: str
    thread_id: str
    is_private: bool
    user_id: int | None
    reply: dict[str, Any]
    attempts: int
    expires_at: datetime | None
    token: str
    # An earlier attempt began but no outcome was recorded: a crash in the at-least-once
    # window (or just before the send). Logged, so duplicates can be traced.
    unrecorded: bool


_CLAIMED_COLUMNS = (
    Outbox.id,
    Outbox.platform_chat_id,
    Outbox.thread_id,
    Outbox.is_private,
    Outbox.user_id,
    Outbox.reply,
    Outbox.attempts,
    Outbox.expires_at,
    Outbox.last_error,
)


class Sender:
    """Delivers one platform's outbox rows. Run one per platform per process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        *,
        pacing: PacingPolicy,
        config: SenderConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
        pacer: Pacer | None = None,
        rng: random.Random | None = None,
        shared_pace: SharedPace | None = None,
        drops_repeats: bool = False,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.platform = transport.platform
        self.config = config or SenderConfig()
        self.clock = clock
        self.pacer = pacer or Pacer(pacing)
        self.rng = rng or random.Random()
        # The bot-wide pace in the database (several workers); None: this process alone.
        self.shared_pace = shared_pace
        # The transport passes the outbox id as an idempotency key the platform honours
        # (Discord's nonce): a resend after a crash cannot arrive twice.
        self.drops_repeats = drops_repeats
        self.worker_id = secrets.token_hex(8)
        self._registered = False
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._in_flight = asyncio.Semaphore(self.config.max_in_flight)
        self._longest_wait = self.config.claim_lease.total_seconds() / 2
        # Unsent claims (id → token) to hand back; a failed hand-back leaves them for the next.
        self._unreleased: dict[int, str] = {}

    # -- running ------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"sender-{self.platform}")
        self._heartbeat_task = asyncio.create_task(
            self._heartbeat(), name=f"sender-heartbeat-{self.platform}"
        )

    def wake(self) -> None:
        """Something was just enqueued: look now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the sends in flight, hand back unsent claims, and return."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._heartbeat_task is not None:
            await self._heartbeat_task  # not cancelled: mid-statement, that would strand it
            with contextlib.suppress(OperationalError, DBAPIError):
                await workers.leave(self.sessions, self.worker_id, self.clock())

    async def run(self) -> None:
        await self._take_over_at_start()
        while not self._stopping.is_set():
            held = self.pacer.held_for()
            if held > 0:  # the platform said to back off: claim nothing meanwhile
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), held)
                continue
            try:
                handled = await self.drain_once()
            except (OperationalError, DBAPIError):
                # At shutdown the scheduler cancels its jobs mid-transaction, which can show
                # up here: not worth a warning then.
                if not self._stopping.is_set():
                    log.warning("sender.db_unavailable", extra={"platform": self.platform})
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
                self._wake.clear()

    async def _take_over_at_start(self) -> None:
        """SQLite runs one process: every claim found at start is a dead process's."""
        try:
            freed = await workers.take_over_all(self.sessions, self.platform, self.config.chats)
        except (OperationalError, DBAPIError):
            log.warning("sender.db_unavailable", extra={"platform": self.platform})
            return  # the claims' leases run out instead
        if freed:
            log.warning("outbox.taken_over_at_start", extra={"count": freed})

    async def _heartbeat(self) -> None:
        """Beat while running, apart from the sends: a slow send must not look dead."""
        while not self._stopping.is_set():
            try:
                await self._beat()
            except (OperationalError, DBAPIError):
                log.warning("sender.heartbeat_failed", extra={"platform": self.platform})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), workers.HEARTBEAT.total_seconds())

    async def _beat(self) -> None:
        await workers.beat(self.sessions, self.worker_id, self.platform, self.clock())
        self._registered = True

    async def drain_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were handled."""
        await self._hand_back()  # first, what a database outage left with us
        claimed = await self._claim()
        if not claimed:
            return 0
        queue = list(claimed)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while queue and not self._stopping.is_set():
                await self._in_flight.acquire()
                row = min(queue, key=lambda r: self.pacer.delay(r.chat_id, r.is_private))
                wait = self.pacer.delay(row.chat_id, row.is_private)
                if wait > self._longest_wait:
                    # A flood hold, or a long queue for one chat: hand the rest back
                    # rather than sit on claims that would run out meanwhile.
                    self._in_flight.release()
                    break
                if wait > 0:
                    self._in_flight.release()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), wait)
                    continue
                if self.shared_pace is None:
                    queue.remove(row)
                    self.pacer.record(row.chat_id, row.is_private)
                    starts = [(row, 0.0)]
                else:
                    starts = await self._reserve(row, queue)
                for started, wait in starts:
                    at = asyncio.get_running_loop().time() + wait
                    task = asyncio.create_task(self._deliver(started, at))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if queue:
                await self._release(queue)
        return len(claimed) - len(queue)

    async def _reserve(
        self, first: _Claimed, queue: list[_Claimed]
    ) -> list[tuple[_Claimed, float]]:
        """Take `first` and more rows ready by the local pacer (distinct chats, one in-flight
        permit each, `first`'s already held) off the queue, and reserve their slots in the
        shared pace in one transaction. Returns the rows to send with their waits; a row whose
        chat is busy (other workers' sends) goes back to the table until its turn."""
        picked = [first]
        chats = {first.chat_id}
        for row in queue:
            if self._in_flight.locked():
                break
            if row.chat_id in chats or self.pacer.delay(row.chat_id, row.is_private) > 0:
                continue
            await self._in_flight.acquire()  # free: not locked
            picked.append(row)
            chats.add(row.chat_id)
        assert self.shared_pace is not None
        try:
            slots = await self.shared_pace.reserve([(r.chat_id, r.is_private) for r in picked])
        except BaseException:
            for _ in picked:
                self._in_flight.release()
            raise
        starts, later = [], []
        for row, slot in zip(picked, slots, strict=True):
            queue.remove(row)
            if slot.reserved and slot.wait <= self._longest_wait:
                self.pacer.record(row.chat_id, row.is_private)
                starts.append((row, slot.wait))
            else:  # its chat is busy (another worker's sends): back to the table till then
                self._in_flight.release()
                later.append((row, slot.wait))
        if later:
            try:
                await self._defer(later)
            except (OperationalError, DBAPIError):  # handed back, due now, at the next drain
                self._unreleased.update((row.id, row.token) for row, _ in later)
        return starts

    async def _defer(self, rows: list[tuple[_Claimed, float]]) -> None:
        """Hand claims back, due again at their reserved slot."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OUTBOX)
                .where(Outbox.id == bindparam("rid"), Outbox.claim_token == bindparam("tok"))
                .values(
                    not_before=bindparam("due"),
                    claimed_until=None,
                    claim_token=None,
                    claimed_by=None,
                ),
                [
                    {"rid": r.id, "tok": r.token, "due": now + timedelta(seconds=wait)}
                    for r, wait in rows
                ],
            )

    # -- claiming -----------------------------------------------------------------------

    async def _claim(self) -> list[_Claimed]:
        if not self._registered:  # claims name a live worker, so others leave them alone
            await self._beat()
        now = self.clock()
        token = secrets.token_hex(8)
        due = select(Outbox.id).where(
            Outbox.status == PENDING,
            Outbox.platform == self.platform,
            Outbox.not_before <= now,
            or_(
                Outbox.claimed_until.is_(None),
                Outbox.claimed_until < now,
                workers.orphaned(self.worker_id, now),
            ),
        )
        if self.config.chats is not None:
            due = due.where(Outbox.platform_chat_id.in_(sorted(self.config.chats)))
        async with self.sessions() as session, session.begin():
            ids = list(
                await session.scalars(
                    due.order_by(Outbox.not_before, Outbox.id)
                    .limit(self.config.batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            rows = (
                await session.execute(select(*_CLAIMED_COLUMNS).where(Outbox.id.in_(ids)))
            ).all()
            stale = [r.id for r in rows if r.expires_at is not None and r.expires_at <= now]
            live = [r for r in rows if r.id not in set(stale)]
            if stale:
                await session.execute(
                    update(OUTBOX)
                    .where(Outbox.id.in_(stale))
                    .values(status=EXPIRED, claimed_until=None, claim_token=None)
                )
                log.info("outbox.expired", extra={"count": len(stale), "platform": self.platform})
            if live:
                await session.execute(
                    update(OUTBOX)
                    .where(Outbox.id.in_([r.id for r in live]))
                    .values(
                        claimed_until=now + self.config.claim_lease,
                        claim_token=token,
                        claimed_by=self.worker_id,
                    )
                )
        return [
            _Claimed(
                r.id,
                r.platform_chat_id,
                r.thread_id,
                r.is_private,
                r.user_id,
                r.reply,
                r.attempts,
                r.expires_at,
                token,
                unrecorded=r.attempts > 0 and r.last_error is None,
            )
            for r in sorted(live, key=lambda r: r.id)
        ]

    async def _release(self, rows: list[_Claimed]) -> None:
        """Hand unsent claims back at once instead of letting their lease run out."""
        self._unreleased.update((row.id, row.token) for row in rows)
        await self._hand_back()

    async def _hand_back(self) -> None:
        """Release the claims in `_unreleased`; if the database is away they stay there and
        the next drain tries again (the run loop retries each poll interval)."""
        if not self._unreleased:
            return
        held = dict(self._unreleased)
        async with self.sessions() as session, session.begin():
            # Fenced: a row another worker took over (its token changed) is not touched.
            await session.execute(
                update(OUTBOX)
                .where(Outbox.id == bindparam("rid"), Outbox.claim_token == bindparam("tok"))
                .values(claimed_until=None, claim_token=None, claimed_by=None),
                [{"rid": rid, "tok": token} for rid, token in held.items()],
            )
        for rid in held:
            self._unreleased.pop(rid, None)

    # -- one message --------------------------------------------------------------------

    async def _deliver(self, row: _Claimed, at: float = 0.0) -> None:
        """Send one row at `at` (the event loop's clock; its slot in the shared pace)."""
        sending = False
        try:
            if row.expires_at is not None and self.clock() >= row.expires_at:
                await self._finish(row, EXPIRED, error="expired before its turn")
                return
            if not await self._begin_attempt(row):
                log.info("outbox.claim_lost", extra={"outbox_id": row.id})
                return
            if row.unrecorded:
                log.warning("outbox.resend_after_crash", extra={"outbox_id": row.id})
            # After the attempt is counted, so its database trip does not jitter the pace.
            wait = at - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
            message = OutboundMessage(
                outbox_id=row.id,
                platform=self.platform,
                chat_id=row.chat_id,
                thread_id=row.thread_id,
                reply=Reply.from_dict(row.reply),
            )
            sending = True
            try:
                delivery = await self.transport.deliver(message)
            except Exception as exc:  # a transport bug or network error: retry later
                delivery = Delivery(DeliveryStatus.RETRY, error=type(exc).__name__)
            await self._with_db_retries(lambda: self._record(row, delivery))
        except Exception as exc:
            if not sending and isinstance(exc, (OperationalError, DBAPIError)):
                # Not sent, and the claim is ours: the next drain hands it back.
                self._unreleased[row.id] = row.token
            # Otherwise the row stays claimed; its lease runs out and it is tried again.
            log.exception("outbox.deliver_failed", extra={"outbox_id": row.id})
        finally:
            self._in_flight.release()

    async def _begin_attempt(self, row: _Claimed) -> bool:
        """Count the attempt and renew the lease, only if the claim is still ours."""
        now = self.clock()
        # Told to the coach: the unrecorded attempt may have reached the platform.
        maybe_twice = row.unrecorded and not self.drops_repeats
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(OUTBOX)
                .where(
                    Outbox.id == row.id,
                    Outbox.claim_token == row.token,
                    Outbox.status == PENDING,
                )
                .values(
                    attempts=Outbox.attempts + 1,
                    claimed_until=now + self.config.send_lease,
                    # Told to the coach: the first attempt may have reached the platform.
                    **({"maybe_twice": True} if maybe_twice else {}),
                )
            )
            return _rowcount(result) == 1

    async def _record(self, row: _Claimed, delivery: Delivery) -> None:
        status = delivery.status
        if status is DeliveryStatus.SENT:
            await self._finish(row, SENT, fenced=False)
        elif status is DeliveryStatus.UNREACHABLE:
            await self._unreachable(row, delivery.error)
        elif status is DeliveryStatus.FAILED or row.attempts + 1 >= self.config.max_attempts:
            await self._finish(row, FAILED, error=delivery.error or status.value)
            log.warning("outbox.failed", extra={"outbox_id": row.id, "status": status.value})
        else:
            await self._retry_later(row, delivery)

    async def _finish(
        self, row: _Claimed, status: str, *, error: str | None = None, fenced: bool = True
    ) -> None:
        now = self.clock()
        # "sent" is recorded even if the claim moved on: the platform has the message, and
        # saying so stops the new owner from sending it again.
        owner = Outbox.claim_token == row.token if fenced else Outbox.status == PENDING
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OUTBOX)
                .where(Outbox.id == row.id, owner)
                .values(
                    status=status,
                    sent_at=now if status == SENT else None,
                    claimed_until=None,
                    claim_token=None,
                    last_error=(error or "")[:256] or None,
                )
            )

    async def _retry_later(self, row: _Claimed, delivery: Delivery) -> None:
        attempt = row.attempts + 1
        if delivery.retry_after is not None:
            held = row.chat_id if delivery.retry_scope is RetryScope.CHAT else None
            self.pacer.hold(delivery.retry_after, held)
            await self._hold_everywhere(delivery.retry_after, row.chat_id)
            delay = delivery.retry_after * (1 + 0.1 * self.rng.random())
        else:
            ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempt - 1))
            delay = ceiling * (0.5 + 0.5 * self.rng.random())  # "equal jitter"
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OUTBOX)
                .where(Outbox.id == row.id, Outbox.claim_token == row.token)
                .values(
                    not_before=self.clock() + timedelta(seconds=delay),
                    claimed_until=None,
                    claim_token=None,
                    last_error=(delivery.error or "retry")[:256],
                )
            )

    async def _hold_everywhere(self, seconds: float, chat: str) -> None:
        """Pass a "retry after" on to the other workers through the shared pace: the chat,
        or every send once the local pacer holds everything (Pacer.hold says when)."""
        if self.shared_pace is None:
            return
        everything = self.pacer.held_for() > 0
        try:
            await self.shared_pace.hold(seconds, None if everything else chat)
        except (OperationalError, DBAPIError):  # the others learn from their own 429s
            log.warning("sender.shared_hold_failed", extra={"platform": self.platform})

    async def _unreachable(self, row: _Claimed, error: str | None) -> None:
        """Blocked or removed: this row, the chat's other pending rows, and the person or
        chat itself are marked, so the sweep stops writing for them."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OUTBOX)
                .where(
                    Outbox.platform == self.platform,
                    Outbox.platform_chat_id == row.chat_id,
                    Outbox.status == PENDING,
                    or_(Outbox.claim_token.is_(None), Outbox.claim_token == row.token),
                )
                .values(
                    status=UNREACHABLE,
                    claimed_until=None,
                    claim_token=None,
                    last_error=(error or "unreachable")[:256],
                )
            )
            if row.is_private and row.user_id is not None:
                await session.execute(
                    update(USERS).where(User.id == row.user_id).values(unreachable=True)
                )
            elif not row.is_private:
                await session.execute(
                    update(CHATS)
                    .where(Chat.platform == self.platform, Chat.platform_chat_id == row.chat_id)
                    .values(bot_is_member=False)
                )
        log.info("outbox.unreachable", extra={"chat": hashed(row.chat_id)})

    async def _with_db_retries(self, action: Callable[[], Any]) -> None:
        """Recording an outcome rides out a brief database outage: giving up here would
        turn a delivered message into a duplicate once the lease runs out."""
        delays = (0.2, 0.5, 1.0, 2.0, 4.0)
        for delay in delays:
            try:
                await action()
                return
            except (OperationalError, DBAPIError):
                log.warning("outbox.record_retry")
                await asyncio.sleep(delay)
        await action()


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
