"""Typed schedules and time zones: what people type, and the friendly failures."""

from __future__ import annotations

import pytest

from handlers.reminders import zones as timezones
from handlers.reminders.parse import parse_schedule, parse_time

MON, TUE, WED, THU, FRI, SAT, SUN = (1 << d for d in range(7))


@pytest.mark.parametrize(
    ("text", "days", "minute"),
    [
        ("tue thu 7:00", TUE | THU, 420),
        ("mon wed fri 18:30", MON | WED | FRI, 1110),
        ("Mon, Wed and Fri at 6:30pm", MON | WED | FRI, 1110),
        ("weekdays 6 am", 0b0011111, 360),
        ("every day 07.15", 0b1111111, 435),
        ("mon-fri 5:45", 0b0011111, 345),
        ("fri-mon 8", FRI | SAT | SUN | MON, 480),
        ("Sundays 18h30", SUN, 1110),
    ],
)
def test_schedules_people_type(text: str, days: int, minute: int) -> None:
    schedule = parse_schedule(text)
    assert (schedule.days, schedule.minute, schedule.unknown) == (days, minute, [])


def test_unknown_words_are_reported_not_guessed() -> None:
    schedule = parse_schedule("tue thu at noonish")
    assert schedule.days == TUE | THU
    assert schedule.minute is None
    assert schedule.unknown == ["noonish"]


@pytest.mark.parametrize("text", ["25:00", "7:75", "13pm", "0am", "", "seven"])
def test_impossible_times(text: str) -> None:
    assert parse_time(text) is None


def test_twelve_hour_clock_edges() -> None:
    assert parse_time("12am") == 0
    assert parse_time("12pm") == 12 * 60
    assert parse_time("12:30 am") == 30


def test_zone_names_cities_and_offsets() -> None:
    assert timezones.resolve("Europe/Berlin").zone == "Europe/Berlin"
    assert timezones.resolve("europe/berlin").zone == "Europe/Berlin"
    assert timezones.resolve("new york").zone == "America/New_York"
    assert timezones.resolve("Tokyo").zone == "Asia/Tokyo"
    assert timezones.resolve("UTC+2").zone == "Etc/GMT-2"  # POSIX signs are inverted
    assert timezones.resolve("gmt-5").zone == "Etc/GMT+5"
    half_hour = timezones.resolve("UTC+5:30")
    assert half_hour.zone is None and half_hour.note == "offset"


def test_typos_get_suggestions() -> None:
    guess = timezones.resolve("Europe/Berln")
    assert guess.zone is None
    assert guess.suggestions[0] == "Europe/Berlin"
    assert "America/Los_Angeles" in timezones.resolve("los angelos").suggestions
    assert timezones.resolve("Atlantis/Nowhere").zone is None


def test_zone_names_survive_button_payloads() -> None:
    for _, zone in timezones.COMMON_ZONES:
        arg = timezones.to_payload_arg(zone)
        assert "/" not in arg
        assert timezones.from_payload_arg(arg) == zone
    # The round trip relies on no zone name containing a dot.
    assert not any("." in name for name in timezones._zones().values())
