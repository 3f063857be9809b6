"""Messages of any length: Telegram takes at most 4,096 characters a message.

Texts are cut at line ends where they can be, anywhere else where a line is too long, but never
inside a tag or an HTML entity (`&lt;` stays whole: an escaped note of `<` is all entities). An
element a cut goes through (a long `<pre>`, a bold line) is closed at the end of one piece and
opened again, with its attributes, at the start of the next, so every piece is well-formed
Telegram HTML on its own. A keyboard goes with the last piece, where the reader ends up.
"""

from __future__ import annotations

import re

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

MESSAGE_LIMIT = 4096

# What a cut never splits: a tag, an entity; a line end is where a cut is best.
_ATOM = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|\n|[^<&\n]|[<&]")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_MARKUP = re.compile(r"<[^<>]*>")


def _opened(stack: tuple[tuple[str, str], ...], atom: str) -> tuple[tuple[str, str], ...]:
    """The open elements (name, opening tag) after `atom`."""
    tag = _TAG.match(atom)
    if tag is None:
        return stack
    closing, name = tag.group(1), tag.group(2).lower()
    if not closing:
        return (*stack, (name, atom))
    return stack[:-1] if stack and stack[-1][0] == name else stack


def _closing(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters (closing and reopening tags included), cut at line ends
    where possible, never inside a tag or an entity; pieces with nothing to read are left out."""
    atoms = _ATOM.findall(text)
    pieces: list[str] = []
    stack: tuple[tuple[str, str], ...] = ()
    start = 0
    while start < len(atoms):
        reopen = "".join(tag for _, tag in stack)
        size, opened, end = len(reopen), stack, start
        fits: tuple[int, tuple] | None = None  # the furthest cut that fits
        at_line_end: tuple[int, tuple] | None = None  # the furthest cut that fits just after a line end
        while end < len(atoms):
            after = _opened(opened, atoms[end])
            if size + len(atoms[end]) + len(_closing(after)) > limit and fits is not None:
                break
            size, opened, end = size + len(atoms[end]), after, end + 1
            fits = (end, opened)
            if atoms[end - 1] == "\n":
                at_line_end = fits
        if end < len(atoms) and at_line_end is not None:
            end, opened = at_line_end
        body = "".join(atoms[start:end])
        if end < len(atoms):
            body = body.removesuffix("\n")
        pieces.append(reopen + body + (_closing(opened) if end < len(atoms) else ""))
        start, stack = end, opened
    readable = [piece for piece in pieces if _MARKUP.sub("", piece).strip()]
    return readable or [text[:limit]]


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
