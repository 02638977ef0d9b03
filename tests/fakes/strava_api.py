"""A local fake of Strava for end-to-end tests: OAuth 2 (the authorisation page, token
exchange and refresh, deauthorisation), the REST API the bot reads (one activity, the
athlete's activities) and the webhook side (creating a push subscription, which checks the
callback with hub.challenge, and posting events to it).

The real stravalib talks to it over real HTTP: point the bot at ``fake.api_base_url`` and
``fake.oauth_base_url`` (STRAVA_API_BASE_URL / STRAVA_OAUTH_BASE_URL).

Fidelity notes, where the fake mirrors Strava because clients get it wrong:

* Access tokens expire (6 hours after issue, on the fake's clock) and answer 401 then, as
  do revoked ones; refreshing issues a new access token and a new refresh token, and the
  old refresh token stops working.
* The authorisation redirect carries ``state`` unchanged, ``code`` and the *granted*
  ``scope`` (the person may untick boxes: ``grant_scope``), or ``error=access_denied``.
* Every API answer carries X-RateLimit-Limit / X-RateLimit-Usage ("100,1000", "n,m");
  beyond either limit the answer is 429. Quarter hours and days follow the fake's clock.
* A private activity is 404 without the ``activity:read_all`` scope, as on Strava.
* Faults can be queued for the next API calls (``fail_next``): 5xx, 429, 401.
"""

from __future__ import annotations

import html
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
from aiohttp import web

TOKEN_LIFETIME = timedelta(hours=6)


@dataclass
class FakeActivity:
    id: int
    sport: str
    start: datetime
    distance_m: float
    moving_s: int
    elevation_m: float = 0.0
    private: bool = False

    def json(self, athlete_id: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource_state": 3,
            "athlete": {"id": athlete_id, "resource_state": 1},
            "name": f"{self.sport} activity",
            "type": self.sport if self.sport in ("Run", "Ride", "Swim", "Walk") else "Workout",
            "sport_type": self.sport,
            "start_date": self.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_date_local": self.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": "(GMT+00:00) Europe/London",
            "distance": self.distance_m,
            "moving_time": self.moving_s,
            "elapsed_time": self.moving_s + 60,
            "total_elevation_gain": self.elevation_m,
            "private": self.private,
            "manual": False,
        }


@dataclass
class FakeAthlete:
    id: int
    activities: dict[int, FakeActivity] = field(default_factory=dict)


@dataclass
class Grant:
    athlete_id: int
    scope: str
    access_token: str
    refresh_token: str
    expires_at: datetime
    revoked: bool = False


class FakeStrava:
    def __init__(
        self,
        *,
        client_id: int = 4242,
        client_secret: str = "fakeclientsecret0123456789abcdef01234567",
        clock: Callable[[], datetime] | None = None,
        short_limit: int = 100,
        long_limit: int = 1000,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock or (lambda: datetime.now(UTC))
        self.short_limit, self.long_limit = short_limit, long_limit
        self.athletes: dict[int, FakeAthlete] = {}
        self.grants: list[Grant] = []
        self.codes: dict[str, tuple[int, str]] = {}  # code -> (athlete, granted scope)
        self.faults: list[int] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.api_calls: list[datetime] = []  # when each counted API request came
        self.subscriptions: list[dict[str, str]] = []
        self.deauthorized: list[int] = []
        self.grant_scope: str | None = None  # the scope the person leaves ticked
        self.signed_in_athlete: int | None = None
        self._ids = itertools.count(9_000_000_001)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/oauth/authorize", self._authorize_page)
        app.router.add_post("/oauth/authorize", self._authorize_answer)
        app.router.add_post("/oauth/token", self._token)
        app.router.add_post("/oauth/deauthorize", self._deauthorize)
        app.router.add_post("/api/v3/oauth/deauthorize", self._deauthorize)
        app.router.add_get("/api/v3/activities/{id}", self._activity)
        app.router.add_get("/api/v3/athlete/activities", self._activities)
        app.router.add_post("/api/v3/push_subscriptions", self._subscribe)
        app.middlewares.append(self._record)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.root}/api/v3"

    @property
    def oauth_base_url(self) -> str:
        return f"{self.root}/oauth"

    # -- the world ----------------------------------------------------------------------

    def athlete(self, athlete_id: int = 1001) -> FakeAthlete:
        self.signed_in_athlete = self.signed_in_athlete or athlete_id
        return self.athletes.setdefault(athlete_id, FakeAthlete(athlete_id))

    def add_activity(
        self,
        athlete_id: int,
        *,
        sport: str = "Run",
        km: float = 10.0,
        minutes: int = 50,
        start: datetime | None = None,
        private: bool = False,
    ) -> FakeActivity:
        activity = FakeActivity(
            id=next(self._ids),
            sport=sport,
            start=start or self.clock() - timedelta(minutes=minutes + 5),
            distance_m=km * 1000,
            moving_s=minutes * 60,
            elevation_m=42.0,
            private=private,
        )
        self.athlete(athlete_id).activities[activity.id] = activity
        return activity

    def delete_activity(self, athlete_id: int, activity_id: int) -> None:
        del self.athletes[athlete_id].activities[activity_id]

    def fail_next(self, *statuses: int) -> None:
        """The next API calls answer these statuses (5xx, 429, 401), in order."""
        self.faults.extend(statuses)

    def revoke(self, athlete_id: int) -> None:
        """The person removes the app in Strava's settings: every token stops working."""
        for grant in self.grants:
            if grant.athlete_id == athlete_id:
                grant.revoked = True

    def live_grants(self, athlete_id: int) -> list[Grant]:
        return [g for g in self.grants if g.athlete_id == athlete_id and not g.revoked]

    def authorize(self, url: str, *, allow: bool = True) -> str:
        """What pressing Authorize (or Cancel) on the page of `url` redirects to."""
        query = dict(parse_qsl(urlsplit(url).query))
        return self._redirect_for(query, allow)

    async def send_event(
        self,
        callback_url: str,
        *,
        owner_id: int,
        object_id: int,
        aspect_type: str = "create",
        object_type: str = "activity",
        updates: dict[str, str] | None = None,
    ) -> int:
        """POST one webhook event to the bot, as Strava does; the HTTP status it got."""
        body = {
            "aspect_type": aspect_type,
            "event_time": int(self.clock().timestamp()),
            "object_id": object_id,
            "object_type": object_type,
            "owner_id": owner_id,
            "subscription_id": 1,
            "updates": updates or {},
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(callback_url, json=body) as response,
        ):
            return response.status

    # -- OAuth --------------------------------------------------------------------------

    def _redirect_for(self, query: dict[str, str], allow: bool) -> str:
        redirect = query["redirect_uri"]
        answer: dict[str, str] = {"state": query.get("state", "")}
        if not allow:
            answer["error"] = "access_denied"
        else:
            athlete_id = self.signed_in_athlete or 1001
            self.athlete(athlete_id)
            asked = query.get("scope", "read")
            scope = self.grant_scope if self.grant_scope is not None else f"read,{asked}"
            code = secrets.token_hex(20)
            self.codes[code] = (athlete_id, scope)
            answer |= {"code": code, "scope": scope}
        return f"{redirect}?{urlencode(answer)}"

    async def _authorize_page(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        if query.get("client_id") != str(self.client_id) or "redirect_uri" not in query:
            return web.Response(status=400, text="Bad Request: client_id or redirect_uri")
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        page = (
            "<!doctype html><html lang='en'><head><title>Authorize | Strava</title></head>"
            "<body><main><h1>Authorize Core Coach to connect to Strava</h1>"
            f"<p>Scope: {html.escape(query.get('scope', ''))}</p>"
            f"<form method='post'>{hidden}"
            "<button name='decision' value='allow'>Authorize</button> "
            "<button name='decision' value='deny'>Cancel</button></form></main></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _authorize_answer(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        decision = form.pop("decision", "deny")
        raise web.HTTPFound(self._redirect_for(form, decision == "allow"))

    async def _token(self, request: web.Request) -> web.Response:
        params = {**request.query, **{k: str(v) for k, v in (await request.post()).items()}}
        if params.get("client_id") != str(self.client_id) or (
            params.get("client_secret") != self.client_secret
        ):
            return _error(401, "Authorization Error", "client_id", "invalid")
        if params.get("grant_type") == "authorization_code":
            found = self.codes.pop(params.get("code", ""), None)
            if found is None:
                return _error(400, "Bad Request", "code", "invalid")
            athlete_id, scope = found
            grant = self._issue(athlete_id, scope)
            return web.json_response(
                {
                    "token_type": "Bearer",
                    "access_token": grant.access_token,
                    "refresh_token": grant.refresh_token,
                    "expires_at": int(grant.expires_at.timestamp()),
                    "expires_in": int(TOKEN_LIFETIME.total_seconds()),
                    "athlete": {"id": athlete_id, "resource_state": 2},
                }
            )
        if params.get("grant_type") == "refresh_token":
            old = next(
                (
                    g
                    for g in self.grants
                    if g.refresh_token == params.get("refresh_token") and not g.revoked
                ),
                None,
            )
            if old is None:
                return _error(400, "Bad Request", "refresh_token", "invalid")
            old.revoked = True
            grant = self._issue(old.athlete_id, old.scope)
            return web.json_response(
                {
                    "token_type": "Bearer",
                    "access_token": grant.access_token,
                    "refresh_token": grant.refresh_token,
                    "expires_at": int(grant.expires_at.timestamp()),
                    "expires_in": int(TOKEN_LIFETIME.total_seconds()),
                }
            )
        return _error(400, "Bad Request", "grant_type", "invalid")

    def _issue(self, athlete_id: int, scope: str) -> Grant:
        grant = Grant(
            athlete_id=athlete_id,
            scope=scope,
            access_token=secrets.token_hex(20),
            refresh_token=secrets.token_hex(20),
            expires_at=self.clock() + TOKEN_LIFETIME,
        )
        self.grants.append(grant)
        return grant

    async def _deauthorize(self, request: web.Request) -> web.Response:
        grant = self._grant_of(request)
        if grant is None:
            return _error(401, "Authorization Error", "access_token", "invalid")
        self.revoke(grant.athlete_id)
        self.deauthorized.append(grant.athlete_id)
        return web.json_response({"access_token": grant.access_token})

    def _grant_of(self, request: web.Request) -> Grant | None:
        token = request.query.get("access_token") or request.headers.get(
            "Authorization", ""
        ).removeprefix("Bearer ")
        for grant in self.grants:
            if grant.access_token == token and not grant.revoked:
                return grant if grant.expires_at > self.clock() else None
        return None

    # -- the API ------------------------------------------------------------------------

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if not request.path.startswith("/api/v3/") or "oauth" in request.path:
            response: web.StreamResponse = await handler(request)
            return response
        now = self.clock()
        self.api_calls.append(now)
        quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        short = sum(1 for t in self.api_calls if t >= quarter)
        day = sum(1 for t in self.api_calls if t.date() == now.date())
        headers = {
            "X-RateLimit-Limit": f"{self.short_limit},{self.long_limit}",
            "X-RateLimit-Usage": f"{short},{day}",
        }
        if short > self.short_limit or day > self.long_limit:
            response = _error(429, "Rate Limit Exceeded", "", "exceeded")
        elif self.faults:
            status = self.faults.pop(0)
            response = _error(status, "Fault", "", "injected")
        else:
            response = await handler(request)
        response.headers.update(headers)
        return response

    async def _activity(self, request: web.Request) -> web.Response:
        grant = self._grant_of(request)
        if grant is None:
            return _error(401, "Authorization Error", "access_token", "invalid")
        athlete = self.athletes.get(grant.athlete_id)
        activity = athlete.activities.get(int(request.match_info["id"])) if athlete else None
        if activity is None or (activity.private and "activity:read_all" not in grant.scope):
            return _error(404, "Record Not Found", "resource", "not found")
        return web.json_response(activity.json(grant.athlete_id))

    async def _activities(self, request: web.Request) -> web.Response:
        grant = self._grant_of(request)
        if grant is None:
            return _error(401, "Authorization Error", "access_token", "invalid")
        after = int(request.query.get("after") or 0)
        page = int(request.query.get("page") or 1)
        per_page = int(request.query.get("per_page") or 30)
        found = sorted(
            (
                a
                for a in self.athletes[grant.athlete_id].activities.values()
                if a.start.timestamp() > after
                and (not a.private or "activity:read_all" in grant.scope)
            ),
            key=lambda a: a.start,
            reverse=True,
        )
        chunk = found[(page - 1) * per_page : page * per_page]
        return web.json_response([a.json(grant.athlete_id) for a in chunk])

    async def _subscribe(self, request: web.Request) -> web.Response:
        params = {**request.query, **{k: str(v) for k, v in (await request.post()).items()}}
        if params.get("client_secret") != self.client_secret:
            return _error(401, "Authorization Error", "client_secret", "invalid")
        challenge = secrets.token_hex(8)
        query = urlencode(
            {
                "hub.mode": "subscribe",
                "hub.challenge": challenge,
                "hub.verify_token": params.get("verify_token", ""),
            }
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{params['callback_url']}?{query}") as answer,
        ):
            echoed = (await answer.json()).get("hub.challenge") if answer.status == 200 else None
        if echoed != challenge:
            return _error(
                400, "Bad Request", "callback url", "GET to callback URL does not return 200"
            )
        self.subscriptions.append(params)
        return web.json_response({"id": len(self.subscriptions)}, status=201)


def _error(status: int, message: str, field_name: str, code: str) -> web.Response:
    return web.json_response(
        {"message": message, "errors": [{"resource": "Fake", "field": field_name, "code": code}]},
        status=status,
    )
