"""Views and keyboards of a round that more than one part of the bot shows: the status page and its
convener's buttons (/round, /pending, after each convener step), round lists, and the Join /
Decline buttons of an invitation (sent by the outbox, answered by routers/invitations.py).

Buttons carry ids only; which step a convener is offered is read from core's rules (`can`), and
core decides again when the button is pressed.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import InvitationAnswer, RoundApprove, RoundDrawNow, RoundOpen, RoundScheduleAsk, RoundSeedAsk
from jointcheck.bot.keyboards import button_label
from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Action, Actor, Scope, can
from jointcheck.core.models import Department, Round
from jointcheck.core.services.rounds import RoundDetail

ROUND_STATUS = {
    "proposed": N_("proposed, awaiting approval"),
    "approved": N_("approved, awaiting the seed"),
    "seeded": N_("seeded, awaiting the draw"),
    "drawn": N_("drawn, tasks assigned"),
}
PARTICIPANT_STATUS = {
    "lead": N_("lead department"),
    "invited": N_("invited, no answer yet"),
    "confirmed": N_("has joined"),
    "declined": N_("has declined"),
}
APPROVE = N_("Approve")
ENTER_SEED = N_("Enter seed")
DRAW_NOW = N_("Draw now")
SET_DRAW_TIME = N_("Set draw time")
JOIN = N_("Join")
DECLINE = N_("Decline")


def status_label(texts: Texts, status: str) -> str:
    return texts.gettext(ROUND_STATUS[status]) if status in ROUND_STATUS else status


# ---- lists -------------------------------------------------------------------------------------


def list_keyboard(rounds: list[Round]) -> InlineKeyboardMarkup | None:
    """One button per round, opening it; the callback carries the round id only."""
    if not rounds:
        return None
    builder = InlineKeyboardBuilder()
    for round_ in rounds:
        builder.button(text=button_label(f"{round_.id} · {round_.title}"), callback_data=RoundOpen(round_id=round_.id))
    builder.adjust(1)
    return builder.as_markup()


def list_entries(texts: Texts, rounds: list[Round]) -> list[dict]:
    return [{"id": r.id, "status": status_label(texts, r.status), "title": r.title} for r in rounds]


# ---- one round ---------------------------------------------------------------------------------


def round_text(texts: Texts, detail: RoundDetail) -> str:
    """The status page of a round: its participants with what each chose, its draw so far."""
    round_, draw = detail.round, detail.draw
    participants = []
    for participant, department in detail.participants:
        status = "lead" if participant.is_lead else participant.status
        chosen = detail.items_of(department.id) if participant.status == "confirmed" else []
        participants.append(
            {
                "name": department.name,
                "code": department.code,
                "team_size": participant.team_size,
                "status": texts.gettext(PARTICIPANT_STATUS[status]) if status in PARTICIPANT_STATUS else status,
                "chosen": [{"code": i.code, "name": i.name} for i in chosen],
            }
        )
    return texts.render(
        "rounds/detail.html",
        round_id=round_.id,
        title=round_.title,
        status=status_label(texts, round_.status),
        region=round_.region,
        lead=detail.lead.name if detail.lead else "",
        participants=participants,
        items=[{"code": i.code, "name": i.name} for i in detail.items],
        commitment=draw.commitment if draw else "",
        seed=(draw.seed_digits or "") if draw else "",
        tasks=detail.tasks,
        due_date=round_.due_date.isoformat() if round_.due_date else "",
    )


def next_step_keyboard(texts: Texts, actor: Actor, round_: Round) -> InlineKeyboardMarkup | None:
    """The convener's button for the step this round is at; None for anyone who may not take it."""
    scope = Scope.of(region=round_.region)
    buttons = []
    if round_.status == "proposed" and can(actor, Action.ROUND_APPROVE, scope):
        buttons.append((APPROVE, RoundApprove(round_id=round_.id)))
    elif round_.status == "approved" and can(actor, Action.ROUND_SEED, scope):
        buttons.append((ENTER_SEED, RoundSeedAsk(round_id=round_.id)))
    elif round_.status == "seeded" and can(actor, Action.ROUND_DRAW, scope):
        buttons.append((DRAW_NOW, RoundDrawNow(round_id=round_.id)))
    if round_.status in ("approved", "seeded") and can(actor, Action.ROUND_DRAW, scope):
        buttons.append((SET_DRAW_TIME, RoundScheduleAsk(round_id=round_.id)))
    if not buttons:
        return None
    builder = InlineKeyboardBuilder()
    for label, data in buttons:
        builder.button(text=texts.gettext(label), callback_data=data)
    return builder.as_markup()


# ---- invitations -------------------------------------------------------------------------------


def invitation_keyboard(texts: Texts, round_id: int, departments: list[Department]) -> InlineKeyboardMarkup | None:
    """Join / Decline for each invited department of the recipient (named when there are several)."""
    if not departments:
        return None
    builder = InlineKeyboardBuilder()
    for department in departments:
        suffix = f" · {department.name}" if len(departments) > 1 else ""
        builder.button(
            text=texts.gettext(JOIN) + suffix, callback_data=InvitationAnswer(action="join", round_id=round_id, department_id=department.id)
        )
        builder.button(
            text=texts.gettext(DECLINE) + suffix,
            callback_data=InvitationAnswer(action="decline", round_id=round_id, department_id=department.id),
        )
    builder.adjust(2)
    return builder.as_markup()
