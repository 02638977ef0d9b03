"""Content files (cards, dialog texts, triage tree, ...) as validated data."""
