"""Pacing per platform, so the sender never trips a flood limit instead of retrying after it.

The policy: Telegram ≈ 30 messages/s for the bot, 1/s per private chat, 20/min per group;
Discord a configurable overall pace, and 1/s per channel keeps within its 5-per-5-s channel
bucket. COACH_TELEGRAM_RATE / COACH_DISCORD_RATE set the bot-wide rate, however many
workers send: the sender keeps the policy for all of them together through the database
(scheduler/shared_pace.py), no 1/N split.

`Pacer` is the process's own view in leaky buckets (the model Telegram's limits follow): it
picks which claimed row is ready and holds a chat, or everything, after a platform's "retry
after" (hold()), which the shared pace then passes on to the other workers. Without a
shared pace (tests, local transports) it is the only pacing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PacingPolicy:
    per_second: float  # the whole bot
    burst: float  # how many may leave back to back before per_second applies
    private_interval: float  # seconds between two messages to one private chat
    group_per_minute: float

    @classmethod
    def telegram(cls, per_second: float = 30.0) -> PacingPolicy:
        # A small burst leaves headroom for network jitter bunching arrivals at Telegram.
        return cls(
            per_second, burst=min(5.0, per_second), private_interval=1.0, group_per_minute=20
        )

    @classmethod
    def discord(cls, per_second: float = 10.0) -> PacingPolicy:
        return cls(per_second, burst=1.0, private_interval=1.0, group_per_minute=60)

    @classmethod
    def unlimited(cls) -> PacingPolicy:
        """For tests and local transports."""
        return cls(1e9, burst=1e9, private_interval=0.0, group_per_minute=1e9)


class LeakyBucket:
    __slots__ = ("capacity", "last", "level", "rate")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate  # drained per second
        self.capacity = capacity
        self.level = 0.0
        self.last = now

    def delay(self, now: float) -> float:
        """Seconds until one more message fits (0 if it fits now)."""
        self.level = max(0.0, self.level - (now - self.last) * self.rate)
        self.last = now
        excess = self.level + 1 - self.capacity
        return 0.0 if excess <= 1e-9 else excess / self.rate

    def add(self, now: float) -> None:
        self.delay(now)
        self.level += 1

    def empty(self, now: float) -> bool:
        return self.level - (now - self.last) * self.rate <= 0


class Pacer:
    # Per-chat buckets are dropped once drained, so memory follows the active chats only.
    _PRUNE_AT = 10_000

    def __init__(
        self, policy: PacingPolicy, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy
        self.monotonic = monotonic
        now = monotonic()
        self._overall = LeakyBucket(policy.per_second, policy.burst, now)
        self._chats: dict[str, LeakyBucket] = {}
        self._held_until = now
        self._chat_holds: dict[str, float] = {}  # chat → monotonic time its hold ends

    def delay(self, chat: str, is_private: bool) -> float:
        """Seconds until a message to this chat may go."""
        now = self.monotonic()
        waits = [self._held_until - now, self._overall.delay(now)]
        bucket = self._chats.get(chat)
        if bucket is not None:
            waits.append(bucket.delay(now))
        if self._chat_holds:
            waits.append(self._chat_holds.get(chat, now) - now)
        return max(0.0, *waits)

    def record(self, chat: str, is_private: bool) -> None:
        """A message to this chat leaves now."""
        now = self.monotonic()
        self._overall.add(now)
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= self._PRUNE_AT:
                self._prune(now)
            bucket = self._chats[chat] = self._chat_bucket(is_private, now)
        bucket.add(now)

    def hold(self, seconds: float, chat: str | None = None) -> None:
        """The platform asked us to back off (retry_after): pause the sends to `chat`, or
        every send when no chat is named.

        Telegram does not say which limit a 429 is about. One chat refused is taken as that
        chat's own limit (the adapter's replies share its budget, and the pacer does not see
        them); a second chat refused while the first still waits means the bot as a whole is
        over its limit, so then every send waits."""
        now = self.monotonic()
        until = now + seconds
        if chat is None:
            self._held_until = max(self._held_until, until)
            return
        self._chat_holds = {c: end for c, end in self._chat_holds.items() if end > now}
        if any(other != chat for other in self._chat_holds):
            self._held_until = max(self._held_until, until)
        self._chat_holds[chat] = max(self._chat_holds.get(chat, now), until)

    def held_for(self) -> float:
        """Seconds left of a hold() of every send (0 if none)."""
        return max(0.0, self._held_until - self.monotonic())

    def _chat_bucket(self, is_private: bool, now: float) -> LeakyBucket:
        if is_private:
            interval = self.policy.private_interval
            return LeakyBucket(1 / interval if interval > 0 else 1e9, 1.0, now)
        return LeakyBucket(self.policy.group_per_minute / 60, 1.0, now)

    def _prune(self, now: float) -> None:
        self._chats = {k: b for k, b in self._chats.items() if not b.empty(now)}
