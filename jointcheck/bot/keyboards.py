"""Inline keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import LanguageChoice
from jointcheck.bot.texts import LANGUAGE_NAMES


def language_keyboard(owner: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for language, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageChoice(owner=owner, language=language))
    return builder.as_markup()
