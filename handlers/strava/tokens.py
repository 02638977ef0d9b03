"""Strava's tokens at rest: Fernet ciphertext (AES-128-CBC with an HMAC), keyed by
STRAVA_TOKEN_KEY. A database copy alone reveals no token."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class TokenBox:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def open(self, sealed: bytes) -> str | None:
        """The token, or None when the key changed (the person connects again)."""
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            return None
