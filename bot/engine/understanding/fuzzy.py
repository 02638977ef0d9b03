"""Forgiving small typos ("feaver", "stomache", "numbess") with rapidfuzz, conservatively.

Only words of five letters or more are corrected, only onto words the content uses, and never
onto or away from a negation or uncertainty word: a typo can make a warning sign be read
where there is one, never turn "not numb" into "numb".
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

# rapidfuzz's ratio (0-100) a typo must reach: "feaver"/"fever" 91, "numbess"/"numbness" 93,
# "chess"/"chest" 80 (not corrected).
TYPO_SCORE = 85
MIN_LENGTH = 5
_MEMO_LIMIT = 4096


class Speller:
    def __init__(self, vocabulary: set[str], known: set[str], protected: set[str]) -> None:
        # Corrections go onto content words only, never onto negation/uncertainty words.
        self._targets = sorted(w for w in vocabulary - protected if len(w) >= MIN_LENGTH)
        self._known = known | protected
        self._memo: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self._known or len(word) < MIN_LENGTH or not word.isalpha():
            return word
        found = self._memo.get(word)
        if found is None:
            best = process.extractOne(
                word, self._targets, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE
            )
            found = best[0] if best is not None else word
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[word] = found
        return found
