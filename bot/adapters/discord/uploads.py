"""A Discord attachment → the engine's Upload, fetched only when a feature reads it.

Discord tells an attachment's size with the message, so a file over the reader's limit is
refused before any download; `discord.Attachment.read()` (public discord.py) fetches the rest
from Discord's CDN through the client's own HTTP session.
"""

from __future__ import annotations

import aiohttp
import discord

from bot.engine.events import Upload, UploadFailed, UploadTooBig


def upload_of(attachment: discord.Attachment) -> Upload:
    async def download(max_bytes: int) -> bytes:
        if attachment.size > max_bytes:
            raise UploadTooBig(f"{attachment.size} bytes")
        try:
            return await attachment.read()
        except (discord.HTTPException, aiohttp.ClientError) as exc:
            raise UploadFailed(type(exc).__name__) from None

    return Upload(attachment.filename, attachment.size, download)
