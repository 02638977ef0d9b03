"""The training log: runs typed in plain words or /run, read from GPX/FIT files (/upload),
listed and edited (/runs) and the week's load (/week). Today's advice is handlers/today."""

from __future__ import annotations

from bot.content.bundle import ContentBundle
from bot.engine.feature import Feature
from handlers.training import log, upload, week
from handlers.training.files import MAX_BYTES
from handlers.training.parse import is_run_report


def _run_report(text: str, content: ContentBundle) -> bool:
    return is_run_report(text, content.training.words)


feature = Feature("training")
feature.command("run", "Log a run", args_hint="10k in 52 min easy")(log.run_command)
feature.command("runs", "Your recent runs, to edit or delete")(log.runs_command)
feature.command("units", "Distances in km or miles", args_hint="km|mi")(log.units_command)
feature.command("week", "This week's running and your training load")(week.week_command)
feature.command(
    "upload",
    "Log a run from a GPX or FIT file (send it with the command; a PATH in the terminal)",
    file_bytes=MAX_BYTES,
)(upload.upload_command)
feature.dialog(log.DIALOG, state=log.RunDraft)(log.on_answer)
feature.action(log.DELETE_ACTION)(log.delete_button)
feature.action(log.UNDO_ACTION)(log.delete_button)
feature.action(log.EDIT_ACTION)(log.edit_button)
# After soreness (10): a soreness report that mentions a run goes to the soreness check.
feature.intent("run_report", _run_report, priority=40)(log.run_words)
