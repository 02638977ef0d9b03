"""A language's content compiled once into lookups; `Reader.read(text)` does one message."""

from __future__ import annotations

from bot.content.language_schema import Language
from bot.engine.understanding.fuzzy import Speller
from bot.engine.understanding.negation import Scope, polarity
from bot.engine.understanding.normalise import PUNCTUATION, Tokens, phrase_tokens, tokenise
from bot.engine.understanding.numbers import NumberWords, read_numbers
from bot.engine.understanding.phrases import PhraseIndex
from bot.engine.understanding.result import Understanding
from bot.engine.understanding.small_talk import read_small_talk
from bot.engine.understanding.yes_no import AnswerWords, read_answer

FLAG = "flag"
SLOT = "slot:"
_MEMO_LIMIT = 512
# Longer texts are read up to here: every platform caps a message near this (Telegram 4096).
MAX_CHARS = 4096


class Reader:
    def __init__(self, language: Language) -> None:
        words = language.words
        self.fillers = frozenset(t for w in words.fillers for t in tokenise(w))

        def phrases(items: list[str]) -> frozenset[Tokens]:
            return frozenset(p for w in items if (p := phrase_tokens(w, self.fillers)))

        self.scope = Scope(
            negations=phrases(words.negations),
            uncertain=phrases(words.uncertain),
            breaks=phrases(words.breaks),
            reach=words.negation_reach,
        )
        self.numbers = NumberWords(
            words={k.casefold(): v for k, v in words.numbers.items()},
            approximately=frozenset(t for w in words.approximately for t in tokenise(w)),
            units=frozenset(t for w in words.units for t in tokenise(w)),
        )
        answers = language.answers
        self.answers = AnswerWords(
            unsure=phrases(answers.unsure), no=phrases(answers.no), yes=phrases(answers.yes)
        )
        self.index = PhraseIndex()
        for flag in language.red_flags.flags:
            for phrase in flag.phrases:
                self.index.add(phrase_tokens(phrase, self.fillers), (FLAG, flag.id))
        for slot, values in language.slots.slots.items():
            for value, items in values.items():
                for phrase in items:
                    self.index.add(phrase_tokens(phrase, self.fillers), (SLOT + slot, value))
        self.talk = PhraseIndex()
        for kind in language.small_talk.kinds:
            for phrase in kind.phrases:
                self.talk.add(phrase_tokens(phrase, self.fillers), ("talk", kind.id))
        self.talk_extra = frozenset(t for w in language.small_talk.extra_words for t in tokenise(w))
        protected = {w for p in self.scope.negations | self.scope.uncertain for w in p}
        vocabulary = self.index.words | self.talk.words
        answer_words = self.answers.unsure | self.answers.no | self.answers.yes
        known = (
            vocabulary
            | self.fillers
            | {w for p in answer_words | self.scope.breaks for w in p}
            | set(self.numbers.words)
            | self.numbers.units
            | self.numbers.approximately
        )
        self.speller = Speller(vocabulary, known, protected)
        self._memo: dict[str, Understanding] = {}

    def read(self, text: str) -> Understanding:
        text = text[:MAX_CHARS]
        found = self._memo.get(text)
        if found is None:
            found = self._read(text)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[text] = found
        return found

    def _read(self, text: str) -> Understanding:
        raw = tokenise(text)
        if not raw:
            return Understanding()
        score, number = read_numbers(raw, self.numbers)
        tokens = tuple(self.speller.correct(t) for t in raw if t not in self.fillers)
        said: dict[str, None] = {}
        denied: dict[str, None] = {}
        slots: dict[str, dict[str, None]] = {}
        for hit in self.index.scan(tokens):
            kind, value = hit.label
            how = polarity(tokens, hit.start, self.scope)
            if kind == FLAG:
                (denied if how == "denied" else said)[value] = None
            elif how != "denied":
                slots.setdefault(kind.removeprefix(SLOT), {})[value] = None
        words = tuple(t for t in tokens if t not in PUNCTUATION)
        return Understanding(
            red_flags=tuple(said),
            denied_flags=tuple(f for f in denied if f not in said),
            slots={slot: tuple(values) for slot, values in slots.items()},
            score=score,
            number=number,
            answer=read_answer(words, self.answers),
            small_talk=read_small_talk(words, self.talk, self.talk_extra),
        )
