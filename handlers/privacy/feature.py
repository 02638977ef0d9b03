"""Privacy: what is stored (/privacy), a copy of it (/export), and erasing it (/forget)."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.privacy.commands import (
    ACTION,
    CENTRE_ACTION,
    DIALOG,
    ForgetState,
    begin_forget,
    centre_button,
    export_command,
    exports_of,
    forget,
    on_answer,
    privacy_command,
)

feature = Feature("privacy")
# Personal: in a group, the answers go to the person privately.
feature.command("privacy", "What I store, and changing it", private=True)(privacy_command)
feature.action(CENTRE_ACTION, private=True)(centre_button)
feature.command("export", "Get a copy of everything I store about you")(export_command)
feature.command("forget", "Delete everything I store about you")(forget)
feature.action(ACTION)(begin_forget)
feature.dialog(DIALOG, state=ForgetState)(on_answer)
feature.files_of(exports_of)
