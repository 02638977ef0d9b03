"""Loading a whole content folder, with every problem reported at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.content.card_images import load_card_animations, load_card_images
from bot.content.challenge_schema import ChallengeTemplate, ClubTexts, load_challenges
from bot.content.language_schema import DEFAULT_LANGUAGE, Language, load_languages
from bot.content.reminder_schema import ReminderTexts
from bot.content.schema import Card, Texts
from bot.content.session_schema import SessionContent, load_sessions
from bot.content.strava_schema import StravaTexts
from bot.content.text import normalise
from bot.content.training_schema import TrainingContent
from bot.content.triage_schema import (
    TriageTree,
    check_card_links,
    check_screen_outcomes,
    load_triage,
)
from bot.content.yamlsource import Problem, load_folder, load_model

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


class ContentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class ContentBundle:
    root: Path
    cards: dict[str, Card]
    texts: Texts
    reminders: ReminderTexts
    triage: TriageTree
    sessions: SessionContent
    # Card id → its picture (content/cards/images/<id>.png); empty when a club has none.
    card_images: dict[str, Path]
    challenges: dict[str, ChallengeTemplate]  # the club challenge library
    clubs: ClubTexts
    training: TrainingContent
    strava: StravaTexts
    # Language code → the words the bot understands (content/language/<code>/).
    languages: dict[str, Language]
    # Animation key → GIF: "<card id>" and "<card id>--easier"/"--harder" (card_images.py).
    card_animations: dict[str, Path] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for card in self.cards.values():
            for name in card.lookup_names():
                self._names.setdefault(normalise(name), card.id)  # as find_card folds queries

    @property
    def language(self) -> Language:
        return self.languages[DEFAULT_LANGUAGE]

    def find_card(self, query: str) -> Card | None:
        """The card with exactly this name (any of its names), ignoring case and punctuation."""
        card_id = self._names.get(normalise(query))
        return self.cards.get(card_id) if card_id else None

    def find_card_loosely(self, query: str) -> Card | None:
        """For /card NAME: an exact name, else the one card whose name starts with the typed
        words ("side" → Side plank, "glute" → Glute bridge). Typos get a "did you mean"
        (suggest_cards) rather than a guess."""
        exact = self.find_card(query)
        if exact is not None:
            return exact
        typed = normalise(query)
        starts = {i for name, i in self._names.items() if typed and _starts_with_words(name, typed)}
        return self.cards[starts.pop()] if len(starts) == 1 else None

    def suggest_cards(self, query: str, n: int = 3) -> list[Card]:
        names = list(self._names)
        close = process.extract(normalise(query), names, scorer=fuzz.WRatio, limit=n * 3)
        ids = [self._names[name] for name, score, _ in close if score >= _CARD_SUGGEST]
        return [self.cards[i] for i in list(dict.fromkeys(ids))[:n]]


# rapidfuzz's WRatio (0-100) a name must reach to be suggested for a typed one.
_CARD_SUGGEST = 70


def _starts_with_words(name: str, typed: str) -> bool:
    """`typed` is the start of `name`, word by word ("side" of "side plank", not "si")."""
    words, start = name.split(), typed.split()
    if len(start) > len(words):
        return False
    head, last = start[:-1], start[-1]
    return words[: len(head)] == head and words[len(head)].startswith(last) and len(last) >= 3


def load_content(root: Path) -> tuple[ContentBundle | None, list[Problem]]:
    problems: list[Problem] = []
    cards = load_folder(root / "cards", Card, problems)
    problems.extend(_name_clashes(root / "cards", cards))
    texts, found = load_model(root / "texts.yaml", Texts)
    problems.extend(found)
    reminders, found = load_model(root / "reminders.yaml", ReminderTexts)
    problems.extend(found)
    triage = load_triage(root / "triage", problems)
    if triage is not None:
        check_card_links(triage, set(cards), root / "triage", problems)
        check_screen_outcomes(triage, root / "triage", problems)
    sessions = load_sessions(root / "sessions", cards, problems)
    card_images = load_card_images(root / "cards", set(cards), problems)
    card_animations = load_card_animations(root / "cards", cards, problems)
    challenges = load_challenges(root / "challenges", set(cards), problems)
    languages = load_languages(root / "language", problems)
    clubs, found = load_model(root / "clubs.yaml", ClubTexts)
    problems.extend(found)
    training, found = load_model(root / "training.yaml", TrainingContent)
    problems.extend(found)
    strava, found = load_model(root / "strava.yaml", StravaTexts)
    problems.extend(found)
    if problems or texts is None or reminders is None or triage is None or sessions is None:
        return None, problems
    if clubs is None or training is None or strava is None:
        return None, problems
    return (
        ContentBundle(
            root=root,
            cards=cards,
            texts=texts,
            reminders=reminders,
            triage=triage,
            sessions=sessions,
            card_images=card_images,
            card_animations=card_animations,
            challenges=challenges,
            clubs=clubs,
            training=training,
            strava=strava,
            languages=languages,
        ),
        [],
    )


def _name_clashes(folder: Path, cards: dict[str, Card]) -> list[Problem]:
    """Two cards answering to one name would make "/card NAME" pick one of them silently."""
    owners: dict[str, str] = {}
    problems = []
    for card in cards.values():
        for name in card.lookup_names():
            owner = owners.setdefault(normalise(name), card.id)
            if owner != card.id:
                message = f"the name {normalise(name)!r} is already used by card {owner!r}"
                problems.append(Problem(folder / f"{card.id}.yaml", 1, message))
    return problems


def load_or_raise(root: Path) -> ContentBundle:
    bundle, problems = load_content(root)
    if bundle is None:
        raise ContentError(problems)
    return bundle
