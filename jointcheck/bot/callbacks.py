"""Typed callback data of the bot's buttons: ids only, never text or state (64 bytes at most).

`owner` is the Telegram id of the user a button was made for; a press by anyone else (a button
shown in a group, a forwarded message, a modified client) is refused by the `OwnButton` filter.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# What a field may hold, checked when a press is unpacked: a value outside fails the button's filter,
# and the press is refused like any forged one (routers/fallback.py) before a query could overflow
# the database's integer columns.
Id = Annotated[int, Field(ge=0, le=2**31 - 1)]  # a row id, a count or an offset: the database's INTEGER
TelegramId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # Telegram's ids: the database's BIGINT


class LanguageChoice(CallbackData, prefix="lang"):
    owner: TelegramId
    language: str


class InvitationAnswer(CallbackData, prefix="rinv"):
    """Join or Decline on a round invitation; core checks who may answer for the department."""

    action: str  # join | decline
    round_id: Id
    department_id: Id


class ChecklistToggle(CallbackData, prefix="rtog"):
    """Choose or unchoose one check item in a Join checklist (the choice lives in the FSM)."""

    round_id: Id
    department_id: Id
    item_id: Id


class ChecklistConfirm(CallbackData, prefix="rcfm"):
    """Confirm the department's participation with the items chosen so far."""

    round_id: Id
    department_id: Id


class RoundOpen(CallbackData, prefix="ropn"):
    """Open one round's status (core decides who may see it)."""

    round_id: Id


class RoundApprove(CallbackData, prefix="rapv"):
    """A convener approves a proposed round (core authorizes and refuses a second approval)."""

    round_id: Id


class RoundSeedAsk(CallbackData, prefix="rsed"):
    """A convener is about to type the seed digits of an approved round (the next message)."""

    round_id: Id


class RoundDrawNow(CallbackData, prefix="rdrw"):
    """A convener runs the draw of a seeded round now (core runs it once ever)."""

    round_id: Id


class TasksPage(CallbackData, prefix="tpg"):
    """A page of the inspector's /tasks list."""

    offset: Id


class TaskOpen(CallbackData, prefix="topn"):
    """Open one task (core decides who may see it)."""

    task_id: Id


class ItemOpen(CallbackData, prefix="tito"):
    """Show the category buttons of one item of a task."""

    task_id: Id
    item_id: Id


class ResultPick(CallbackData, prefix="tres"):
    """Record a category (SPEC section 6 code) for an item; a problem asks for its follow-up next."""

    task_id: Id
    item_id: Id
    category: str
    follow_up: str = ""


class NoteAsk(CallbackData, prefix="tnot"):
    """The next messages (a note, photos, documents) belong to this item's result."""

    task_id: Id
    item_id: Id


class TaskSubmit(CallbackData, prefix="tsub"):
    """Review what will be submitted (confirm=0), then submit it (confirm=1)."""

    task_id: Id
    confirm: bool = False


class ReviewOpen(CallbackData, prefix="vopn"):
    """An officer opens a department's submission on a task."""

    task_id: Id
    department_id: Id


class ReviewDecide(CallbackData, prefix="vdec"):
    """Accept, or return (the reason is the next message), a department's submission on a task;
    `note_public`: accepted with its notes made public (masked)."""

    task_id: Id
    department_id: Id
    accept: bool
    note_public: bool = False


class PublishRound(CallbackData, prefix="vpub"):
    """Publish a department's accepted results of a round: ask first (confirm=0), then do it; or
    cancel the question (cancel=1), which changes nothing."""

    round_id: Id
    department_id: Id
    confirm: bool = False
    cancel: bool = False


# ---- the /propose wizard (routers/propose.py) ------------------------------------------------------
# Each carries the owner; the wizard also takes a press only from its current step's message.


class ProposeNav(CallbackData, prefix="pwnv"):
    """Move through the wizard: next | skip | back | cancel | confirm | default (the offered region)."""

    owner: TelegramId
    action: str


class ProposeEdit(CallbackData, prefix="pwed"):
    """From a summary with problems, go to the step that must change (a Proposing state's name);
    once it is answered the wizard comes back to the summary."""

    owner: int
    step: str


class ProposeLead(CallbackData, prefix="pwld"):
    owner: TelegramId
    department_id: Id


class ProposeItem(CallbackData, prefix="pwit"):
    """Choose or unchoose one of the lead department's items."""

    owner: TelegramId
    item_id: Id


class ProposeInvite(CallbackData, prefix="pwiv"):
    """Invite or uninvite a department."""

    owner: TelegramId
    department_id: Id


class ProposeKind(CallbackData, prefix="pwkd"):
    """Choose or unchoose a target kind of the scope (a core TARGET_KINDS code)."""

    owner: TelegramId
    kind: str


class ProposeTeam(CallbackData, prefix="pwtm"):
    owner: TelegramId
    department_id: Id
    size: Id


class RoundScheduleAsk(CallbackData, prefix="rsch"):
    """A convener is about to type the draw time of an approved or seeded round (the next message)."""

    round_id: Id
