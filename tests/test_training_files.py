"""GPX and FIT files, written for real, read into runs; and /upload in the terminal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import gpxpy
import gpxpy.gpx
import pytest
from fit_tool.profile.profile_type import Sport
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.engine import Engine
from bot.engine.events import Actor, Inbound, Place
from bot.storage.db import make_sessionmaker
from bot.storage.models import Run
from handlers.training.files import ActivityError, read_activity
from tests.training_files import START, fit_bytes, gpx_bytes


def test_gpx_gives_distance_moving_time_climb_and_start() -> None:
    run = read_activity(gpx_bytes(1001))
    assert run.kind == "gpx"
    assert run.started_at == START
    assert run.distance_m == pytest.approx(3000, abs=5)
    assert run.moving_s == 1000
    assert run.elevation_gain_m == pytest.approx(10, abs=2)


def test_gpx_standing_still_is_not_moving_time() -> None:
    gpx = gpxpy.parse(gpx_bytes(601).decode())
    points = gpx.tracks[0].segments[0].points
    last = points[-1]
    # The same place again an hour later: no distance added, and the hour is no moving time.
    points.append(
        gpxpy.gpx.GPXTrackPoint(last.latitude, last.longitude, time=last.time + timedelta(hours=1))
    )
    run = read_activity(gpx.to_xml().encode())
    assert run.moving_s == 600
    assert run.distance_m == pytest.approx(1800, abs=5)


def test_fit_session_summary() -> None:
    run = read_activity(fit_bytes(3600))
    assert (run.kind, run.started_at, run.moving_s) == ("fit", START, 3600)
    assert run.distance_m == pytest.approx(10797, abs=1)
    assert run.elevation_gain_m == 55


def test_fit_without_session_is_decoded_from_records() -> None:
    run = read_activity(fit_bytes(600, session=False))
    assert run.started_at == START
    assert run.distance_m == pytest.approx(1797, abs=1)
    assert run.moving_s == 599


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<gpx><trk><trkseg><trkpt lat='x'", "corrupt"),
        (b"<html></html>", "corrupt"),
        (fit_bytes(60)[:-200], "corrupt"),
        (b"\x0e\x10" + b"\x00" * 6 + b".FIT" + b"\xff" * 10, "corrupt"),
        (gpx_bytes(1), "no_track"),
    ],
)
def test_bad_files_have_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ActivityError) as caught:
        read_activity(data)
    assert caught.value.reason == reason


def test_a_fit_file_damaged_in_the_middle_fails_its_checksum() -> None:
    """One flipped byte inside the records: fitdecode's CRC check refuses the file rather
    than logging a run with wrong figures."""
    damaged = bytearray(fit_bytes(600))
    damaged[len(damaged) // 2] ^= 0x55
    with pytest.raises(ActivityError) as caught:
        read_activity(bytes(damaged))
    assert caught.value.reason == "corrupt"


def test_non_running_sports_are_refused() -> None:
    with pytest.raises(ActivityError) as caught:
        read_activity(fit_bytes(60, sport=Sport.CYCLING))
    assert (caught.value.reason, caught.value.sport) == ("not_running", "cycling")
    with pytest.raises(ActivityError) as caught:
        read_activity(gpx_bytes(60, kind="cycling"))
    assert caught.value.reason == "not_running"


def _upload(path: str, platform: str = "terminal") -> Inbound:
    return Inbound(
        Actor(platform, "ann"),
        Place("dm:ann", True),
        text=f"/upload {path}",
        command="upload",
        args=path,
    )


async def _runs(db: AsyncEngine) -> int:
    async with make_sessionmaker(db)() as session:
        return int(await session.scalar(select(func.count()).select_from(Run)) or 0)


async def test_upload_logs_a_file_once(
    sqlite_db: AsyncEngine, quick_bot: object, tmp_path: Path
) -> None:
    engine: Engine = quick_bot.engine  # type: ignore[attr-defined]
    path = tmp_path / "morning.fit"
    path.write_bytes(fit_bytes(1800))
    turn = await engine.handle(_upload(str(path)))
    assert "5.4 km" in turn.replies[0].text
    assert await _runs(sqlite_db) == 1
    copy = tmp_path / "renamed.fit"
    copy.write_bytes(path.read_bytes())
    turn = await engine.handle(_upload(str(copy)))
    assert "already logged" in turn.replies[0].text
    assert await _runs(sqlite_db) == 1


async def test_upload_refusals_change_nothing(
    sqlite_db: AsyncEngine, quick_bot: object, tmp_path: Path
) -> None:
    engine: Engine = quick_bot.engine  # type: ignore[attr-defined]
    big = tmp_path / "big.gpx"
    with big.open("wb") as f:
        f.truncate(20 * 1024 * 1024 + 1)
    ride = tmp_path / "ride.fit"
    ride.write_bytes(fit_bytes(60, sport=Sport.CYCLING))
    broken = tmp_path / "broken.gpx"
    broken.write_bytes(b"<gpx><trk>")
    said = {
        "big": (await engine.handle(_upload(str(big)))).replies[0].text,
        "ride": (await engine.handle(_upload(str(ride)))).replies[0].text,
        "broken": (await engine.handle(_upload(str(broken)))).replies[0].text,
        "missing": (await engine.handle(_upload(str(tmp_path / "nope.gpx")))).replies[0].text,
        "remote": (await engine.handle(_upload(str(ride), platform="telegram"))).replies[0].text,
    }
    assert "over 20 MB" in said["big"]
    assert "isn't a run (cycling)" in said["ride"]
    assert "damaged" in said["broken"]
    assert "can't read a file" in said["missing"]
    assert "attach it to a message" in said["remote"]
    assert await _runs(sqlite_db) == 0
