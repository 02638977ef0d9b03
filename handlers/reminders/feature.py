"""Weekly core-session reminders (/remind) in each person's time zone (/timezone): set-up,
the list, snooze and skip, and the sweep that queues due ones."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.reminders import commands, rules, setup_state, timezone
from handlers.reminders.sweep import sweep_reminders

feature = Feature("reminders")
feature.command(
    "timezone", "Set your time zone", args_hint="Area/City", aliases=("tz", "time_zone")
)(timezone.timezone_command)
feature.action(timezone.ACTION)(timezone.zone_button)
feature.command("remind", "Weekly core-session reminders", args_hint="[tue thu 7:00 | list]")(
    commands.remind_command
)
feature.dialog(setup_state.DIALOG, state=setup_state.SetupState)(commands.on_answer)
feature.action(commands.SETUP_ACTION)(commands.remind_command)
feature.action(commands.LIST_ACTION)(commands.show_list)
feature.action(rules.SNOOZE_ACTION)(commands.snooze_button)
feature.action(rules.SKIP_ACTION)(commands.skip_button)
for name, word in (
    (commands.PAUSE_ACTION, "pause"),
    (commands.RESUME_ACTION, "resume"),
    (commands.DELETE_ACTION, "delete"),
    (commands.CHANGE_ACTION, "change"),
):
    feature.action(name)(commands.rule_button(word))
feature.sweep(sweep_reminders)
