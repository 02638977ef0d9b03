"""What other features may use of reminders and time zones: asking for a person's zone
(check-ins), and reading a typed zone (club challenge set-up)."""

from __future__ import annotations

from handlers.reminders.timezone import ask_for_zone
from handlers.reminders.zones import describe as describe_zone
from handlers.reminders.zones import resolve as resolve_zone

__all__ = ["ask_for_zone", "describe_zone", "resolve_zone"]
