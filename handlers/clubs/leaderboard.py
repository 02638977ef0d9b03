"""Standings of a club challenge: the /leaderboard, the end-of-challenge summary in the group
and the coach's private report.

Only challenge activity (who joined, on which days they tapped Done) and display names are
read here; nothing from triage or sessions, so no health data can reach a group.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.challenge_schema import ClubTexts
from bot.content.plural import fill
from bot.engine.events import Button, Reply
from bot.storage.models import Challenge, ChallengeDone, ChallengeParticipant, User
from handlers.clubs.challenges import (
    day_label,
    goal_label,
    local_day,
    moment_label,
    period_label,
)
from handlers.clubs.roles import safe_name

LEADERBOARD_ROWS = 10
TOP_FINISHERS = 3


@dataclass(frozen=True)
class Standing:
    user_id: int
    name: str
    days: int
    best_streak: int
    reached_target: bool
    last_done: datetime | None


@dataclass(frozen=True)
class Standings:
    challenge: Challenge
    entries: list[Standing]  # best first
    per_day: dict[date, int]  # Done taps per local day

    @property
    def joined(self) -> int:
        return len(self.entries)

    @property
    def took_part(self) -> int:
        return sum(1 for e in self.entries if e.days > 0)

    @property
    def finished(self) -> int:
        return sum(1 for e in self.entries if e.reached_target)


def longest_streak(days: list[date]) -> int:
    best = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


async def standings(session: AsyncSession, challenge: Challenge) -> Standings:
    people = (
        await session.execute(
            select(User.id, User.display_name, User.platform, User.platform_user_id)
            .join(ChallengeParticipant, ChallengeParticipant.user_id == User.id)
            .where(ChallengeParticipant.challenge_id == challenge.id)
        )
    ).all()
    dones = (
        await session.execute(
            select(ChallengeDone.user_id, ChallengeDone.day, ChallengeDone.done_at).where(
                ChallengeDone.challenge_id == challenge.id
            )
        )
    ).all()
    days_of: dict[int, list[date]] = {}
    last_of: dict[int, datetime] = {}
    for user_id, day, done_at in dones:
        days_of.setdefault(user_id, []).append(day)
        last_of[user_id] = max(last_of.get(user_id, done_at), done_at)
    entries = []
    for person in people:
        days = days_of.get(person.id, [])
        entries.append(
            Standing(
                user_id=person.id,
                name=safe_name(person.display_name),
                days=len(days),
                best_streak=longest_streak(days),
                reached_target=len(days) >= challenge.target_days,
                last_done=last_of.get(person.id),
            )
        )
    far_future = datetime.max.replace(tzinfo=challenge.starts_at.tzinfo)
    # More days first; then the longer streak; then whoever got there first.
    entries.sort(key=lambda e: (-e.days, -e.best_streak, e.last_done or far_future, e.name))
    per_day = Counter(day for _, day, _ in dones)
    return Standings(challenge, entries, dict(sorted(per_day.items())))


def _ranked(entries: list[Standing]) -> list[tuple[int, Standing]]:
    """Competition ranking on days done: 1, 2, 2, 4."""
    ranked: list[tuple[int, Standing]] = []
    for index, entry in enumerate(entries):
        rank = ranked[-1][0] if ranked and ranked[-1][1].days == entry.days else index + 1
        ranked.append((rank, entry))
    return ranked


def _days(n: int, texts: ClubTexts) -> str:
    return fill(texts.day_count, n=n)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "0 %"


def leaderboard_text(st: Standings, now: datetime, texts: ClubTexts) -> str:
    challenge = st.challenge
    if now < challenge.ends_at:
        elapsed = min(challenge.days, (local_day(challenge, now) - _start_day(challenge)).days + 1)
        when = (
            f"day {elapsed} of {challenge.days}, ends "
            f"{moment_label(challenge.ends_at, challenge.timezone)}"
        )
    else:
        when = "finished"
    lines = [f"**Leaderboard: {challenge.title}** ({when})"]
    if not st.entries:
        lines.append("Nobody has joined yet. Tap **Join** to be the first.")
        return "\n".join(lines)
    for rank, entry in _ranked(st.entries)[:LEADERBOARD_ROWS]:
        streak = f", best streak {entry.best_streak}" if entry.best_streak > 1 else ""
        tick = " ✓" if entry.reached_target else ""
        lines.append(f"{rank}. {entry.name}: {_days(entry.days, texts)}{streak}{tick}")
    if st.joined > LEADERBOARD_ROWS:
        lines.append(f"…and {st.joined - LEADERBOARD_ROWS} more")
    lines.append(f"{st.joined} joined · goal {goal_label(challenge, texts)} · ✓ = goal reached")
    return "\n".join(lines)


def _start_day(challenge: Challenge) -> date:
    return local_day(challenge, challenge.starts_at)


def _names(entries: list[Standing]) -> str:
    names = [e.name for e in entries]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def summary_reply(st: Standings, club: str, texts: ClubTexts) -> Reply:
    """The group's end-of-challenge post: rates, top finishers, the longest streak."""
    challenge = st.challenge
    lines = [f"**{challenge.title}: the results**", ""]
    if st.joined == 0:
        lines.append("Nobody joined this one. There's always the next challenge!")
    else:
        lines.append(
            f"{st.joined} joined, {st.took_part} took part ({_percent(st.took_part, st.joined)})"
            f" and {st.finished} reached the goal of {goal_label(challenge, texts)}."
        )
        top = [e for e in st.entries if e.days > 0][:TOP_FINISHERS]
        if top:
            lines.append("")
            lines.append("**Top finishers**")
            for rank, entry in _ranked(top):
                lines.append(f"{rank}. {entry.name}: {_days(entry.days, texts)}")
        best = max((e.best_streak for e in st.entries), default=0)
        if best > 1:
            holders = [e for e in st.entries if e.best_streak == best][:3]
            lines.append("")
            streak = fill(texts.streak_days, n=best)
            lines.append(f"**Longest streak:** {_names(holders)}, {streak}")
    lines += ["", fill(texts.summary_thanks, club=club)]
    return Reply("\n".join(lines))


def report_reply(
    st: Standings, club: str, seen: int, buttons: list[list[Button]], texts: ClubTexts
) -> Reply:
    """The coach's private report: the same facts, everyone's days and the daily pattern."""
    challenge = st.challenge
    lines = [
        f"**Your report: {challenge.title}** in {club}",
        period_label(challenge),
        "",
        fill(texts.report_joined, joined=st.joined, seen=seen),
        f"Took part: {st.took_part} ({_percent(st.took_part, st.joined)})",
        f"Reached the goal of {goal_label(challenge, texts)}: {st.finished} "
        f"({_percent(st.finished, st.joined)})",
    ]
    if st.per_day:
        lines += ["", "**Done taps per day**"]
        lines += [f"{day_label(day)}: {count}" for day, count in st.per_day.items()]
    if st.entries:
        lines += ["", "**Everyone who joined**"]
        for entry in st.entries:
            streak = f", best streak {entry.best_streak}" if entry.best_streak > 1 else ""
            lines.append(f"{entry.name}: {_days(entry.days, texts)}{streak}")
    return Reply("\n".join(lines), buttons=buttons)
