"""The soreness check: /sore and plain words ("my abs are sore"), stored results (/history),
check-ins a day or two later, and the retention of health details."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.triage import checkin_store, checkins, dialog, history, retention, screen
from handlers.triage.api import START_ACTION
from handlers.triage.checkin_sweep import sweep_checkins
from handlers.triage.state import TriageState

feature = Feature("triage")
# Before everything else, in every state: warning signs typed anywhere get their advice at once.
feature.screen(screen.SCREEN, priority=0)(screen.red_flag_screen)
feature.command(
    "sore", "Check what sore abs, sides, hips or back mean", aliases=("soreness", "triage")
)(dialog.sore)
feature.action(START_ACTION)(dialog.start_action)
feature.dialog(dialog.DIALOG, state=TriageState)(dialog.on_answer)
# Priority 10: soreness must win over everything else, card names included.
feature.intent("soreness", dialog.mentions_soreness, priority=10)(dialog.sore)

feature.command("history", "Your past soreness checks")(history.history)
# The private continuation of /history asked in a group.
feature.action(history.ACTION)(history.show_history)

feature.action(checkin_store.OFFER_ACTION)(checkins.offer_button)
feature.action(checkin_store.ANSWER_ACTION)(checkins.answer_button)
feature.sweep(sweep_checkins)
feature.daily(retention.RETENTION_JOB, hour=3, minute=41)(retention.retention_job)
