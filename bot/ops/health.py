"""The operations endpoint of `corecoach run`: `/healthz` for Docker and orchestrators, and
`/metrics` for Prometheus.

- `/healthz`: 200 when the database answers and the content is loaded, else 503; a small JSON
  body says which check failed (no personal data, no connection strings).
- `/metrics`: this process's counters (bot/ops/metrics.py) plus gauges read from the database
  at scrape time, so every process reports the same outbox and triage figures whichever of
  them does the sending.

COACH_HEALTH_HOST / COACH_HEALTH_PORT choose where it listens (port 0 in the settings turns it
off; `HealthServer.start(host, 0)` itself binds any free port, which the tests use).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.assembled import Assembled
from bot.content.bundle import ContentBundle
from bot.ops.metrics import Metrics, Sample, render
from bot.storage.models import Outbox, TriageReport, utcnow

log = logging.getLogger("corecoach.health")


PENDING = "pending"  # scheduler.outbox.PENDING; not imported to keep ops free of the scheduler
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: ContentBundle,
        metrics: Metrics,
        *,
        clock: Callable[[], datetime] = utcnow,
        db_timeout: float = 2.0,
    ) -> None:
        self.sessions = sessions
        self.content = content
        self.metrics = metrics
        self.clock = clock
        self.db_timeout = db_timeout
        self.started = time.monotonic()
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int, routes: Sequence[web.RouteDef] = ()) -> int:
        """Listen on host:port (0: any free port); returns the port. `routes` are the
        adapters' own endpoints (webhooks, OAuth callbacks) served beside the checks."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_routes(routes)
        # No access log: it would record every probe; handle_signals: the runner owns SIGTERM.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = int(self._runner.addresses[0][1])
        log.info("health.listening", extra={"host": host, "port": bound})
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- checks ---------------------------------------------------------------------------

    async def check(self) -> tuple[bool, dict[str, str]]:
        checks = {"database": "ok", "content": "ok"}
        try:
            async with asyncio.timeout(self.db_timeout), self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # down, locked, refused, timed out: all mean "not healthy"
            checks["database"] = f"unavailable ({type(exc).__name__})"
        if not self.content.cards or not self.content.triage.outcomes:
            checks["content"] = "not loaded"
        return all(v == "ok" for v in checks.values()), checks

    async def samples(self) -> list[Sample]:
        samples = self.metrics.samples()
        try:
            async with asyncio.timeout(self.db_timeout):
                samples += await database_samples(self.sessions, self.clock())
            samples.append(Sample("corecoach_database_up", 1))
        except Exception:
            samples.append(Sample("corecoach_database_up", 0))
        return samples

    # -- HTTP -----------------------------------------------------------------------------

    async def _healthz(self, _request: web.Request) -> web.Response:
        healthy, checks = await self.check()
        body = {
            "status": "ok" if healthy else "unhealthy",
            **checks,
            "uptime_seconds": str(int(time.monotonic() - self.started)),
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = render(await self.samples())
        return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})


async def database_samples(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> list[Sample]:
    """Outbox depth and age, delivery outcomes, and stored triage outcomes: counts only."""
    pending = Outbox.status == PENDING
    async with sessions() as session:
        total = await session.scalar(select(func.count()).where(pending))
        due_count, oldest_due = (
            await session.execute(
                select(func.count(), func.min(Outbox.not_before)).where(
                    pending, Outbox.not_before <= now
                )
            )
        ).one()
        retrying = await session.scalar(
            select(func.count()).where(pending, Outbox.last_error.is_not(None))
        )
        statuses = (
            await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
        ).all()
        outcomes = (
            await session.execute(
                select(TriageReport.outcome, func.count()).group_by(TriageReport.outcome)
            )
        ).all()
    age = (now - oldest_due).total_seconds() if oldest_due is not None else 0.0
    return [
        Sample("corecoach_outbox_pending", total or 0),
        Sample("corecoach_outbox_due", due_count or 0),
        Sample("corecoach_outbox_oldest_due_age_seconds", max(0.0, age)),
        Sample("corecoach_outbox_retrying", retrying or 0),
        *(Sample("corecoach_outbox_messages", n, (("status", s),)) for s, n in statuses),
        *(Sample("corecoach_triage_reports", n, (("outcome", o),)) for o, n in outcomes),
    ]


async def start_ops(app: Assembled, routes: Sequence[web.RouteDef] = ()) -> HealthServer | None:
    """Count every turn, and serve /healthz, /metrics and the adapters' `routes` unless
    COACH_HEALTH_PORT is 0."""
    metrics = Metrics()
    app.engine.on_turn = metrics.count_turn
    settings = app.settings
    if settings.health_port == 0:
        return None
    server = HealthServer(app.sessions, app.content, metrics)
    try:
        await server.start(settings.health_host, settings.health_port, routes)
    except OSError as exc:  # the port is taken, or the host is not this machine's
        await server.stop()
        where = f"{settings.health_host}:{settings.health_port}"
        raise SystemExit(
            f"corecoach: cannot serve /healthz on {where} ({exc.strerror or exc}); "
            "choose another COACH_HEALTH_PORT or COACH_HEALTH_HOST (port 0 turns it off)"
        ) from None
    return server
