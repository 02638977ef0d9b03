"""The one placeholder check that club and session texts share."""

import re

import pytest
from pydantic import BaseModel

from bot.content.schema import check_placeholders


class _Texts(BaseModel):
    greeting: str
    count: int = 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Hi {name}", None),
        ("Hi {nmae}", "greeting: unknown placeholder {nmae} (allowed: {name})"),
        ("Hi {}", "greeting: unknown placeholder {} (allowed: {name})"),
        ("Hi {name", "greeting: broken {placeholder}"),
    ],
)
def test_only_the_fields_code_fills_in_pass(text: str, problem: str | None) -> None:
    texts = _Texts(greeting=text)
    if problem is None:
        check_placeholders(texts, {"greeting": {"name"}})
        return
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_placeholders(texts, {"greeting": {"name"}})
