"""Typed callback data of the bot's buttons: ids only, never text or state (64 bytes at most).

`owner` is the Telegram id of the user a button was made for; a press by anyone else (a button
shown in a group, a forwarded message, a modified client) is refused by the `OwnButton` filter.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lang"):
    owner: int
    language: str
