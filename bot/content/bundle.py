"""Loading a whole content folder, with every problem reported at once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.card_images import load_card_animations, load_card_images
from bot.content.challenge_schema import ChallengeTemplate, ClubTexts, load_challenges
from bot.content.reminder_schema import ReminderTexts
from bot.content.schema import Card, Texts
from bot.content.session_schema import SessionContent, load_sessions
from bot.content.text import normalise
from bot.content.triage_schema import TriageTree, check_card_links, load_triage
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
    # Animation key → GIF: "<card id>" and "<card id>--easier"/"--harder" (card_images.py).
    card_animations: dict[str, Path] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for card in self.cards.values():
            for name in card.lookup_names():
                self._names.setdefault(normalise(name), card.id)  # as find_card folds queries

    def find_card(self, query: str) -> Card | None:
        card_id = self._names.get(normalise(query))
        return self.cards.get(card_id) if card_id else None

    def suggest_cards(self, query: str, n: int = 3) -> list[Card]:
        close = difflib.get_close_matches(normalise(query), list(self._names), n=n * 2, cutoff=0.6)
        ids = list(dict.fromkeys(self._names[name] for name in close))[:n]
        return [self.cards[i] for i in ids]


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
    sessions = load_sessions(root / "sessions", cards, problems)
    card_images = load_card_images(root / "cards", set(cards), problems)
    card_animations = load_card_animations(root / "cards", cards, problems)
    challenges = load_challenges(root / "challenges", set(cards), problems)
    clubs, found = load_model(root / "clubs.yaml", ClubTexts)
    problems.extend(found)
    if problems or texts is None or reminders is None or triage is None or sessions is None:
        return None, problems
    if clubs is None:
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
