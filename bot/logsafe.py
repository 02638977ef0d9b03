"""Logging without personal data: logs carry event names and hashed ids, never message text,
health answers or tokens."""

from __future__ import annotations

import hashlib
import logging

# Settings.log_salt without COACH_LOG_SALT. Publicly known, so pseudonyms made with it can be
# recomputed: deployments set their own. Code that logs before configure() (tests) uses it.
DEFAULT_SALT = "corecoach"
_KEY_BYTES = 32  # blake2s's longest key
_key = DEFAULT_SALT.encode()


def hashed(identifier: str) -> str:
    """A short, stable pseudonym for an id, so one person's events can be followed in logs."""
    return hashlib.blake2s(identifier.encode(), key=_key, digest_size=6).hexdigest()


class _ExtraFormatter(logging.Formatter):
    # asctime and message are added by format() itself, not by the caller.
    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in self._STANDARD}
        if extras:
            base += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        return base


def configure(level: str = "WARNING", *, salt: str | None = None) -> None:
    """Once at start-up (bot.cli), from Settings: the log level and, when given, the key for
    hashed() (Settings.log_salt, from COACH_LOG_SALT)."""
    global _key
    if salt is not None:
        _key = salt.encode()[:_KEY_BYTES]
    handler = logging.StreamHandler()
    handler.setFormatter(_ExtraFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries whose chatty levels would write what must never be logged, even at DEBUG.
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, root.level))


# The lowest level each library may log at (tests/test_logs_private.py shows why):
_QUIET = {
    "httpx": logging.WARNING,  # every request URL, and Telegram URLs contain the bot token
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,  # DEBUG: the Bot API URL with the token, and whole updates
    "discord": logging.INFO,  # DEBUG: gateway payloads with message content
    "sqlalchemy": logging.WARNING,  # INFO: statements (parameters are hidden, see db.py)
}
