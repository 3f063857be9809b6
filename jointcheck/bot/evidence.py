"""Evidence in chat: a photo or document an inspector sends is downloaded into the file store at
once (Telegram's copy is not ours to keep), and sent back to the officer who reviews it."""

from __future__ import annotations

import io

from aiogram import Bot
from aiogram.types import BufferedInputFile

from jointcheck.config import Settings
from jointcheck.core.errors import NotFound
from jointcheck.core.filestore import FileStore
from jointcheck.core.services.evidence import Evidence


def file_store() -> FileStore:
    # Read each time (a file message is rare): the setting may differ between runs in one process.
    return FileStore(Settings().files_dir)


async def keep(bot: Bot, file_id: str) -> tuple[str, int]:
    """Download a file the bot received and keep it; (sha256, size)."""
    buffer = io.BytesIO()
    await bot.download(file_id, destination=buffer)
    content = buffer.getvalue()
    return file_store().put(content), len(content)


async def send_evidence(bot: Bot, chat_id: int, evidence: list[Evidence]) -> None:
    """Each file from the store (by its Telegram id when the store lacks it: kept before the store existed)."""
    for e in evidence:
        caption = f"{e.item_code} · {e.sha256[:12]}" if e.sha256 else e.item_code
        media = e.telegram_file_id
        if e.sha256:
            try:
                media = BufferedInputFile(file_store().get(e.sha256), filename=e.file_name or f"{e.sha256[:12]}")
            except NotFound:
                pass
        if e.kind == "photo":
            await bot.send_photo(chat_id, media, caption=caption)
        else:
            await bot.send_document(chat_id, media, caption=caption)
