"""Reading a run from a GPX or FIT file: distance, moving time, elevation gain, start time.

GPX: track points read with the standard library's ElementTree, distances and the smoothed
climb from gpxpy's geo maths (gpxpy's own object model took 0.4-1 s for 10,000 points here).
FIT: decoded by fitdecode, the maintained FIT reader, with its CRC check. Every failure is an
ActivityError with a reason code the handler turns into words; nothing here touches the database.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

import fitdecode
import fitdecode.profile
from gpxpy.geo import calculate_uphill_downhill, haversine_distance

MAX_BYTES = 20 * 1024 * 1024
# Slower than this between two points counts as standing still (gpxpy's own default is 1 km/h).
STOPPED_M_PER_S = 0.3
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


def read_fit(data: bytes) -> Activity:
    """Every message decoded by fitdecode, CRC checked. The device's session summary, when
    there is one, gives the totals the runner saw (start, timer time, distance, climb); a file
    without one is summed up from its records."""
    session: dict[str, object] | None = None
    start: datetime | None = None
    last: datetime | None = None
    distance = 0.0
    elevations: list[float | None] = []
    try:
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name in ("sport", "session") and frame.has_field("sport"):
                    _check_sport(_sport_number(frame.get_value("sport")))
                if frame.name == "session" and session is None:
                    session = {f.name: f.value for f in frame.fields}
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
                if isinstance(altitude, int | float):
                    elevations.append(float(altitude))
    except fitdecode.FitError:
        raise ActivityError("corrupt") from None
    if session is not None:
        summary = _from_session(session)
        if summary is not None:
            return summary
    if start is None or last is None or distance <= 0:
        raise ActivityError("no_track")
    gain = round(calculate_uphill_downhill(elevations)[0]) if len(elevations) > 1 else None
    moving = round((last - start).total_seconds())
    return Activity("fit", start.astimezone(UTC), round(distance), moving, gain)


def _from_session(session: dict[str, object]) -> Activity | None:
    started, metres = session.get("start_time"), session.get("total_distance")
    seconds = session.get("total_timer_time") or session.get("total_elapsed_time")
    if not isinstance(started, datetime) or not isinstance(metres, int | float) or metres <= 0:
        return None
    ascent = session.get("total_ascent")
    return Activity(
        "fit",
        started.astimezone(UTC),
        round(metres),
        round(seconds) if isinstance(seconds, int | float) else 0,
        round(ascent) if isinstance(ascent, int | float) else None,
    )


def _sport_name(number: int) -> str:
    name = fitdecode.profile.FIELD_TYPES["sport"].enum.get(number)
    return str(name or f"sport {number}")


def _check_sport(number: int | None) -> None:
    if number is not None and number not in (FIT_RUNNING, FIT_GENERIC):
        raise ActivityError("not_running", _sport_name(number))


def _sport_number(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        for number, name in fitdecode.profile.FIELD_TYPES["sport"].enum.items():
            if name == value:
                return int(number)
    return None
