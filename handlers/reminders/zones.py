"""Understanding what people type for a time zone: IANA names, cities, UTC offsets, typos."""

from __future__ import annotations

import difflib
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

# Offered as buttons on first use: (label, zone). Whole-world coverage is not the aim; anyone
# else types their zone or city.
COMMON_ZONES: tuple[tuple[str, str], ...] = (
    ("London", "Europe/London"),
    ("Berlin · Paris", "Europe/Berlin"),
    ("Helsinki · Kyiv", "Europe/Helsinki"),
    ("New York", "America/New_York"),
    ("Chicago", "America/Chicago"),
    ("Denver", "America/Denver"),
    ("Los Angeles", "America/Los_Angeles"),
    ("São Paulo", "America/Sao_Paulo"),
    ("India", "Asia/Kolkata"),
    ("Tokyo", "Asia/Tokyo"),
    ("Sydney", "Australia/Sydney"),
    ("UTC", "UTC"),
)

_OFFSET_RE = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")
_LEGACY = re.compile(r"^(posix|right)/|^(Factory|localtime|posixrules)$")


@dataclass(frozen=True)
class ZoneGuess:
    """A resolved zone, or suggestions for what the person may have meant."""

    zone: str | None
    suggestions: list[str] = field(default_factory=list)
    note: str = ""


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Every IANA zone name by its case-folded spelling."""
    return {
        name.casefold(): name for name in zoneinfo.available_timezones() if not _LEGACY.search(name)
    }


@lru_cache(maxsize=1)
def _cities() -> dict[str, list[str]]:
    """Zones by their last part read as words: "new york" → America/New_York."""
    cities: dict[str, list[str]] = {}
    for name in _zones().values():
        if name.startswith("Etc/"):
            continue
        city = name.rsplit("/", 1)[-1].replace("_", " ").casefold()
        cities.setdefault(city, []).append(name)
    return cities


def is_valid(name: str) -> bool:
    return name.casefold() in _zones() and _zones()[name.casefold()] == name


def resolve(text: str) -> ZoneGuess:
    raw = " ".join(text.strip().split())
    if not raw:
        return ZoneGuess(None)
    key = raw.casefold()
    zones = _zones()
    if key in zones:
        return ZoneGuess(zones[key])
    if key.replace(" ", "_") in zones:
        return ZoneGuess(zones[key.replace(" ", "_")])
    # Offsets before cities: "GMT-5" means five hours behind UTC to people, while the IANA
    # zone Etc/GMT-5 (whose last part reads the same) is five hours ahead.
    if (offset := _OFFSET_RE.match(key)) is not None:
        return _from_offset(*offset.groups())
    city = _cities().get(key.replace("_", " "))
    if city is not None and len(city) == 1:
        return ZoneGuess(city[0])
    if city is not None:
        return ZoneGuess(None, sorted(city)[:3])
    return ZoneGuess(None, suggest(raw))


def suggest(text: str, n: int = 3) -> list[str]:
    key = text.strip().casefold().replace(" ", "_")
    names = difflib.get_close_matches(key, list(_zones()), n=n, cutoff=0.6)
    found = [_zones()[name] for name in names]
    city_keys = difflib.get_close_matches(key.replace("_", " "), list(_cities()), n=n, cutoff=0.7)
    for city in city_keys:
        found.extend(_cities()[city])
    return list(dict.fromkeys(found))[:n]


def _from_offset(sign: str, hours: str, minutes: str | None) -> ZoneGuess:
    if minutes not in (None, "00") or int(hours) > 14:
        return ZoneGuess(None, note="offset")
    value = int(hours)
    if value == 0:
        return ZoneGuess("UTC", note="offset")
    # POSIX sign convention: Etc/GMT-2 is two hours *ahead* of UTC.
    flipped = "-" if sign == "+" else "+"
    zone = f"Etc/GMT{flipped}{value}"
    return ZoneGuess(zone if zone.casefold() in _zones() else None, note="offset")


def describe(zone: str, now: datetime) -> str:
    """ "Europe/Berlin (UTC+01:00, 10:15 there now)"."""
    local = now.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{zone} (UTC{offset[:3]}:{offset[3:]}, {local:%H:%M} there now)"


def to_payload_arg(zone: str) -> str:
    """Zone names contain "/", which button payloads may not; no zone name contains "."."""
    return zone.replace("/", ".")


def from_payload_arg(arg: str) -> str:
    return arg.replace(".", "/")
