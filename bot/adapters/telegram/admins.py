"""Is this person an admin of this group? Asked of Telegram (getChatMember) at the moment of a
command or button press, and remembered briefly so a busy group does not ask every time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger("corecoach.telegram")

_ADMIN = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


class AdminCache:
    def __init__(
        self,
        bot: Bot,
        *,
        ttl: float = 60.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        now = self.clock()
        key = (chat_id, user_id)
        cached = self._known.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            # Unknown is "no" (coach commands refuse); not remembered, so the next try asks.
            log.warning("telegram.admin_check_failed", extra={"error": type(exc).__name__})
            return False
        answer = member.status in _ADMIN
        if len(self._known) >= self.max_entries:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
            if len(self._known) >= self.max_entries:
                self._known.clear()
        self._known[key] = (answer, now + self.ttl)
        return answer
