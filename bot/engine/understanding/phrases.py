"""Finding content phrases in tokens: longest match first, so "comes back" is not "back"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.engine.understanding.normalise import PUNCTUATION, Tokens

# What a phrase stands for: ("flag", flag id) or ("slot:<name>", value).
Label = tuple[str, str]


@dataclass(frozen=True)
class Hit:
    label: Label
    start: int


class PhraseIndex:
    def __init__(self) -> None:
        self._labels: dict[Tokens, list[Label]] = defaultdict(list)
        self._longest = 1

    def add(self, phrase: Tokens, label: Label) -> None:
        if phrase and label not in self._labels[phrase]:
            self._labels[phrase].append(label)
            self._longest = max(self._longest, len(phrase))

    @property
    def words(self) -> set[str]:
        return {word for phrase in self._labels for word in phrase}

    def scan(self, tokens: Tokens) -> list[Hit]:
        hits: list[Hit] = []
        i = 0
        while i < len(tokens):
            if tokens[i] in PUNCTUATION:
                i += 1
                continue
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                labels = self._labels.get(tokens[i : i + n])
                if labels:
                    hits.extend(Hit(label, i) for label in labels)
                    i += n
                    break
            else:
                i += 1
        return hits

    def covers(self, tokens: Tokens) -> list[Label] | None:
        """The labels when the tokens are nothing but phrases of this index, else None."""
        labels: list[Label] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                found = self._labels.get(tokens[i : i + n])
                if found:
                    labels.extend(found)
                    i += n
                    break
            else:
                return None
        return labels
