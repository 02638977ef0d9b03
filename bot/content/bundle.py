"""Loading a whole content folder, with every problem reported at once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.schema import Card, Texts
from bot.content.yamlsource import Problem, load_folder, load_model
from bot.engine.router import normalise

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
    _names: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for card in self.cards.values():
            for name in card.lookup_names():
                self._names.setdefault(name, card.id)

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
    texts, found = load_model(root / "texts.yaml", Texts)
    problems.extend(found)
    if problems or texts is None:
        return None, problems
    return ContentBundle(root=root, cards=cards, texts=texts), []


def load_or_raise(root: Path) -> ContentBundle:
    bundle, problems = load_content(root)
    if bundle is None:
        raise ContentError(problems)
    return bundle
