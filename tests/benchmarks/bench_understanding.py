"""The cost of the language-understanding layer per turn (µs): what the red-flag screen adds
to every inbound text, and a soreness answer read by meaning.

    .venv/bin/python -m tests.benchmarks understanding [--quick]

"cold" reads a text the reader has not seen (a new message: tokenise, typo correction,
phrase scan, negation, numbers, yes/no, small talk); "memo" is the same text again in the
same turn (the screen and then the dialog read it: the second read is a dictionary hit).
"""

from __future__ import annotations

import statistics
import time

from bot.content.bundle import DEFAULT_CONTENT_DIR, load_or_raise
from bot.engine.understanding import reader_for

TEXTS = [
    "my abs hurt since my long run, dull, 3/10",
    "no fever, no chest pain, just sore obliques",
    "I don't know",
    "about a six",
    "thanks!",
    "sharp pain in my lower back after intervals, worse when I walk",
    "feaver and chils since this morning",
    "ok",
    "my stomache is kinda tight after the marathon, maybe 4 out of 10",
    "I fell asleep on the sofa after my run",
]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    rounds = 200 if quick else 2000
    content = load_or_raise(DEFAULT_CONTENT_DIR)
    reader = reader_for(content.language)
    cold: list[float] = []
    memo: list[float] = []
    for r in range(rounds):
        for text in TEXTS:
            fresh = f"{text} {r}"  # a text this reader has not seen
            start = time.perf_counter()
            reader.read(fresh)
            middle = time.perf_counter()
            reader.read(fresh)
            end = time.perf_counter()
            cold.append((middle - start) * 1e6)
            memo.append((end - middle) * 1e6)
    cold.sort()
    print(
        f"understanding per turn: cold median {statistics.median(cold):.0f} µs, "
        f"p95 {cold[int(len(cold) * 0.95)]:.0f} µs; memo median {statistics.median(memo):.1f} µs "
        f"({len(cold)} texts)",
        flush=True,
    )
    return 0
