"""Running the platform adapters (and, later, the scheduler and sender) side by side."""

from __future__ import annotations

from bot.app import App


async def run_platforms(app: App) -> None:
    raise SystemExit(
        "corecoach: platform adapters are not part of this build yet; "
        "unset TELEGRAM_BOT_TOKEN and DISCORD_BOT_TOKEN to use the terminal chat"
    )
