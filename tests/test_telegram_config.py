"""TELEGRAM_* settings: polling by default; webhook mode only with a URL and a secret."""

from __future__ import annotations

import pytest

from bot.adapters.telegram.application import api_root
from bot.config import ConfigError, Settings

WEBHOOK = {
    "TELEGRAM_BOT_TOKEN": "123:AbC",
    "TELEGRAM_MODE": "webhook",
    "TELEGRAM_WEBHOOK_URL": "https://coach.example.org/telegram",
    "TELEGRAM_WEBHOOK_SECRET": "0123456789abcdef-_XYZ",
}


def test_polling_is_the_default() -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": "123:AbC"})
    assert settings.telegram_mode == "polling"
    assert (settings.telegram_webhook_listen, settings.telegram_webhook_port) == ("0.0.0.0", 8443)


def test_webhook_settings_are_read() -> None:
    settings = Settings.from_env({**WEBHOOK, "TELEGRAM_WEBHOOK_PORT": "88"})
    assert settings.telegram_mode == "webhook"
    assert settings.telegram_webhook_url == "https://coach.example.org/telegram"
    assert settings.telegram_webhook_secret == "0123456789abcdef-_XYZ"
    assert settings.telegram_webhook_port == 88


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"TELEGRAM_MODE": "websocket"}, "TELEGRAM_MODE"),
        ({"TELEGRAM_WEBHOOK_URL": ""}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_WEBHOOK_URL": "coach.example.org/telegram"}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_WEBHOOK_SECRET": ""}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_SECRET": "short"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces in it, sadly"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_PORT": "70000"}, "TELEGRAM_WEBHOOK_PORT"),
        ({"TELEGRAM_WEBHOOK_PORT": "https"}, "TELEGRAM_WEBHOOK_PORT"),
    ],
)
def test_a_wrong_value_names_its_variable(changes: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env({**WEBHOOK, **changes})


def test_the_api_base_url_is_the_server_root() -> None:
    assert api_root(None) is None
    assert api_root("http://127.0.0.1:8081") == "http://127.0.0.1:8081"
    assert api_root("http://127.0.0.1:8081/") == "http://127.0.0.1:8081"
    assert api_root("https://api.telegram.org/bot") == "https://api.telegram.org"
