"""/export and /forget: a copy of everything stored about a person, and erasing all of it.

What counts as "about a person" is decided in one place, bot/privacy.py, from the schema. Both
commands run privately: in a group the export is sent privately, and /forget continues in a
private chat, so nobody else sees what is stored or that it was deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot import privacy
from bot.content.plural import fill, form
from bot.content.text import normalise
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Reply, ReplyIntent
from bot.engine.state_model import StateModel
from handlers.privacy.readable import readable
from handlers.triage.api import change_health_consent, health_consent

DIALOG = "forget"
ACTION = "forget"
CENTRE_ACTION = "privacy"
EXPORT, KEEP_CHECKS, STOP = "export", "keep", "stop"


class Answer(StrEnum):
    """The two buttons of /forget's one question."""

    ERASE = "erase"
    KEEP = "keep"


class ForgetState(StateModel):
    """Nothing to keep between the question and its answer: one question, so no phase, and
    what is deleted is found when the person confirms."""


EXPORT_READY = (
    "Here is everything I store about you, as a JSON file. It includes any soreness answers "
    "you let me keep, so store it somewhere private."
)
EXPORT_GROUP = "I'll send it to you privately."
FORGET_GROUP = "Let's do that in a private chat, so nobody else sees what is stored."
FORGET_GROUP_BUTTON = "Continue privately"
FORGET_ASK = (
    "This deletes everything I store about you, for good:\n{summary}\n\n"
    "I can't undo it. If you want a copy first, type /export before you choose."
)
FORGET_REASK = "Please choose with the buttons: delete everything, or keep it."
FORGET_YES = "Delete everything"
FORGET_NO = "Keep my data"
FORGET_DONE = (
    "Done. I deleted:\n{summary}\n\n"
    "I no longer store anything about you. If you write to me again, I'll start afresh."
)
FORGET_KEPT = "Okay, I kept everything. Nothing was deleted."
_KEEP_WORDS = {"no", "keep", "keep it", "keep my data", "cancel", "stop"}


def describe(counts: dict[str, int], kinds: Mapping[str, str]) -> str:
    """One line per kind, such as "• 3 soreness check results", biggest first: each table in
    the words of content (privacy_centre.kinds, singular|plural); others by their name."""
    lines = []
    for table, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        name = table.replace("_", " ")
        lines.append(f"• {form(n, kinds.get(table, f'# {name}|# {name}'))}")
    return "\n".join(lines) or "• nothing"


# --- /export ---------------------------------------------------------------------------------


async def export(ctx: TurnContext, exports: Path) -> None:
    data = await privacy.export(ctx.session, ctx.user, ctx.now)
    counts = {table: len(rows) for table, rows in data["tables"].items()}
    data = {
        "summary": describe(counts, ctx.content.texts.privacy_centre.kinds).splitlines(),
        "readable": readable(data["tables"], ctx.content),
        **data,
    }
    name = f"{export_prefix(ctx.user.id)}{ctx.now:%Y%m%d-%H%M%S}-{secrets.token_hex(6)}.json"
    path = await asyncio.to_thread(_write_private_file, exports / name, data)
    if ctx.in_group:
        ctx.say(EXPORT_GROUP)
        ctx.say(EXPORT_READY, attachment=path, intent=ReplyIntent.PRIVATE)
    else:
        ctx.say(EXPORT_READY, attachment=path)


def export_prefix(user_id: int) -> str:
    # The internal row id, never the platform id: /forget finds the person's exports by it,
    # and the name says nothing to anyone who sees the folder.
    return f"corecoach-export-u{user_id}-"


def exports_of(data_dir: Path, user_id: int) -> list[Path]:
    """The person's export files not yet deleted by the retention job."""
    folder = data_dir / privacy.EXPORTS_SUBDIR
    return sorted(folder.glob(f"{export_prefix(user_id)}*.json")) if folder.is_dir() else []


def _write_private_file(path: Path, data: dict[str, Any]) -> Path:
    """Readable by the bot's user only: the file holds health answers. The retention job
    deletes old exports."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(data, file, ensure_ascii=False, indent=2, default=str)
    return path


# --- /forget ---------------------------------------------------------------------------------


async def forget(ctx: TurnContext) -> None:
    if ctx.in_group:
        ctx.say(
            FORGET_GROUP,
            buttons=[[ctx.action(FORGET_GROUP_BUTTON, ACTION, "start", private=True)]],
        )
        return
    await begin_forget(ctx)


async def begin_forget(ctx: TurnContext) -> None:
    """Show what would be deleted and ask to confirm (also the "continue privately" button)."""
    ctx.start_dialog(DIALOG, ForgetState())
    counts = await privacy.count(ctx.session, ctx.user)
    counts["files"] = len(ctx.router.files_of(ctx.data_dir, ctx.user.id))
    kinds = ctx.content.texts.privacy_centre.kinds
    _ask(ctx, fill(FORGET_ASK, summary=describe(counts, kinds)))


def _ask(ctx: TurnContext, text: str) -> None:
    buttons = [[ctx.choice(FORGET_YES, Answer.ERASE), ctx.choice(FORGET_NO, Answer.KEEP)]]
    _say(ctx, text, buttons=buttons)


async def on_answer(ctx: TurnContext, given: DialogInput) -> None:
    # Typing is never enough to delete: only the button is, so a stray "yes" can't erase.
    typed_keep = given.text is not None and normalise(given.text) in _KEEP_WORDS
    if given.choice == Answer.KEEP or typed_keep:
        ctx.end_dialog()
        _say(ctx, FORGET_KEPT)
        return
    if given.choice != Answer.ERASE:
        _ask(ctx, FORGET_REASK)
        return
    ctx.end_dialog()
    for hook in ctx.router.forget_hooks:  # e.g. Strava's grant, outside our database
        await hook(ctx)
    removed = await privacy.erase(ctx.session, ctx.user)
    # This very conversation was one of the rows; listing it would only puzzle.
    removed["dialog_states"] = removed.get("dialog_states", 1) - 1
    # Exports and charts are copies of what those rows held: they go with them.
    files = ctx.router.files_of(ctx.data_dir, ctx.user.id)
    removed["files"] = await asyncio.to_thread(_delete, files)
    kinds = ctx.content.texts.privacy_centre.kinds
    _say(ctx, fill(FORGET_DONE, summary=describe({k: n for k, n in removed.items() if n}, kinds)))


def _delete(paths: list[Path]) -> int:
    deleted = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):  # the retention job got there first
            path.unlink()
            deleted += 1
    return deleted


def _say(ctx: TurnContext, text: str, **kwargs: Any) -> Reply:
    # Reached from a group only through a platform that answers there privately (Discord).
    return ctx.say(text, intent=ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW, **kwargs)


async def privacy_command(ctx: TurnContext) -> None:
    """The privacy centre: what is kept and why, what is stored now, and buttons to change
    the soreness-storage choice, to export and to forget."""
    texts = ctx.content.texts
    centre = texts.privacy_centre
    counts = await privacy.count(ctx.session, ctx.user)
    counts["files"] = len(ctx.router.files_of(ctx.data_dir, ctx.user.id))
    counts.pop("dialog_states", None)  # this very conversation: listing it would only puzzle
    days = ctx.content.triage.detail_retention_days
    consent = await health_consent(ctx.session, ctx.user.id)
    soreness = {
        True: fill(centre.soreness_kept, days=days),
        False: centre.soreness_not_kept,
        None: centre.soreness_not_asked,
    }[consent]
    change = (
        ctx.action(centre.stop_button, CENTRE_ACTION, STOP)
        if consent
        else ctx.action(centre.keep_button, CENTRE_ACTION, KEEP_CHECKS)
    )
    summary = describe({k: n for k, n in counts.items() if n}, centre.kinds)
    _say(
        ctx,
        f"{texts.privacy}\n\n{centre.stored_heading}\n{summary}\n\n{soreness}",
        buttons=[
            [change],
            [ctx.action(centre.export_button, CENTRE_ACTION, EXPORT)],
            [ctx.action(centre.forget_button, ACTION, "start")],
        ],
    )


async def centre_button(ctx: TurnContext) -> None:
    """The privacy centre's buttons: they act for the person who presses them."""
    centre = ctx.content.texts.privacy_centre
    if ctx.action_arg == EXPORT:
        await export_command(ctx)
    elif ctx.action_arg == KEEP_CHECKS:
        await change_health_consent(ctx.session, ctx.user.id, True, ctx.now)
        _say(ctx, fill(centre.now_keeping, days=ctx.content.triage.detail_retention_days))
    elif ctx.action_arg == STOP:
        deleted = await change_health_consent(ctx.session, ctx.user.id, False, ctx.now)
        _say(ctx, fill(centre.stopped, count=deleted))
    else:
        await privacy_command(ctx)


async def export_command(ctx: TurnContext) -> None:
    # Exports go to data_dir/exports: the retention job deletes old ones.
    await export(ctx, ctx.data_dir / privacy.EXPORTS_SUBDIR)
