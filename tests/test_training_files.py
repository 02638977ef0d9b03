"""GPX and FIT files, written for real, read into runs; /upload in the terminal, and files
attached to a message (Inbound.upload) as the chat adapters hand them to the engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import gpxpy
import gpxpy.gpx
import pytest
from fit_tool.profile.profile_type import Sport
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.engine import Engine
from bot.engine.events import Actor, Inbound, Place, Upload, UploadFailed
from bot.storage.db import make_sessionmaker
from bot.storage.models import Run
from handlers.training.files import MAX_BYTES, ActivityError, read_activity
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


# --- an attached file (Inbound.upload), as the chat adapters hand it over ------------------


@dataclass
class Attached:
    """A file a person attached, with a record of every download the engine asked for."""

    data: bytes
    size: int | None = None
    error: Exception | None = None
    gate: asyncio.Event | None = None  # the download waits for it
    downloads: list[int] = field(default_factory=list)

    async def download(self, max_bytes: int) -> bytes:
        self.downloads.append(max_bytes)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.data

    def event(self, who: str = "ann", *, caption: str = "") -> Inbound:
        upload = Upload("run.gpx", self.size, self.download)
        return Inbound(
            Actor("telegram", who),
            Place(who, True),
            text=caption,
            command="upload",
            args=caption,
            upload=upload,
        )


async def test_an_attached_file_is_read_once_and_logged_once(
    sqlite_db: AsyncEngine, quick_bot: object
) -> None:
    engine: Engine = quick_bot.engine  # type: ignore[attr-defined]
    attached = Attached(gpx_bytes(1801), size=None)
    turn = await engine.handle(attached.event())
    assert "5.4 km" in turn.replies[0].text
    assert attached.downloads == [MAX_BYTES]  # fetched before the turn; the handler reused it
    again = Attached(attached.data, size=len(attached.data))
    assert "already logged" in (await engine.handle(again.event())).replies[0].text
    assert await _runs(sqlite_db) == 1


async def test_attached_files_that_give_no_run(sqlite_db: AsyncEngine, quick_bot: object) -> None:
    engine: Engine = quick_bot.engine  # type: ignore[attr-defined]
    announced_big = Attached(b"", size=MAX_BYTES + 1)
    secretly_big = Attached(b" " * (MAX_BYTES + 1), size=None)
    lost = Attached(b"", error=UploadFailed("HTTP 500"))
    said = {
        "announced": (await engine.handle(announced_big.event())).replies[0].text,
        "secret": (await engine.handle(secretly_big.event())).replies[0].text,
        "lost": (await engine.handle(lost.event())).replies[0].text,
        "empty": (await engine.handle(Attached(b"").event())).replies[0].text,
        "broken": (await engine.handle(Attached(b"<gpx><trk>").event())).replies[0].text,
    }
    assert announced_big.downloads == []  # refused on the announced size alone
    assert "over 20 MB" in said["announced"] and "over 20 MB" in said["secret"]
    assert "couldn't fetch" in said["lost"]
    assert "empty" in said["empty"]
    assert "damaged" in said["broken"]
    assert await _runs(sqlite_db) == 0


async def test_a_slow_download_holds_up_no_one_else(
    sqlite_db: AsyncEngine, quick_bot: object
) -> None:
    """The file is fetched before the turn's transaction: on SQLite turns take one writer at
    a time, and a 20 MB download must not keep everyone else waiting."""
    engine: Engine = quick_bot.engine  # type: ignore[attr-defined]
    slow = Attached(gpx_bytes(601), gate=asyncio.Event())
    uploading = asyncio.create_task(engine.handle(slow.event("ann")))
    await asyncio.sleep(0.05)
    assert slow.downloads and not uploading.done()
    other = Inbound(Actor("telegram", "bo"), Place("bo", True), text="/week", command="week")
    turn = await asyncio.wait_for(engine.handle(other), 5)  # answered meanwhile
    assert turn.replies
    slow.gate.set()  # type: ignore[union-attr]
    assert "1.8 km" in (await asyncio.wait_for(uploading, 5)).replies[0].text


async def test_a_caption_passes_the_red_flag_screen(quick_bot: object) -> None:
    engine: Engine = quick_bot.engine  # type: ignore[attr-defined]
    attached = Attached(gpx_bytes(601))
    turn = await engine.handle(attached.event(caption="chest pain and I can't breathe"))
    assert "emergency" in turn.replies[0].text  # answered first; the run waits for a resend
    assert all("1.8 km" not in r.text for r in turn.replies)


def test_an_event_with_a_file_compares_and_prints_without_the_reader() -> None:
    first, second = Attached(b"x", size=1), Attached(b"y", size=1)
    one, other = first.event(), second.event()
    assert one == other and hash(one) == hash(other)  # the name and size, not the callable
    assert "download" not in repr(one) and "Upload(name='run.gpx', size=1)" in repr(one)
