"""The words the bot understands, per language: content/language/<code>/*.yaml.

One folder per language, so a second language is content, not code:
- words.yaml: number words, negations, uncertainty, clause breaks and filler words;
- answers.yaml: typed yes / no / unsure;
- slots.yaml: what a runner may say about a pain (area, onset, duration, feel, ...);
- red_flags.yaml: warning signs screened in every message, each with its disposition;
- small_talk.yaml: thanks, hello, ok... and their short answers.

The understanding layer (bot/engine/understanding/) reads these; nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from bot.content.schema import Line, Paragraph, Slug, Strict
from bot.content.yamlsource import Problem, load_model

Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Phrases = list[Phrase]
Disposition = Literal["urgent", "same_day"]
DEFAULT_LANGUAGE = "en"


class Words(Strict):
    numbers: dict[Phrase, int] = Field(min_length=1)
    approximately: Phrases
    units: Phrases
    negations: Phrases = Field(min_length=1)
    uncertain: Phrases = Field(min_length=1)
    breaks: Phrases
    fillers: Phrases
    negation_reach: int = Field(ge=1, le=8)
    sources: list[Line] = Field(min_length=1)


class Answers(Strict):
    unsure: Phrases = Field(min_length=1)
    no: Phrases = Field(min_length=1)
    yes: Phrases = Field(min_length=1)
    sources: list[Line] = Field(min_length=1)


class Slots(Strict):
    # slot → value → phrases
    slots: dict[Slug, dict[Slug, Phrases]] = Field(min_length=1)
    sources: list[Line] = Field(min_length=1)


class RedFlag(Strict):
    id: Slug
    disposition: Disposition
    phrases: Phrases = Field(min_length=1)
    advice: Paragraph


class RedFlags(Strict):
    flags: list[RedFlag] = Field(min_length=1)
    sources: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RedFlags:
        ids = [f.id for f in self.flags]
        if len(ids) != len(set(ids)):
            raise ValueError("red flag ids repeat")
        return self


class SmallTalkKind(Strict):
    id: Slug
    phrases: Phrases = Field(min_length=1)
    reply: Line


class SmallTalk(Strict):
    kinds: list[SmallTalkKind] = Field(min_length=1)
    # Words that may come with small talk without making it more ("thanks so much").
    extra_words: Phrases
    sources: list[Line] = Field(min_length=1)


@dataclass(frozen=True)
class Language:
    code: str
    words: Words
    answers: Answers
    slots: Slots
    red_flags: RedFlags
    small_talk: SmallTalk

    def flag(self, flag_id: str) -> RedFlag:
        return next(f for f in self.red_flags.flags if f.id == flag_id)


def load_language(folder: Path, problems: list[Problem]) -> Language | None:
    before = len(problems)
    words, found = load_model(folder / "words.yaml", Words)
    problems.extend(found)
    answers, found = load_model(folder / "answers.yaml", Answers)
    problems.extend(found)
    slots, found = load_model(folder / "slots.yaml", Slots)
    problems.extend(found)
    red_flags, found = load_model(folder / "red_flags.yaml", RedFlags)
    problems.extend(found)
    small_talk, found = load_model(folder / "small_talk.yaml", SmallTalk)
    problems.extend(found)
    if len(problems) > before:
        return None
    if words is None or answers is None or slots is None or red_flags is None:
        return None
    if small_talk is None:
        return None
    return Language(folder.name, words, answers, slots, red_flags, small_talk)


def load_languages(root: Path, problems: list[Problem]) -> dict[str, Language]:
    """Every language folder under content/language/; the default one must be there."""
    languages: dict[str, Language] = {}
    if not (root / DEFAULT_LANGUAGE).is_dir():
        problems.append(Problem(root / DEFAULT_LANGUAGE, 1, "the default language is missing"))
        return languages
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        language = load_language(folder, problems)
        if language is not None:
            languages[folder.name] = language
    return languages
