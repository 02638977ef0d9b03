"""The Telegram adapter (python-telegram-bot 22): translates updates into engine events and
replies into Bot API calls; no domain logic lives here.

    translate   Update → Inbound (commands, /cmd@bot, deep-link /start, buttons)
    render      Reply → HTML messages, split to Telegram's limits, inline keyboards
    outgoing    sends and edits with retries; Telegram errors → delivery outcomes
    adapter     one turn: update in, replies out (NEW / EDIT / PRIVATE)
    transport   the outbox sender's Transport
    run         polling or webhook, command menus, clean stop
"""

from bot.adapters.telegram.run import TelegramBot, make_bot, run_telegram

__all__ = ["TelegramBot", "make_bot", "run_telegram"]
