"""Typed callback data of the bot's buttons: ids only, never text or state (64 bytes at most).

`owner` is the Telegram id of the user a button was made for; a press by anyone else (a button
shown in a group, a forwarded message, a modified client) is refused by the `OwnButton` filter.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lang"):
    owner: int
    language: str


class InvitationAnswer(CallbackData, prefix="rinv"):
    """Join or Decline on a round invitation; core checks who may answer for the department."""

    action: str  # join | decline
    round_id: int
    department_id: int


class ChecklistToggle(CallbackData, prefix="rtog"):
    """Choose or unchoose one check item in a Join checklist (the choice lives in the FSM)."""

    round_id: int
    department_id: int
    item_id: int


class ChecklistConfirm(CallbackData, prefix="rcfm"):
    """Confirm the department's participation with the items chosen so far."""

    round_id: int
    department_id: int


class RoundOpen(CallbackData, prefix="ropn"):
    """Open one round's status (core decides who may see it)."""

    round_id: int


class RoundApprove(CallbackData, prefix="rapv"):
    """A convener approves a proposed round (core authorizes and refuses a second approval)."""

    round_id: int


class RoundSeedAsk(CallbackData, prefix="rsed"):
    """A convener is about to type the seed digits of an approved round (the next message)."""

    round_id: int


class RoundDrawNow(CallbackData, prefix="rdrw"):
    """A convener runs the draw of a seeded round now (core runs it once ever)."""

    round_id: int
