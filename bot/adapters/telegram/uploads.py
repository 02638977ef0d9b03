"""A document someone sent → the engine's Upload, fetched only when a feature reads it.

Public PTB only: `bot.get_file(file_id)` asks Telegram for a download path, then
`File.download_as_bytearray()` fetches it through the bot's own HTTP client (http.py).
Telegram lets bots download files up to 20 MB (FileSizeLimit.FILESIZE_DOWNLOAD; a local Bot
API server lifts that): a document announced as larger is refused before any request.
"""

from __future__ import annotations

from telegram import Bot, Document
from telegram.constants import FileSizeLimit
from telegram.error import BadRequest, TelegramError

from bot.engine.events import Upload, UploadFailed, UploadTooBig


def download_limit(bot: Bot, max_bytes: int) -> int:
    """The most a download may hold: the reader's limit, within Telegram's for bots."""
    return max_bytes if bot.local_mode else min(max_bytes, FileSizeLimit.FILESIZE_DOWNLOAD)


def upload_of(document: Document) -> Upload:
    async def download(max_bytes: int) -> bytes:
        bot = document.get_bot()
        limit = download_limit(bot, max_bytes)
        if document.file_size is not None and document.file_size > limit:
            raise UploadTooBig(f"{document.file_size} bytes")
        try:
            file = await bot.get_file(document.file_id)
            if file.file_size is not None and file.file_size > limit:
                raise UploadTooBig(f"{file.file_size} bytes")
            data = await file.download_as_bytearray()
        except BadRequest as exc:
            if "too big" in exc.message.casefold():  # "Bad Request: file is too big"
                raise UploadTooBig(exc.message) from None
            raise UploadFailed(type(exc).__name__) from None
        except TelegramError as exc:
            raise UploadFailed(type(exc).__name__) from None
        if len(data) > limit:
            raise UploadTooBig(f"{len(data)} bytes")
        return bytes(data)

    return Upload(document.file_name or "file", document.file_size, download)
