"""The contract between the outbox sender and the platform adapters.

The sender (scheduler/) decides what is due and when; a Transport (one per platform adapter)
only puts one message on the wire and says how that went.

A Transport's deliver() should return (not raise) for platform errors, and return well within
the sender's send lease (120 s); an exception counts as RETRY. Where the platform takes an
idempotency key (Discord: `nonce` with `enforce_nonce`), derive it from `outbox_id`, so a
message re-sent after a crash in the at-least-once window is dropped by the platform
(scheduler/sender.py states the guarantee).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.engine.events import Reply


class DeliveryStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient: rate limit, 5xx, timeout; try again after retry_after
    UNREACHABLE = "unreachable"  # blocked the bot, left, chat gone: never retry
    FAILED = "failed"  # permanent for this message (e.g. rejected as malformed)


class RetryScope(StrEnum):
    """What a retry_after holds up in the sender's pacer."""

    PLATFORM = "platform"  # every send (a global flood wait, a platform not connected yet)
    CHAT = "chat"  # sends to this chat (its own flood limit; the pacer widens it, see Pacer.hold)


@dataclass(frozen=True)
class OutboundMessage:
    outbox_id: int
    platform: str
    chat_id: str
    thread_id: str
    reply: Reply


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    retry_after: float | None = None
    error: str | None = None  # short, no message text or personal data
    message_ref: str | None = None
    retry_scope: RetryScope = RetryScope.PLATFORM


class Transport(Protocol):
    platform: str

    async def deliver(self, message: OutboundMessage) -> Delivery: ...


@runtime_checkable
class ReachesSomeChats(Protocol):
    """A Transport that can deliver to some chats only (the terminal: the one chat it shows);
    the sender then leaves the other chats' messages waiting for a process that reaches them."""

    reachable_chats: frozenset[str]


@runtime_checkable
class DropsRepeats(Protocol):
    """A Transport whose platform drops a message sent again with the same idempotency key
    (Discord: `nonce` with `enforce_nonce`), so a resend after a crash never arrives twice."""

    drops_repeats: bool
