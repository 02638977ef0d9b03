"""/upload: log a run from a GPX or FIT file.

On Telegram and Discord the file comes attached to the message (Inbound.upload, read through
the platform's adapter; the engine fetches it before the turn); in the terminal, where the
person and the bot share a computer, `/upload PATH` names a file on disk, read off the event
loop. Either way nothing of the file is kept but the figures and its SHA-256 (the same file is
logged once).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from bot.content.plural import fill
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent, UploadFailed, UploadTooBig
from handlers.training import store, views
from handlers.training.files import MAX_BYTES, Activity, ActivityError, read_activity
from handlers.training.log import UNDO_ACTION
from handlers.training.week import load_warnings

# Where a typed path may name a file: on a chat platform it would name one on the bot's server.
PATH_PLATFORMS = frozenset({"terminal"})


def _read_path(raw: str) -> tuple[str, Activity]:
    """Read and parse in a worker thread; size is checked before reading anything."""
    path = Path(raw).expanduser()
    if path.stat().st_size > MAX_BYTES:
        raise ActivityError("too_big")
    return _parse(path.read_bytes())


def _parse(data: bytes) -> tuple[str, Activity]:
    """The file's SHA-256 and its run (in a worker thread: 20 MB take a while)."""
    return hashlib.sha256(data).hexdigest(), read_activity(data)


async def _file(ctx: TurnContext) -> tuple[str, Activity] | str:
    """The file's digest and its run, or the text that says why there is none."""
    texts = ctx.content.training.texts
    upload = ctx.event.upload
    try:
        if upload is not None:
            data = await upload.read(MAX_BYTES)
            return await asyncio.to_thread(_parse, data)
        if ctx.event.actor.platform not in PATH_PLATFORMS:
            return texts.upload_send_file
        raw = ctx.event.args.strip().strip("'\"")
        if not raw:
            return texts.upload_help
        return await asyncio.to_thread(_read_path, raw)
    except ActivityError as error:
        message: str = getattr(texts, f"upload_{error.reason}")
        return fill(message, sport=error.sport) if error.sport else message
    except UploadTooBig:
        return texts.upload_too_big
    except UploadFailed:
        return texts.upload_unavailable
    except OSError:
        return texts.upload_missing


async def upload_command(ctx: TurnContext) -> None:
    texts = ctx.content.training.texts
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    found = await _file(ctx)
    if isinstance(found, str):
        ctx.say(found, intent=intent)
        return
    digest, activity = found
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
