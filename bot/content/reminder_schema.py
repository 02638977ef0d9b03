"""The schema of content/reminders.yaml: what reminders and check-ins say."""

from __future__ import annotations

import string

from pydantic import Field, field_validator, model_validator

from bot.content.schema import Line, Paragraph, Strict, check_placeholders


class ReminderButtons(Strict):
    """The labels of the buttons under reminders and check-ins."""

    start_session: Line
    snooze: Line
    skip_week: Line
    checkin_tomorrow: Line
    checkin_in_two_days: Line
    checkin_no: Line
    better: Line
    same: Line
    worse: Line


class ReminderTexts(Strict):
    buttons: ReminderButtons
    reminder: Paragraph  # must contain {when}, e.g. "Tuesday 07:00"
    snoozed_reminder: Paragraph
    # Said when /timezone moves the person's reminders to their new zone: {count}.
    zone_moved: Line
    # A new reminder past the most kept: {count}.
    too_many: Line
    timezone_help: Paragraph
    checkin_offer: Paragraph
    checkin_question: Paragraph
    checkin_better: Paragraph
    checkin_same: Paragraph
    checkin_same_again: Paragraph  # the second "same": time to get it looked at
    checkin_worse: Paragraph  # before the triage questions run again
    checkin_worse_no_triage: Paragraph  # when no triage dialog is installed
    sources: list[Line] = Field(min_length=1)

    @field_validator("reminder")
    @classmethod
    def _only_when(cls, value: str) -> str:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        if fields != {"when"}:
            raise ValueError("must contain {when} and no other {placeholder}")
        return value

    @model_validator(mode="after")
    def _known_placeholders(self) -> ReminderTexts:
        check_placeholders(
            self, {"reminder": {"when"}, "zone_moved": {"count"}, "too_many": {"count"}}
        )
        return self

    def reminder_text(self, when: str) -> str:
        return self.reminder.format(when=when)
