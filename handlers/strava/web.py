"""What the bot's web server asks of the Strava feature (bot/adapters/strava_web.py serves
it): finishing an authorisation at the callback, and the webhook's validation and events.

The webhook answers at once (Strava wants a 200 within two seconds): an event only becomes a
row in strava_jobs here, and the sweep's worker (jobs.py) does the rest."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stravalib.model import SubscriptionUpdate

from bot.content.bundle import ContentBundle
from bot.engine.events import Reply
from bot.storage.models import Chat, StravaConnection
from handlers.strava import store
from handlers.strava.gateway import Gateway, StravaError
from handlers.strava.setup import current
from handlers.strava.tokens import TokenBox
from scheduler import outbox

log = logging.getLogger("corecoach.strava")
READ_SCOPES = ("activity:read", "activity:read_all")


class Page(StrEnum):
    """The pages a person may see after Strava's authorisation page (content: strava.pages)."""

    CONNECTED = "connected"
    DENIED = "denied"
    EXPIRED = "expired"
    ALREADY = "already"
    FAILED = "failed"


async def finish_connect(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    params: Mapping[str, str],
    now: datetime,
    gateway: Gateway | None = None,
) -> Page:
    """The callback: the `state` is used up whatever the outcome; the code is exchanged for
    tokens only when the person allowed reading activities."""
    setup = current()
    if setup is None:
        return Page.FAILED
    async with sessions() as session, session.begin():
        asked = await store.take_state(session, params.get("state", ""), now)
    if asked is None:
        log.info("strava.callback_expired")
        return Page.EXPIRED
    granted = set(params.get("scope", "").split(","))
    code = params.get("code", "")
    if params.get("error") or not code or not granted.intersection(READ_SCOPES):
        log.info("strava.callback_denied")
        return Page.DENIED
    try:
        grant = await (gateway or Gateway(setup)).exchange(code)
    except StravaError as error:
        log.warning("strava.exchange_failed", extra={"error": type(error).__name__})
        return Page.FAILED
    if grant.athlete_id is None:
        return Page.FAILED
    box = TokenBox(setup.token_key)
    async with sessions() as session, session.begin():
        taken = await store.connection_by_athlete(session, grant.athlete_id)
        mine = await store.connection_of(session, asked.user_id)
        if taken is not None or mine is not None:
            return Page.ALREADY
        session.add(
            StravaConnection(
                user_id=asked.user_id,
                athlete_id=grant.athlete_id,
                chat_id=asked.chat_id,
                scope=",".join(sorted(granted))[:128],
                access_token=box.seal(grant.access_token),
                refresh_token=box.seal(grant.refresh_token),
                expires_at=grant.expires_at,
                all_sports=False,
                checkins=True,
                connected_at=now,
            )
        )
        store.add_job(session, grant.athlete_id, store.BACKFILL, now)
        await _tell(session, content, asked.user_id, asked.chat_id, now)
    log.info("strava.connected")
    return Page.CONNECTED


async def _tell(
    session: AsyncSession, content: ContentBundle, user_id: int, chat_id: int, now: datetime
) -> None:
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return
    text = content.strava.connected_chat
    await outbox.enqueue(
        session,
        [
            outbox.NewMessage.to(
                chat,
                dedupe_key=f"strava:connected:{user_id}:{int(now.timestamp())}",
                user_id=user_id,
                reply=Reply(text),
            )
        ],
        now=now,
    )


def challenge(params: Mapping[str, str]) -> str | None:
    """Strava's subscription check: echo hub.challenge when the verify token is ours."""
    setup = current()
    expected = setup.verify_token if setup is not None else None
    given = params.get("hub.verify_token", "")
    if expected is None or params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("strava.webhook_bad_verify_token")
        return None
    return params.get("hub.challenge") or None


async def record_event(
    sessions: async_sessionmaker[AsyncSession], body: Mapping[str, Any], now: datetime
) -> bool:
    """Keep an event for the worker; False if it is not a Strava event at all. Events of
    people not connected (any more) are dropped here: nothing of theirs is kept."""
    try:
        event = SubscriptionUpdate.model_validate(dict(body))
    except ValidationError:
        return False
    if event.owner_id is None or event.object_id is None:
        return False
    kind: str | None = None
    if event.object_type == "activity" and event.aspect_type in store.ACTIVITY_KINDS:
        kind = event.aspect_type
    elif (
        event.object_type == "athlete"
        and str((event.updates or {}).get("authorized", "")).lower() == "false"
    ):
        kind = store.DEAUTHORIZED
    if kind is None:
        return True  # a change we do not use (a profile update): acknowledged, ignored
    async with sessions() as session, session.begin():
        if await store.connection_by_athlete(session, event.owner_id) is None:
            log.info("strava.event_without_connection", extra={"kind": kind})
            return True
        activity = event.object_id if kind in store.ACTIVITY_KINDS else None
        store.add_job(session, event.owner_id, kind, now, activity_id=activity)
    return True
