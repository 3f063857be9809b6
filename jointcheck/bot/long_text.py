"""Messages of any length: Telegram takes at most 4,096 characters a message.

Texts are cut at line ends; templates keep each HTML element on one line, so every piece stays
well-formed. A keyboard goes with the last piece, where the reader ends up.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

MESSAGE_LIMIT = 4096


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends (a longer line is cut where it must)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [text[:limit]]


async def send_long(bot: Bot, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Send `text` in as many messages as it takes; the keyboard goes with the last one."""
    pieces = split_text(text)
    sent = []
    for index, piece in enumerate(pieces):
        sent.append(await bot.send_message(chat_id, piece, reply_markup=reply_markup if index == len(pieces) - 1 else None))
    return sent


def chat_id_of(query: CallbackQuery) -> int:
    """The chat a button was pressed in; the presser's own chat when Telegram no longer shows the message."""
    return query.message.chat.id if query.message is not None else query.from_user.id


async def show(query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the pressed message with `text`; a text too long for one message, or a message too
    old to edit, is sent anew instead."""
    if isinstance(query.message, Message) and len(text) <= MESSAGE_LIMIT:
        await query.message.edit_text(text, reply_markup=reply_markup)
        return
    await send_long(query.bot, chat_id_of(query), text, reply_markup)
