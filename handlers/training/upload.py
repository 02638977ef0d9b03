"""/upload PATH (terminal only): log a run from a GPX or FIT file on this computer.

The engine is platform-free, so the handler reads the file itself, off the event loop, and
keeps nothing of it but the figures and its SHA-256 (the same file is logged once).
Telegram and Discord attachments are not handled yet.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from handlers.training import store, views
from handlers.training.files import MAX_BYTES, Activity, ActivityError, read_activity
from handlers.training.log import UNDO_ACTION
from handlers.training.week import load_warnings

# Only where the person and the bot share a computer: on a chat platform a path would name a
# file on the bot's server.
UPLOAD_PLATFORMS = frozenset({"terminal"})


def _read(raw: str) -> tuple[bytes, Activity]:
    """Read and parse in a worker thread; size is checked before reading anything."""
    path = Path(raw).expanduser()
    if path.stat().st_size > MAX_BYTES:
        raise ActivityError("too_big")
    data = path.read_bytes()
    return data, read_activity(data)


async def upload_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    if ctx.event.actor.platform not in UPLOAD_PLATFORMS:
        ctx.say(texts.upload_terminal_only, intent=intent)
        return
    raw = ctx.event.args.strip().strip("'\"")
    if not raw:
        ctx.say(texts.upload_help, intent=intent)
        return
    try:
        data, activity = await asyncio.to_thread(_read, raw)
    except ActivityError as error:
        message = getattr(texts, f"upload_{error.reason}")
        ctx.say(fill(message, sport=error.sport) if error.sport else message, intent=intent)
        return
    except OSError:
        ctx.say(texts.upload_missing, intent=intent)
        return
    digest = hashlib.sha256(data).hexdigest()
    if await store.has_file(ctx.session, ctx.user.id, digest):
        ctx.say(texts.upload_duplicate, intent=intent)
        return
    run = await store.add_run(
        ctx.session,
        ctx.user.id,
        started_at=activity.started_at,
        distance_m=activity.distance_m,
        duration_s=activity.moving_s or None,
        effort=None,
        source=activity.kind,
        elevation_gain_m=activity.elevation_gain_m,
        file_hash=digest,
    )
    zone = store.zone_of(ctx.user)
    summary = views.summary(
        distance_m=run.distance_m,
        duration_s=run.duration_s,
        effort=None,
        started=run.started_at,
        zone=zone,
        today=ctx.now.astimezone(zone).date(),
        unit=await store.units(ctx.session, ctx.user.id),
        elevation_gain_m=run.elevation_gain_m,
        with_time=True,
    )
    lines = [fill(texts.saved, summary=summary), *await load_warnings(ctx)]
    ctx.say(
        "\n\n".join(lines),
        buttons=[[ctx.action(texts.undo_button, UNDO_ACTION, str(run.id))]],
        intent=intent,
    )
