"""Speed and memory figures (never part of `make test`): `make bench`, or
`.venv/bin/python -m tests.benchmarks [--quick] [NAME ...]` to run some of them."""
