"""Privacy: what is stored (/privacy), a copy of it (/export), and erasing it (/forget)."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.privacy.commands import (
    ACTION,
    DIALOG,
    ForgetState,
    begin_forget,
    export_command,
    forget,
    on_answer,
    privacy_command,
)

feature = Feature("privacy")
feature.command("privacy", "What I store and why")(privacy_command)
feature.command("export", "Get a copy of everything I store about you")(export_command)
feature.command("forget", "Delete everything I store about you")(forget)
feature.action(ACTION)(begin_forget)
feature.dialog(DIALOG, state=ForgetState)(on_answer)
