"""The outbox sender's way onto Discord: one OutboundMessage to a channel, DM or thread.

discord.py keeps each route's rate-limit bucket and retries short 429s and 5xx itself; what
still fails comes back as a Delivery status the sender acts on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.adapters.discord.render import render
from bot.adapters.discord.respond import message_kwargs
from bot.adapters.discord.translate import PLATFORM
from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine.events import ReplyIntent

if TYPE_CHECKING:
    from bot.adapters.discord.client import DiscordBot

log = logging.getLogger("corecoach.discord")

# 404 codes meaning the destination is gone for good (the others are our own mistakes).
_GONE = {10003, 10013}  # Unknown Channel, Unknown User


class DiscordTransport:
    platform = PLATFORM
    drops_repeats = True  # the outbox id is the message's nonce, with enforce_nonce

    def __init__(self, client: DiscordBot) -> None:
        self.client = client

    async def deliver(self, message: OutboundMessage) -> Delivery:
        if self.client.user is None or self.client.is_closed():
            return Delivery(DeliveryStatus.RETRY, retry_after=5.0, error="discord not connected")
        if message.reply.intent is ReplyIntent.PRIVATE and self._is_server_channel(message):
            # Without an interaction nothing is ephemeral: a private reply would be public.
            return Delivery(DeliveryStatus.FAILED, error="private reply addressed to a server")
        # A thread is a channel of its own on Discord; DMs are channels too.
        channel = self.client.get_partial_messageable(int(message.thread_id or message.chat_id))
        try:
            parts = render(message.reply)
            ref: str | None = None
            for index, part in enumerate(parts):
                kwargs = message_kwargs(part)
                # The same nonce on a resend makes Discord return the first message instead
                # of posting twice (the sender's at-least-once window).
                sent = await channel.send(**kwargs, nonce=f"o{message.outbox_id}.{index}")
                ref = ref or str(sent.id)
        except FileNotFoundError:
            return Delivery(DeliveryStatus.FAILED, error="picture or file missing")
        except discord.RateLimited as exc:  # a 429 longer than MAX_RATELIMIT_WAIT
            return Delivery(DeliveryStatus.RETRY, retry_after=exc.retry_after, error="discord 429")
        except discord.HTTPException as exc:
            return _from_http_error(exc)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Delivery(DeliveryStatus.RETRY, error=f"network {type(exc).__name__}")
        return Delivery(DeliveryStatus.SENT, message_ref=ref)

    def _is_server_channel(self, message: OutboundMessage) -> bool:
        # Server channels are cached (GUILDS intent); DMs are not, and cannot be public anyway.
        channel = self.client.get_channel(int(message.chat_id))
        return isinstance(channel, discord.abc.GuildChannel | discord.Thread)


def _from_http_error(exc: discord.HTTPException) -> Delivery:
    error = f"discord {exc.status}/{exc.code}"
    if isinstance(exc, discord.Forbidden):
        # 50007 DMs closed / blocked, 50001 no access, 50013 missing permissions.
        return Delivery(DeliveryStatus.UNREACHABLE, error=error)
    if isinstance(exc, discord.NotFound):
        status = DeliveryStatus.UNREACHABLE if exc.code in _GONE else DeliveryStatus.FAILED
        return Delivery(status, error=error)
    if exc.status == 429 or exc.status >= 500:
        return Delivery(DeliveryStatus.RETRY, retry_after=_retry_after(exc), error=error)
    return Delivery(DeliveryStatus.FAILED, error=error)


def _retry_after(exc: discord.HTTPException) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None
