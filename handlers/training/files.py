"""Reading a run from a GPX or FIT file: distance, moving time, elevation gain, start time.

Speed matters (a 3-hour FIT file holds ~11,000 records): gpxpy's object model and fitdecode's
full decode take 0.5-1.3 s for such files here, so the common case reads the formats directly:
GPX track points with ElementTree (distances and the smoothed climb from gpxpy.geo), FIT by
skimming the records for the session summary the device wrote. A FIT file without one is
decoded in full with fitdecode. Every failure is an ActivityError with a reason code the
handler turns into words; nothing here touches the database.
"""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import fitdecode
import fitdecode.profile
from gpxpy.geo import calculate_uphill_downhill, haversine_distance

MAX_BYTES = 20 * 1024 * 1024
# Slower than this between two points counts as standing still (gpxpy's own default is 1 km/h).
STOPPED_M_PER_S = 0.3
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
FIT_SESSION, FIT_SPORT_MSG = 18, 12
FIT_RUNNING, FIT_GENERIC = 1, 0


class ActivityError(Exception):
    """Why a file gives no run: too_big, empty, corrupt, not_running (with the sport), no_track."""

    def __init__(self, reason: str, sport: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.sport = sport


@dataclass(frozen=True)
class Activity:
    kind: str  # gpx | fit
    started_at: datetime  # UTC
    distance_m: int
    moving_s: int
    elevation_gain_m: int | None


def read_activity(data: bytes) -> Activity:
    """The run in a GPX or FIT file's bytes (the format is told by the content, not a name)."""
    if len(data) > MAX_BYTES:
        raise ActivityError("too_big")
    if not data or data.isspace():
        raise ActivityError("empty")
    if len(data) >= 12 and data[8:12] == b".FIT":
        return read_fit(data)
    return read_gpx(data)


# --- GPX ---------------------------------------------------------------------------------


def _is_running(kind: str) -> bool:
    folded = kind.casefold()
    # Strava writes "running"/"9", Garmin "running"/"trail_running", others "Run".
    return "run" in folded or folded == "9"


def read_gpx(data: bytes) -> Activity:
    try:
        # ElementTree resolves no external entities, and expat caps entity expansion.
        root = ET.fromstring(data)
    except ET.ParseError:
        raise ActivityError("corrupt") from None
    if not root.tag.endswith("gpx"):
        raise ActivityError("corrupt")
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    distance = 0.0
    moving = 0.0
    elevations: list[float | None] = []
    start: datetime | None = None
    for track in root.iter(f"{ns}trk"):
        kind = track.findtext(f"{ns}type")
        if kind and not _is_running(kind):
            raise ActivityError("not_running", kind.strip()[:40])
        for segment in track.iter(f"{ns}trkseg"):
            previous: tuple[float, float, datetime] | None = None
            for point in segment.iter(f"{ns}trkpt"):
                try:
                    lat, lon = float(point.attrib["lat"]), float(point.attrib["lon"])
                    stamp = point.findtext(f"{ns}time")
                    when = datetime.fromisoformat(stamp.strip()) if stamp else None
                    ele = point.findtext(f"{ns}ele")
                    elevations.append(float(ele) if ele else None)
                except (KeyError, ValueError):
                    raise ActivityError("corrupt") from None
                if when is None:
                    continue
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)  # GPX times are UTC by the standard
                start = when if start is None else min(start, when)
                if previous is not None:
                    step = haversine_distance(previous[0], previous[1], lat, lon)
                    seconds = (when - previous[2]).total_seconds()
                    distance += step
                    if seconds > 0 and step / seconds > STOPPED_M_PER_S:
                        moving += seconds
                previous = (lat, lon, when)
    if start is None or distance <= 0:
        raise ActivityError("no_track")
    known: list[float | None] = [e for e in elevations if e is not None]
    gain = round(calculate_uphill_downhill(known)[0]) if len(known) > 1 else None
    return Activity("gpx", start.astimezone(UTC), round(distance), round(moving), gain)


# --- FIT ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Definition:
    number: int  # the global message number
    little: bool
    fields: tuple[tuple[int, int], ...]  # (field number, size)
    size: int  # the data message's size, developer fields included


def _unsigned(raw: bytes, little: bool) -> int | None:
    value = int.from_bytes(raw, "little" if little else "big")
    return None if value == (1 << (8 * len(raw))) - 1 else value  # all ones: "invalid"


def _skim_fit(data: bytes) -> dict[int, int | None] | None:
    """The first session message's fields (number -> raw unsigned value), None if none."""
    header = data[0]
    if header not in (12, 14) or len(data) < header + 2:
        raise ActivityError("corrupt")
    (size,) = struct.unpack_from("<I", data, 4)
    end = header + size
    if end + 2 > len(data):
        raise ActivityError("corrupt")  # truncated
    definitions: dict[int, _Definition] = {}
    sport: dict[int, int | None] | None = None
    pos = header
    try:
        while pos < end:
            head = data[pos]
            pos += 1
            if head & 0x80:  # compressed-timestamp data message
                local, is_definition = (head >> 5) & 0x03, False
            else:
                local, is_definition = head & 0x0F, bool(head & 0x40)
            if is_definition:
                little = data[pos + 1] == 0
                number = int.from_bytes(data[pos + 2 : pos + 4], "little" if little else "big")
                count = data[pos + 4]
                pos += 5
                fields = tuple((data[pos + 3 * i], data[pos + 3 * i + 1]) for i in range(count))
                pos += 3 * count
                total = sum(s for _, s in fields)
                if head & 0x20:  # developer fields follow
                    dev_count = data[pos]
                    pos += 1
                    total += sum(data[pos + 3 * i + 1] for i in range(dev_count))
                    pos += 3 * dev_count
                definitions[local] = _Definition(number, little, fields, total)
                continue
            definition = definitions[local]
            if definition.number in (FIT_SESSION, FIT_SPORT_MSG):
                values: dict[int, int | None] = {}
                at = pos
                for field_number, field_size in definition.fields:
                    values[field_number] = _unsigned(data[at : at + field_size], definition.little)
                    at += field_size
                if definition.number == FIT_SESSION:
                    return values
                sport = {5: values.get(0)}  # the sport message's sport is its field 0
            pos += definition.size
    except (IndexError, KeyError):
        raise ActivityError("corrupt") from None
    if pos != end:
        raise ActivityError("corrupt")
    return sport


def _sport_name(number: int) -> str:
    name = fitdecode.profile.FIELD_TYPES["sport"].enum.get(number)
    return str(name or f"sport {number}")


def _check_sport(number: int | None) -> None:
    if number is not None and number not in (FIT_RUNNING, FIT_GENERIC):
        raise ActivityError("not_running", _sport_name(number))


def read_fit(data: bytes) -> Activity:
    session = _skim_fit(data)
    if session is not None:
        _check_sport(session.get(5))
    if session is None or session.get(2) is None or session.get(9) is None:
        return _decode_fit(data)
    timer = session.get(8) or session.get(7)
    started = FIT_EPOCH + timedelta(seconds=session[2] or 0)
    distance = round((session[9] or 0) / 100)
    if distance <= 0:
        raise ActivityError("no_track")
    return Activity("fit", started, distance, round((timer or 0) / 1000), session.get(22))


def _decode_fit(data: bytes) -> Activity:
    """The slow, complete path: every record decoded by fitdecode (files without a session)."""
    start: datetime | None = None
    last: datetime | None = None
    distance = 0.0
    elevations: list[float | None] = []
    try:
        with fitdecode.FitReader(io.BytesIO(data)) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "sport" and frame.has_field("sport"):
                    _check_sport(_sport_number(frame.get_value("sport")))
                if frame.name != "record":
                    continue
                stamp = frame.get_value("timestamp", fallback=None)
                if isinstance(stamp, datetime):
                    start = stamp if start is None else start
                    last = stamp
                value = frame.get_value("distance", fallback=None)
                if isinstance(value, int | float):
                    distance = max(distance, float(value))
                altitude = frame.get_value("enhanced_altitude", fallback=None)
                if altitude is None:
                    altitude = frame.get_value("altitude", fallback=None)
                elevations.append(float(altitude) if isinstance(altitude, int | float) else None)
    except fitdecode.FitError:
        raise ActivityError("corrupt") from None
    if start is None or last is None or distance <= 0:
        raise ActivityError("no_track")
    known: list[float | None] = [e for e in elevations if e is not None]
    gain = round(calculate_uphill_downhill(known)[0]) if len(known) > 1 else None
    moving = round((last - start).total_seconds())
    return Activity("fit", start.astimezone(UTC), round(distance), moving, gain)


def _sport_number(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        for number, name in fitdecode.profile.FIELD_TYPES["sport"].enum.items():
            if name == value:
                return int(number)
    return None
