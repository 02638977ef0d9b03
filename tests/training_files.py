"""Real activity files for the training tests and benchmark: gpxpy writes GPX, fit-tool FIT."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import gpxpy.gpx
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, Manufacturer, Sport

START = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
STEP_M = 3.0  # metres a second: a 5:33 /km jog


def gpx_bytes(points: int, *, kind: str | None = "running", start: datetime = START) -> bytes:
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack()
    if kind is not None:
        track.type = kind
    gpx.tracks.append(track)
    segment = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(segment)
    for i in range(points):
        segment.points.append(
            gpxpy.gpx.GPXTrackPoint(
                52.0 + i * STEP_M / 111_195,  # metres north per degree of latitude
                13.0,
                elevation=40 + 10 * math.sin(i / 200),
                time=start + timedelta(seconds=i),
            )
        )
    return gpx.to_xml().encode()


def fit_bytes(
    seconds: int, *, sport: Sport = Sport.RUNNING, session: bool = True, start: datetime = START
) -> bytes:
    ms = round(start.timestamp() * 1000)
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.time_created = ms
    file_id.serial_number = 1
    builder.add(file_id)
    records = []
    for i in range(seconds):
        record = RecordMessage()
        record.timestamp = ms + i * 1000
        record.distance = i * STEP_M
        record.altitude = 40 + 10 * math.sin(i / 200)
        record.heart_rate = 140
        records.append(record)
    builder.add_all(records)
    if session:
        summary = SessionMessage()
        summary.timestamp = ms + seconds * 1000
        summary.start_time = ms
        summary.sport = sport
        summary.total_distance = (seconds - 1) * STEP_M
        summary.total_timer_time = float(seconds)
        summary.total_elapsed_time = float(seconds)
        summary.total_ascent = 55
        builder.add(summary)
    data: bytes = builder.build().to_bytes()
    return data
