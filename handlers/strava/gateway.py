"""Strava over HTTP, through stravalib (the maintained client): one small async face for the
feature, with stravalib's synchronous calls run in a worker thread and its errors turned into
the few cases the feature handles differently.

stravalib builds https://www.strava.com URLs itself; `RebasedSession` (a plain
requests.Session) sends them to STRAVA_API_BASE_URL / STRAVA_OAUTH_BASE_URL instead, which is
how the tests point the real client at a local fake of Strava.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from stravalib import exc
from stravalib.client import Client
from stravalib.model import SummaryActivity

from handlers.strava.setup import StravaSetup

STRAVA_API = "https://www.strava.com/api/v3"
STRAVA_OAUTH = "https://www.strava.com/oauth"
# stravalib logs each request's URL and query at INFO (tokens and the client secret included),
# and urllib3 the URL of each request at DEBUG (activity ids): both stay at WARNING whatever
# COACH_LOG_LEVEL says.
for _noisy in ("stravalib", "urllib3"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)
TIMEOUT_SECONDS = 10.0
T = TypeVar("T")


class StravaError(Exception):
    """Strava said no or could not be reached; the subclasses say what to do about it."""


class Unauthorized(StravaError):
    """401: the token expired or the person revoked our access."""


class NotFound(StravaError):
    """404: the activity was deleted (or made private without activity:read_all)."""


class RateLimited(StravaError):
    """429: over Strava's limit; wait for the next window."""


class Rejected(StravaError):
    """Another 4xx: the request itself is refused (an invalid or revoked refresh token)."""


class Unavailable(StravaError):
    """5xx or no answer: try again later."""


@dataclass(frozen=True)
class Grant:
    access_token: str
    refresh_token: str
    expires_at: datetime
    athlete_id: int | None = None


@dataclass(frozen=True)
class ActivityFacts:
    activity_id: int
    sport: str  # Strava's sport_type: Run, TrailRun, VirtualRun, Ride, …
    started_at: datetime
    distance_m: int
    moving_s: int | None
    elevation_m: int | None


Headers = Mapping[str, str]


class RebasedSession(requests.Session):
    """Sends stravalib's Strava URLs to the configured bases (a self-hosted fake in tests)."""

    def __init__(self, setup: StravaSetup) -> None:
        super().__init__()
        self.setup = setup
        self.seen: list[Headers] = []  # the rate-limit headers of each API answer

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        target = rebase(url.decode() if isinstance(url, bytes) else url, self.setup)
        response = super().request(method, target, *args, **kwargs)
        if target.startswith(self.setup.api_base_url):
            self.seen.append(dict(response.headers))
        return response


def rebase(url: str, setup: StravaSetup) -> str:
    for strava, ours in ((STRAVA_API, setup.api_base_url), (STRAVA_OAUTH, setup.oauth_base_url)):
        if url.startswith(strava):
            return ours.rstrip("/") + url[len(strava) :]
    return url


def authorize_url(setup: StravaSetup, state: str, *, private_runs: bool) -> str:
    scope: list[Any] = ["activity:read_all" if private_runs else "activity:read"]
    url = Client(rate_limit_requests=False).authorization_url(
        client_id=setup.client_id, redirect_uri=setup.redirect_uri, scope=scope, state=state
    )
    return rebase(url, setup)


class Gateway:
    """One person's (or the app's) calls to Strava; each returns what Strava said and the
    rate-limit headers it carried (for the shared limiter)."""

    def __init__(self, setup: StravaSetup) -> None:
        self.setup = setup

    async def exchange(self, code: str) -> Grant:
        def call(client: Client) -> Grant:
            answer = client.exchange_code_for_token(
                client_id=self.setup.client_id,
                client_secret=self.setup.client_secret,
                code=code,
                return_athlete=True,
            )
            if not isinstance(answer, tuple):
                raise StravaError("no athlete in the token answer")
            info, athlete = answer
            athlete_id = athlete.id if athlete is not None else None
            return _grant(dict(info), int(athlete_id) if athlete_id is not None else None)

        result, _ = await self._run(call)
        return result

    async def refresh(self, refresh_token: str) -> Grant:
        def call(client: Client) -> Grant:
            info = client.refresh_access_token(
                client_id=self.setup.client_id,
                client_secret=self.setup.client_secret,
                refresh_token=refresh_token,
            )
            return _grant(dict(info), None)

        result, _ = await self._run(call)
        return result

    async def deauthorize(self, access_token: str) -> None:
        await self._run(lambda client: client.deauthorize(), access_token)

    async def activity(self, access_token: str, activity_id: int) -> tuple[ActivityFacts, Headers]:
        def call(client: Client) -> ActivityFacts:
            return facts_of(client.get_activity(activity_id))

        result, seen = await self._run(call, access_token)
        return result, seen

    async def activities(
        self, access_token: str, *, after: datetime, page_size: int, limit: int
    ) -> tuple[list[ActivityFacts], Headers]:
        """The person's activities since `after`, oldest first (at most `limit`)."""

        def call(client: Client) -> list[ActivityFacts]:
            found = client.get_activities(after=after, limit=limit)
            found.per_page = page_size
            return sorted((facts_of(a) for a in found), key=lambda a: a.started_at)

        result, seen = await self._run(call, access_token)
        return result, seen

    def create_subscription(self) -> int:
        """The webhook subscription (`corecoach strava subscribe`): Strava first checks the
        callback URL with a hub.challenge, so the bot must already be serving it."""
        if self.setup.verify_token is None:
            raise ValueError("STRAVA_VERIFY_TOKEN is not set")
        with RebasedSession(self.setup) as session:
            client = Client(rate_limit_requests=False, requests_session=session)
            subscription = _mapped(
                lambda: client.create_subscription(
                    client_id=self.setup.client_id,
                    client_secret=self.setup.client_secret,
                    callback_url=self.setup.webhook_url,
                    verify_token=self.setup.verify_token or "",
                )
            )
        return int(subscription.id or 0)

    async def _run(
        self, call: Callable[[Client], T], access_token: str | None = None
    ) -> tuple[T, Headers]:
        def in_thread() -> tuple[T, Headers]:
            with RebasedSession(self.setup) as session:
                client = Client(
                    access_token=access_token,
                    rate_limit_requests=False,
                    requests_session=session,
                )
                result = _mapped(lambda: call(client))
                return result, (session.seen[-1] if session.seen else {})

        return await asyncio.to_thread(in_thread)


def _mapped(call: Callable[[], T]) -> T:
    try:
        return call()
    except exc.AccessUnauthorized as error:
        raise Unauthorized("401") from error
    except exc.ObjectNotFound as error:
        raise NotFound("404") from error
    except exc.Fault as error:
        status = error.response.status_code if error.response is not None else 0
        if status == 429:
            raise RateLimited("429") from error
        if status >= 500:
            raise Unavailable(str(status)) from error
        raise Rejected(str(status)) from error
    except requests.RequestException as error:
        raise Unavailable(type(error).__name__) from error


def _grant(info: Mapping[str, Any], athlete_id: int | None) -> Grant:
    return Grant(
        access_token=str(info["access_token"]),
        refresh_token=str(info["refresh_token"]),
        expires_at=datetime.fromtimestamp(int(info["expires_at"]), UTC),
        athlete_id=athlete_id,
    )


def facts_of(activity: SummaryActivity) -> ActivityFacts:
    sport = activity.sport_type.root if activity.sport_type is not None else "Workout"
    started = activity.start_date or datetime.now(UTC)
    return ActivityFacts(
        activity_id=int(activity.id or 0),
        sport=str(sport),
        started_at=started if started.tzinfo else started.replace(tzinfo=UTC),
        distance_m=round(float(activity.distance or 0)),
        moving_s=int(activity.moving_time) if activity.moving_time is not None else None,
        elevation_m=(
            round(float(activity.total_elevation_gain))
            if activity.total_elevation_gain is not None
            else None
        ),
    )
