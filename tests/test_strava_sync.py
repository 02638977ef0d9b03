"""Runs arriving from Strava: the webhook (validation and events) on the bot's real web
server, the worker fetching through the real stravalib from the fake, the training log kept
in line (once per activity, updates and deletes applied, other sports left out), the 4-week
backfill, the after-run check-in, and the faults."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.bundle import ContentBundle
from bot.storage.models import DialogState, StravaConnection, StravaJob, StravaRateLimit
from handlers.strava.api import subscribe
from handlers.strava.setup import current
from tests.harness import ChatHarness, FakeClock, Person
from tests.strava_world import VERIFY_TOKEN, StravaWorld, start_world, stop_world

ATHLETE = 1001


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession],
    content: ContentBundle,
    clock: FakeClock,
    bot: ChatHarness,
) -> AsyncIterator[StravaWorld]:
    built = await start_world(sessions, content, clock, bot)
    yield built
    await stop_world(built)


async def connected(world: StravaWorld) -> Person:
    ann = world.bot.person("ann")
    await world.connect(ann, athlete_id=ATHLETE)
    await world.sweep()  # the backfill
    return ann


async def event(world: StravaWorld, activity_id: int, aspect: str = "create") -> None:
    status = await world.fake.send_event(
        world.webhook, owner_id=ATHLETE, object_id=activity_id, aspect_type=aspect
    )
    assert status == 200


# --- the webhook's validation ------------------------------------------------------------


async def test_subscribe_passes_the_hub_challenge(world: StravaWorld) -> None:
    setup = current()
    assert setup is not None
    # Strava checks the callback while the subscription request waits: a thread for the
    # synchronous client, the event loop free to answer the check.
    subscription_id = await asyncio.to_thread(subscribe, setup)
    assert subscription_id == 1
    assert world.fake.subscriptions[0]["callback_url"] == world.webhook


async def test_a_wrong_verify_token_is_refused(world: StravaWorld) -> None:
    query = "hub.mode=subscribe&hub.challenge=abc&hub.verify_token=wrong-token-000000"
    status, _ = await world.get(f"{world.webhook}?{query}")
    assert status == 403
    query = f"hub.mode=subscribe&hub.challenge=abc&hub.verify_token={VERIFY_TOKEN}"
    status, body = await world.get(f"{world.webhook}?{query}")
    assert status == 200 and '"hub.challenge": "abc"' in body


# --- runs into the log -------------------------------------------------------------------


async def test_backfill_logs_four_weeks_of_runs_only(world: StravaWorld) -> None:
    now = world.clock()
    world.fake.add_activity(ATHLETE, km=8, start=now - timedelta(days=3))
    world.fake.add_activity(ATHLETE, sport="TrailRun", km=15, start=now - timedelta(days=10))
    world.fake.add_activity(ATHLETE, sport="Ride", km=40, start=now - timedelta(days=2))
    world.fake.add_activity(ATHLETE, km=21, start=now - timedelta(days=40))  # too old
    await connected(world)
    runs = await world.runs()
    assert [r.distance_m for r in runs] == [15000, 8000]
    assert {r.source for r in runs} == {"strava"}
    assert await world.count(StravaJob) == 0
    # A backfill asks no after-run questions: only the "connected" message is queued.
    assert len(await world.outbox()) == 1


async def test_a_new_run_is_logged_once_updated_and_deleted(world: StravaWorld) -> None:
    await connected(world)
    run = world.fake.add_activity(ATHLETE, km=14, minutes=70)
    await event(world, run.id)
    await event(world, run.id)  # Strava may deliver an event twice
    await world.sweep()
    [logged] = await world.runs()
    assert (logged.distance_m, logged.duration_s, logged.elevation_gain_m) == (14000, 4200, 42)

    run.distance_m = 14500
    await event(world, run.id, "update")
    await world.sweep()
    [logged] = await world.runs()
    assert logged.distance_m == 14500

    world.fake.delete_activity(ATHLETE, run.id)
    await event(world, run.id, "delete")
    await world.sweep()
    assert await world.runs() == []
    assert await world.count(StravaJob) == 0


async def test_other_sports_only_when_wanted(world: StravaWorld) -> None:
    ann = await connected(world)
    ride = world.fake.add_activity(ATHLETE, sport="Ride", km=30)
    await event(world, ride.id)
    await world.sweep()
    assert await world.runs() == []
    await ann.say("/strava")
    await ann.press("Log all sports")
    swim = world.fake.add_activity(ATHLETE, sport="Swim", km=2)
    await event(world, swim.id)
    await world.sweep()
    assert [r.distance_m for r in await world.runs()] == [2000]


# --- the after-run check-in --------------------------------------------------------------


async def test_check_in_after_a_run_once_a_day(world: StravaWorld) -> None:
    ann = await connected(world)
    first = world.fake.add_activity(ATHLETE, km=14)
    await event(world, first.id)
    await world.sweep()
    question = (await world.outbox())[-1]
    assert "14.0 km" in question.reply["text"]
    labels = [b["label"] for row in question.reply["buttons"] for b in row]
    assert labels == ["Fine", "A bit sore", "Sore", "Stop asking after runs"]

    second = world.fake.add_activity(ATHLETE, km=5)
    await event(world, second.id)
    await world.sweep()
    assert len(await world.outbox()) == 2  # connected + one question today

    sore = next(
        b["payload"] for row in question.reply["buttons"] for b in row if b["label"] == "Sore"
    )
    await ann.press_payload(sore)
    assert ann.dialog == "triage"  # the soreness check started
    # ...linked to the run asked about (the 14 km), not the later 5 km of the same day.
    fourteen = next(r.id for r in await world.runs() if r.distance_m == 14_000)
    async with world.sessions() as session:
        state = (await session.scalars(select(DialogState))).one()
    assert state.kind == "triage" and state.data["run_id"] == fourteen

    off = question.reply["buttons"][1][0]["payload"]
    await ann.press_payload(off)
    conn = await world.connection()
    assert conn is not None and not conn.checkins


async def test_check_in_waits_for_the_end_of_quiet_hours(world: StravaWorld) -> None:
    await connected(world)
    world.clock.now = world.clock.now.replace(hour=22, minute=30)
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    await world.sweep()
    question = (await world.outbox())[-1]
    assert question.not_before == (world.clock() + timedelta(days=1)).replace(hour=7, minute=0)


async def test_someone_elses_check_in_button_changes_nothing(world: StravaWorld) -> None:
    await connected(world)
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    await world.sweep()
    sore = (await world.outbox())[-1].reply["buttons"][0][2]["payload"]
    bob = world.bot.person("bob")
    await bob.press_payload(sore)
    assert "isn't one of yours" in bob.text() and bob.dialog is None


# --- faults ------------------------------------------------------------------------------


async def test_server_errors_are_retried_without_losing_the_run(world: StravaWorld) -> None:
    await connected(world)
    run = world.fake.add_activity(ATHLETE, km=10)
    world.fake.fail_next(503, 502)
    await event(world, run.id)
    await world.sweep()
    assert await world.runs() == [] and await world.count(StravaJob) == 1
    world.clock.advance(minutes=1)
    await world.sweep()
    assert await world.runs() == []
    world.clock.advance(minutes=2)
    await world.sweep()
    assert len(await world.runs()) == 1 and await world.count(StravaJob) == 0


async def test_429_holds_every_job_until_the_next_window(world: StravaWorld) -> None:
    await connected(world)
    runs = [world.fake.add_activity(ATHLETE, km=k) for k in (5, 6)]
    world.fake.fail_next(429)
    for run in runs:
        await event(world, run.id)
    await world.sweep()
    assert await world.runs() == [] and await world.count(StravaJob) == 2
    async with world.sessions() as session:
        held = await session.scalar(select(func.max(StravaJob.not_before)))
    assert held == world.clock().replace(minute=15)  # the next quarter hour
    calls = len(world.fake.api_calls)
    world.clock.advance(minutes=5)
    await world.sweep()  # still in the window: the limiter holds the other job too
    assert len(world.fake.api_calls) == calls and await world.runs() == []
    world.clock.advance(minutes=10)
    await world.sweep()
    assert len(await world.runs()) == 2


async def test_expired_token_is_refreshed_before_use(world: StravaWorld) -> None:
    await connected(world)
    world.clock.advance(hours=5, minutes=55)  # 5 minutes before the 6-hour expiry
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    await world.sweep()
    assert len(await world.runs()) == 1
    assert len(world.fake.grants) == 2 and len(world.fake.live_grants(ATHLETE)) == 1
    conn = await world.connection()
    assert conn is not None and conn.expires_at > world.clock() + timedelta(hours=5)


async def test_revoked_access_disconnects_and_says_so(world: StravaWorld) -> None:
    await connected(world)
    world.fake.revoke(ATHLETE)
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    await world.sweep()
    assert await world.count(StravaConnection) == 0
    assert await world.count(StravaJob) == 0
    assert "removed my access" in (await world.outbox())[-1].reply["text"]


async def test_deauthorisation_event_removes_the_connection(world: StravaWorld) -> None:
    await connected(world)
    status = await world.fake.send_event(
        world.webhook,
        owner_id=ATHLETE,
        object_id=ATHLETE,
        object_type="athlete",
        aspect_type="update",
        updates={"authorized": "false"},
    )
    assert status == 200
    await world.sweep()
    assert await world.count(StravaConnection) == 0


async def test_activity_deleted_before_it_was_fetched(world: StravaWorld) -> None:
    await connected(world)
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    world.fake.delete_activity(ATHLETE, run.id)
    await world.sweep()
    assert await world.runs() == [] and await world.count(StravaJob) == 0


async def test_events_of_people_not_connected_keep_nothing(world: StravaWorld) -> None:
    status = await world.fake.send_event(world.webhook, owner_id=555, object_id=1)
    assert status == 200
    assert await world.count(StravaJob) == 0
    ann = await connected(world)
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    await ann.say("/strava disconnect")  # after the event arrived, before it was applied
    await world.sweep()
    assert await world.runs() == []
    assert await world.count(StravaJob) == 0


async def test_not_an_event_is_refused(world: StravaWorld) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(world.webhook, data=b"not json") as response:
            assert response.status == 400
        async with http.post(world.webhook, json={"hello": "world"}) as response:
            assert response.status == 400


async def test_the_limiter_reads_stravas_headers(world: StravaWorld) -> None:
    await connected(world)
    async with world.sessions() as session:
        row = await session.get(StravaRateLimit, 1)
    assert row is not None and (row.short_limit, row.long_limit) == (100, 1000)
    assert row.short_used == len(world.fake.api_calls)


async def test_logs_hold_no_tokens_or_ids(
    world: StravaWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await connected(world)
    run = world.fake.add_activity(ATHLETE, km=10)
    await event(world, run.id)
    world.fake.fail_next(503)
    await world.sweep()
    world.clock.advance(minutes=1)
    await world.sweep()
    world.fake.revoke(ATHLETE)
    await world.fake.send_event(world.webhook, owner_id=ATHLETE, object_id=run.id + 1)
    await world.sweep()
    # The message and the fields a call added; not the record's own (its timestamps, thread
    # and process ids hold digits that can spell an id by chance).
    own = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
    logged = "\n".join(
        f"{r.getMessage()} { ({k: v for k, v in vars(r).items() if k not in own}) } "
        f"{logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
        for r in caplog.records
        if r.name != "aiohttp.access"
    )
    assert "strava.job_retry" in logged and "strava.grant_revoked" in logged
    secrets = [world.fake.client_secret, str(ATHLETE), str(run.id), "ann"]
    secrets += [g.access_token for g in world.fake.grants]
    secrets += [g.refresh_token for g in world.fake.grants]
    assert [s for s in secrets if s in logged] == []
