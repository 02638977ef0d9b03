"""Run every bench_*.py module here (or the ones named), passing the flags through.

.venv/bin/python -m tests.benchmarks            # all, full size
.venv/bin/python -m tests.benchmarks --quick    # all, small and fast (a smoke run)
.venv/bin/python -m tests.benchmarks engine     # only bench_engine.py
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    flags = [a for a in argv if a.startswith("-")]
    wanted = {a.removeprefix("bench_") for a in argv if not a.startswith("-")}
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    unknown = wanted - {n.removeprefix("bench_") for n in names}
    if unknown:
        print(f"no such benchmark: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"== {name} {' '.join(flags)}".rstrip(), flush=True)
        module = importlib.import_module(f"tests.benchmarks.{name}")
        failed += module.main(flags) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
