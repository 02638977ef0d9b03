"""Counts in texts: the one way a word that follows a number takes its singular or plural.

A text in content names both forms in its placeholder's format spec, singular first:

    progress_total: "Last 8 weeks: {count} {count:session|sessions}, {minutes} min."
    progress_streak: "Streak: {weeks:# week|# weeks} in a row."    # "#" is the number

and is filled with `fill(text, count=3, ...)`, which reads every whole number it is given as a
`Count`: a number whose format spec "one|other" picks the form (English: "one" for exactly 1,
"other" for everything else, 0 included). The content check (check_placeholders) accepts no
other format spec, so a form list with a typo fails at load, not in a message.
"""

from __future__ import annotations

from typing import Any

SEPARATOR = "|"
NUMBER = "#"  # in a form: the count itself ("# weeks" → "3 weeks")


def is_forms(spec: str) -> bool:
    """Whether a format spec is a form list: "one|other", both forms non-empty."""
    one, sep, other = spec.partition(SEPARATOR)
    return bool(sep and one.strip() and other.strip() and SEPARATOR not in other)


def form(count: int, forms: str) -> str:
    """The form of "one|other" that goes with `count`, with "#" replaced by the count."""
    if not is_forms(forms):
        raise ValueError(f"not a form list (one|other): {forms!r}")
    one, _, other = forms.partition(SEPARATOR)
    return (one if count == 1 else other).replace(NUMBER, str(count))


class Count(int):
    """A whole number that formats "{n:one|other}" as the form for itself."""

    def __format__(self, spec: str) -> str:
        if SEPARATOR in spec:
            return form(int(self), spec)
        return format(int(self), spec)


def fill(text: str, **values: Any) -> str:
    """`text.format(**values)`, with every whole number (not a bool) read as a Count."""
    return text.format(**{k: Count(v) if type(v) is int else v for k, v in values.items()})
