"""Counts read right: one helper (bot/content/plural.py) picks a word's form by its number, the
forms written in content ("{count:# session|# sessions}"), and every content text with a count
placeholder is rendered here with 0, 1 and 2 and read back for "1 sessions", "2 day" or
"(s)". Then the issue's own cases through the chat."""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.bundle import ContentBundle
from bot.content.plural import Count, fill, form, is_forms
from bot.content.schema import check_placeholders
from tests.clubs_world import World
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock
from tests.sessions_support import add_log, session_bot, user_of

# Every placeholder a content text uses, as a number or not. A new placeholder must be added
# to one of the two, so no count slips past the rendering check below.
COUNTS = {
    "amount",
    "checks",
    "count",
    "days",
    "done",
    "held",
    "joined",
    "max",
    "minutes",
    "moves",
    "n",
    "next",
    "pct",
    "planned",
    "round",
    "rounds",
    "runs",
    "seconds",
    "seen",
    "sessions",
    "target",
    "total",
    "week",
    "weeks",
}
NOT_COUNTS = {
    "answers",
    "areas",
    "club",
    "clubs",
    "code",
    "current",
    "date",
    "day",
    "distance",
    "effort",
    "hold",
    "how",
    "last",
    "level",
    "meaning",
    "name",
    "new",
    "rank",
    "ratio",
    "reason",
    "sent",
    "sport",
    "summary",
    "time",
    "title",
    "titles",
    "tz",
    "unit",
    "until",
    "when",
    "zone",
}
# Nouns that follow counts, singular and plural; the forms written in content add theirs.
NOUNS = {
    "session": "sessions",
    "move": "moves",
    "day": "days",
    "week": "weeks",
    "run": "runs",
    "result": "results",
    "club": "clubs",
    "reminder": "reminders",
    "minute": "minutes",
    "round": "rounds",
    "rep": "reps",
    "person": "people",
    "problem": "problems",
}


def _texts(obj: object, path: str = "content") -> Iterator[tuple[str, str]]:
    """Every string in the loaded content, with where it sits."""
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _texts(getattr(obj, name), f"{path}.{name}")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if not f.name.startswith("_"):
                yield from _texts(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _texts(value, f"{path}[{key}]")
    elif isinstance(obj, list | tuple):
        for index, value in enumerate(obj):
            yield from _texts(value, f"{path}[{index}]")


def _placeholders(text: str) -> list[tuple[str, str]]:
    return [(f, spec or "") for _, f, spec, _ in string.Formatter().parse(text) if f is not None]


def _count_texts(content: ContentBundle) -> list[tuple[str, str]]:
    return [(path, text) for path, text in _texts(content) if _placeholders(text)]


def _nouns(content: ContentBundle) -> dict[str, str]:
    """NOUNS plus every pair of "# word|# words" forms in content."""
    nouns = dict(NOUNS)
    specs = [spec for _, text in _texts(content) for _, spec in _placeholders(text) if spec]
    specs += list(content.texts.privacy_centre.kinds.values())
    for spec in specs:
        one, _, other = spec.partition("|")
        a, b = re.search(r"# (\w+)", one), re.search(r"# (\w+)", other)
        if a and b and a.group(1) != b.group(1):
            nouns[a.group(1)] = b.group(1)
    return nouns


def _wrong_number(shown: str, n: int, nouns: dict[str, str]) -> list[str]:
    """ "1 sessions", "2 session", "0 day": a number next to the other form of its noun."""
    wrong = set(nouns.values()) if n == 1 else set(nouns)
    found = re.findall(rf"(?<![\d.,]){n} ({'|'.join(sorted(wrong))})\b", shown)
    return [f"{n} {word}" for word in found] + (["(s)"] if "(s)" in shown else [])


# --- the helper -------------------------------------------------------------------------------


def test_the_form_follows_the_count() -> None:
    text = "{n} {n:session|sessions}; {n:# week|# weeks}; {n:one round|# rounds}"
    assert [fill(text, n=n) for n in (0, 1, 2)] == [
        "0 sessions; 0 weeks; 0 rounds",
        "1 session; 1 week; one round",
        "2 sessions; 2 weeks; 2 rounds",
    ]
    assert f"{Count(5):03d}" == "005"  # any other spec is a number's own
    assert fill("{flag}", flag=True) == "True"  # a bool is no count
    assert form(1, "# problem|# problems") == "1 problem"
    with pytest.raises(ValueError, match="not a form list"):
        form(2, "problems")
    assert not is_forms("a|") and not is_forms("|b") and not is_forms("a|b|c")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{count:sessions}", "is not a count's forms"),
        ("{count:session|}", "is not a count's forms"),
        ("{count!r}", "is not a count's forms"),
    ],
)
def test_the_content_check_accepts_only_forms_as_a_spec(text: str, problem: str) -> None:
    class _Texts(BaseModel):
        line: str

    with pytest.raises(ValueError, match=re.escape(problem)):
        check_placeholders(_Texts(line=text), {"line": {"count"}})


# --- every text with a count ----------------------------------------------------------------


def test_every_placeholder_is_known_as_a_count_or_not(content: ContentBundle) -> None:
    names = {name for _, text in _count_texts(content) for name, _ in _placeholders(text)}
    assert names - COUNTS - NOT_COUNTS == set(), "add new placeholders to COUNTS or NOT_COUNTS"
    assert not COUNTS & NOT_COUNTS


def test_forms_are_only_written_on_counts(content: ContentBundle) -> None:
    for path, text in _count_texts(content):
        for name, spec in _placeholders(text):
            assert not spec or name in COUNTS, f"{path}: {{{name}:{spec}}}"


@pytest.mark.parametrize("n", [0, 1, 2])
def test_every_text_with_a_count_reads_right_for_0_1_and_2(content: ContentBundle, n: int) -> None:
    nouns = _nouns(content)
    checked = 0
    problems = []
    for path, text in _count_texts(content):
        names = {name for name, _ in _placeholders(text)}
        if not names & COUNTS:
            continue
        values = {name: n if name in COUNTS else "X" for name in names}
        shown = fill(text, **values)
        problems += [f"{path}: {w}" for w in _wrong_number(shown, n, nouns)]
        checked += 1
    for table, forms in content.texts.privacy_centre.kinds.items():
        # Compound names ("2 club memberships") defeat the word check: the two forms differ.
        if form(1, forms).replace("1", "") == form(2, forms).replace("2", ""):
            problems.append(f"kinds[{table}]: one form for 1 and for 2")
        if str(n) not in form(n, forms):
            problems.append(f"kinds[{table}]: no number")
    assert problems == []
    assert checked >= 40  # the walk reached the texts (sessions, clubs, reminders, ...)


def test_the_check_would_catch_a_bare_count(content: ContentBundle) -> None:
    """The rendering check itself: a text written without forms fails it."""
    nouns = _nouns(content)
    assert _wrong_number(fill("Last 8 weeks: {count} sessions", count=1), 1, nouns)
    assert _wrong_number(fill("{n} day left", n=2), 2, nouns)
    assert _wrong_number("Streak: 3 week(s)", 3, nouns)


# --- the cases, through the chat ------------------------------------------------------


async def test_one_session_reads_as_one_session(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock, tmp_path: Path
) -> None:
    bot = session_bot(sqlite_db, content, clock, tmp_path)
    ann = bot.person()
    await ann.say("/progress")
    user = await user_of(bot.engine, ann)
    await add_log(bot.engine, user, clock.now - timedelta(days=6))  # last week
    await ann.say("/progress")
    assert "Last 8 weeks: 1 session, 10 min" in ann.text()
    assert "1 sessions" not in ann.text() and "15 moves" in ann.text()
    await add_log(bot.engine, user, clock.now - timedelta(days=5))
    await ann.say("/progress")
    assert "Last 8 weeks: 2 sessions" in ann.text() and "Streak: 1 week in a row" in ann.text()


async def test_a_one_day_goal_and_two_clubs(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    world = World(build_engine(sqlite_db, content, clock=clock), clock)
    coach = world.person("coach", group="harriers", admin=True)
    await coach.say("/challenge new")
    await coach.press("Write my own")
    await coach.say("Bridge days")
    await coach.say("Twenty glute bridges")
    for label in ("Today", "Now", "3 days"):
        await coach.press(label)
    assert coach.labels()[:3] == ["Every day", "2 days", "1 day"]
    assert "On how many of the 3 days" in coach.text()
    for label in ("1 day", "Just once", "Start now"):
        await coach.press(label)
    [post] = await world.tick()
    assert "**Goal:** 1 of 3 days" in post.reply.text
    member = world.person("mo", group="harriers")
    done = next(b.payload for b in post.reply.flat_buttons() if b.label == "Done today")
    await member.press_payload(done)
    assert "1 of 1 day," in member.text() and "days" not in member.text().split("Brilliant")[0]
    await member.say("/leaderboard")
    assert "1. Mo: 1 day ✓" in member.text()

    cat = world.person("cat", platform="telegram")
    for group in ("north", "south"):
        await cat.say("/coach link")
        code = re.search(r"\*\*([A-Z0-9]{8})\*\*", cat.text())
        assert code is not None
        await world.person("cat", group=group, admin=True, platform="telegram").say(
            f"/coach link {code.group(1)}"
        )
    await cat.say("/broadcast Hills on Thursday")
    await cat.press("No, just the message")
    assert "This goes to 2 clubs: " in cat.text() and "(s)" not in cat.text()
    assert cat.labels() == ["Send to 2 clubs", "Cancel"]
    await cat.press("Send to 2 clubs")
    assert "Sending to 2 clubs now." in cat.text()


async def test_moving_one_reminder_and_abandoning_after_one_move(
    quick_bot: ChatHarness, clock: FakeClock
) -> None:
    ann = quick_bot.person()
    await ann.say("/timezone Europe/Berlin")
    await ann.say("/remind tue 7:00")
    await ann.say("/timezone Europe/London")
    assert "Your reminder keeps its local time." in ann.text()

    await ann.say("/session")
    await ann.press("Beginner")
    await ann.press("Start")
    await ann.press("Done")  # the warm-up
    clock.advance(seconds=20)
    await ann.press("Start" if "Start" in ann.labels() else "Done")
    if "End early" in ann.labels():
        await ann.press("End early")
    await ann.press("Stop")
    await ann.press("Abandon")
    assert "The move you did is in your log." in ann.text()
