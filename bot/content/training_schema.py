"""The schema of content/training.yaml: the run parser's words and the training log's texts."""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.content.schema import Line, Paragraph, Strict, check_placeholders

Words = list[Line]
# The keys of `days` beyond today and yesterday, Monday first (date.weekday()'s order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class TrainingWords(Strict):
    units: dict[str, Words]
    minute_words: Words = Field(min_length=1)
    hour_words: Words = Field(min_length=1)
    run_words: Words = Field(min_length=1)
    efforts: dict[str, Words]
    hard_efforts: Words
    days: dict[str, Words]
    today_questions: Words = Field(min_length=1)

    @model_validator(mode="after")
    def _known_keys(self) -> TrainingWords:
        if set(self.units) != {"km", "mi"}:
            raise ValueError("units must be exactly km and mi")
        if set(self.days) != {"today", "yesterday", *WEEKDAYS}:
            raise ValueError(f"days must be today, yesterday and {', '.join(WEEKDAYS)}")
        unknown = set(self.hard_efforts) - set(self.efforts)
        if unknown:
            raise ValueError(f"hard_efforts names unknown efforts: {sorted(unknown)}")
        return self


class TrainingTexts(Strict):
    confirm: Paragraph
    save_button: Line
    fix_button: Line
    undo_button: Line
    fix_prompt: Paragraph
    not_understood: Paragraph
    saved: Paragraph
    undone: Paragraph
    deleted: Paragraph
    gone: Paragraph
    units_set: Paragraph
    units_help: Paragraph
    runs_empty: Paragraph
    runs_title: Line
    edit_button: Line
    delete_button: Line
    week_title: Line
    week_empty: Paragraph
    week_line: Paragraph
    week_change_up: Paragraph
    week_change_down: Paragraph
    week_change_same: Paragraph
    week_change_none: Paragraph
    ratio_sentence: Paragraph
    ratio_low: Line
    ratio_ok: Line
    ratio_high: Line
    ratio_none: Paragraph
    warn_week: Paragraph
    warn_ratio: Paragraph
    today_easy: Paragraph
    today_rest: Paragraph
    today_core: Paragraph
    reason_soreness: Paragraph
    reason_ratio: Paragraph
    reason_week: Paragraph
    reason_hard: Paragraph
    reason_core_due: Paragraph
    reason_core_never: Paragraph
    reason_easy: Paragraph
    today_session_button: Line
    upload_help: Paragraph
    upload_send_file: Paragraph
    upload_unavailable: Paragraph
    upload_missing: Paragraph
    upload_too_big: Paragraph
    upload_empty: Paragraph
    upload_corrupt: Paragraph
    upload_not_running: Paragraph
    upload_no_track: Paragraph
    upload_duplicate: Paragraph
    summary_title: Line
    summary_body: Paragraph
    summary_jump: Paragraph
    summary_chart_title: Line
    summary_chart_caption: Line
    summary_status_on: Paragraph
    summary_status_off: Paragraph
    summary_on: Paragraph
    summary_off: Paragraph
    summary_help: Paragraph
    summary_on_button: Line
    summary_off_button: Line

    @model_validator(mode="after")
    def _placeholders(self) -> TrainingTexts:
        check_placeholders(
            self,
            {
                "confirm": ["summary"],
                "saved": ["summary"],
                "units_set": ["unit"],
                "week_line": ["runs", "distance", "time"],
                "week_change_up": ["pct", "last"],
                "week_change_down": ["pct", "last"],
                "week_change_same": ["last"],
                "ratio_sentence": ["ratio", "meaning"],
                "warn_week": ["pct"],
                "warn_ratio": ["ratio"],
                "today_easy": ["reason"],
                "today_rest": ["reason"],
                "today_core": ["reason"],
                "reason_hard": ["effort"],
                "reason_core_due": ["days"],
                "upload_not_running": ["sport"],
                "summary_body": ["week", "runs", "distance", "sessions", "checks"],
                "summary_chart_title": ["weeks"],
                "summary_chart_caption": ["zone"],
            },
        )
        return self


class TrainingContent(Strict):
    words: TrainingWords
    texts: TrainingTexts
