"""Inline keyboards."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import LanguageChoice
from jointcheck.bot.texts import LANGUAGE_NAMES


def language_keyboard(owner: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for language, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageChoice(owner=owner, language=language))
    return builder.as_markup()


# ---- checklists: the /propose wizard's and the Join checklist of routers/invitations.py ----

CHOSEN, NOT_CHOSEN = "☑", "☐"
BUTTON_LABEL_CHARS = 60  # about what a phone shows of a full-width button


def button_label(text: str) -> str:
    """A label cut to what a phone shows, marked as cut."""
    return text if len(text) <= BUTTON_LABEL_CHARS else text[: BUTTON_LABEL_CHARS - 1] + "…"


def checklist_markup(
    options: Iterable[tuple[str, bool, CallbackData]], footer: Iterable[tuple[str, CallbackData]] = ()
) -> InlineKeyboardMarkup:
    """One option a row, marked chosen or not and cut to fit; then the footer buttons side by side."""
    builder = InlineKeyboardBuilder()
    for label, chosen, data in options:
        builder.row(InlineKeyboardButton(text=button_label(f"{CHOSEN if chosen else NOT_CHOSEN} {label}"), callback_data=data.pack()))
    builder.row(*(InlineKeyboardButton(text=label, callback_data=data.pack()) for label, data in footer))
    return builder.as_markup()
