"""Discord live countdowns: how to edit one message; timing lives in bot.adapters.countdown.

Discord allows about five edits per five seconds per channel; one edit every `interval`
(at least `min_gap`) seconds stays well inside it. Editing goes through whatever sent the
message (the interaction's webhook for ephemeral ones, which only that token may edit).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord

from bot.adapters.countdown import CountdownTasks, footer

log = logging.getLogger("corecoach.discord")


class Editable(Protocol):
    """discord.Message, WebhookMessage and InteractionMessage all fit."""

    id: int

    async def edit(self, *, content: str | None = ...) -> Any: ...


def with_footer(content: str | None, remaining: float) -> str:
    return f"{content}\n\n{footer(remaining)}" if content else footer(remaining)


class Countdowns(CountdownTasks[int]):
    def start(self, message: Editable, content: str | None, seconds: float) -> None:
        """Count down on a message just sent showing `with_footer(content, seconds)`."""

        async def tick(remaining: float) -> bool:
            try:
                await message.edit(content=with_footer(content, remaining))
            except (discord.NotFound, discord.Forbidden):
                return False  # deleted, or the interaction's 15 minutes are over
            except discord.HTTPException as exc:
                log.info("discord.countdown_edit_skipped", extra={"status": exc.status})
            return True

        self.begin(message.id, tick, seconds)
