"""/propose: a lead department's officer proposes a joint round, one step at a time (SPEC capability 3).

Steps: title (typed); lead department (only for an officer of several); the lead's items
(checklist); invited departments (checklist); region (typed, or the region of the lead's latest
round offered as a button); target kinds (checklist, none meaning every kind); industries and
tags (typed, or skipped); a ratio per risk class (typed); the team size of each department in turn
(buttons 1-3, or typed); cooling-off days per class, draw time, due date (typed, or skipped); then
the summary with Confirm, Back and Cancel. Back and Cancel are on every step, /cancel too.

The answers live in the FSM data (ids and typed values only), so a restarted bot carries on where
the user was. Every step's prompt is a new message and only its buttons count: a press on an older
message, on a step the wizard has left, or by anyone but the owner finds no handler here and gets
the fallback router's refusal, changing nothing. Typed input is read as core reads it (full-width
digits, ratios in % or ‰, regions and departments by name); what cannot be read, or what core
refuses on its own (a draw time that has passed, a due date before the draw), asks the same step
again with the reason. The summary runs all of core's checks first: while any fails it lists every
problem with a Change button to each step concerned (answered, it comes back to the summary) and
offers no Confirm. Confirm calls propose_round; a refusal then (something changed meanwhile) is
shown the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import ProposeEdit, ProposeInvite, ProposeItem, ProposeKind, ProposeLead, ProposeNav, ProposeTeam
from jointcheck.bot.filters import HasRole, OwnButton
from jointcheck.bot.keyboards import checklist_markup
from jointcheck.bot.long_text import send_long, show
from jointcheck.bot.reasons import error_kind, reason
from jointcheck.bot.texts import N_, Texts
from jointcheck.core import limits
from jointcheck.core.authz import Actor
from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.errors import Conflict, InvalidInput, JointcheckError, NotFound, Problems
from jointcheck.core.models import Department, Role
from jointcheck.core.regions import region_code_for, region_label
from jointcheck.core.services.departments import current_items, get_department, list_departments
from jointcheck.core.services.freeze import RISK_CLASSES
from jointcheck.core.services.rounds import (
    MAX_TEAM,
    TARGET_KINDS,
    Proposal,
    RoundScope,
    check_draw_at,
    check_due_date,
    list_rounds,
    parse_draw_at,
    proposal_problems,
    propose_round,
)
from jointcheck.core.typed_input import normalized, parse_date, parse_ratio, percent, words
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot")

NEXT = N_("Next")
SKIP = N_("Skip")
BACK = N_("Back")
CANCEL = N_("Cancel")
CONFIRM = N_("Confirm")
USE_REGION = N_("Use %(region)s")
CHANGE = N_("Change: %(step)s")
# What each step is called on the button that leads back to it from a refused summary.
STEP_LABELS = {
    "title": N_("title"),
    "lead": N_("lead department"),
    "items": N_("items"),
    "invited": N_("invited departments"),
    "region": N_("region"),
    "subregions": N_("districts"),
    "kinds": N_("target kinds"),
    "industries": N_("industries"),
    "tags": N_("tags"),
    "departments": N_("responsible departments"),
    "ratios": N_("ratios"),
    "teams": N_("team sizes"),
    "cooling": N_("cooling-off"),
    "draw_at": N_("draw time"),
    "due": N_("due date"),
}
KIND_LABELS = {
    "enterprise": N_("enterprises"),
    "individual": N_("individual businesses"),
    "cooperative": N_("farmers' cooperatives"),
    "product": N_("products"),
    "project": N_("projects"),
    "behaviour": N_("behaviours"),
}
TEAM_BUTTONS = (1, 2, 3)
TITLE_CHARS = limits.ROUND_TITLE
DRAW_FORMAT = "%Y-%m-%d %H:%M"  # as typed, in Beijing time


class Proposing(StatesGroup):
    title = State()
    lead = State()
    items = State()
    invited = State()
    region = State()
    subregions = State()  # districts inside the region to draw from
    kinds = State()
    industries = State()
    tags = State()
    departments = State()  # responsible for the targets (the directory's departments column)
    ratios = State()
    teams = State()
    cooling = State()
    draw_at = State()
    due = State()
    summary = State()


STEPS: tuple[State, ...] = Proposing.__all_states__
SKIPPABLE = {
    Proposing.subregions: ("subregions", []),
    Proposing.industries: ("industries", []),
    Proposing.tags: ("tags", []),
    Proposing.departments: ("responsible", []),
    Proposing.cooling: ("cooling", None),
    Proposing.draw_at: ("draw_at", None),
    Proposing.due: ("due", None),
}
CHECKLISTS = (Proposing.items, Proposing.invited, Proposing.kinds)


def create_router() -> Router:
    router = Router(name="propose")
    router.message.register(start, Command("propose"), F.chat.type == "private", HasRole(Role.OFFICER))
    router.message.register(cancel_command, Command("cancel"), StateFilter(Proposing))
    router.message.register(typed, StateFilter(*TYPED), F.text, ~F.text.startswith("/"))
    router.message.register(buttons_expected, StateFilter(*BUTTONS_ONLY), F.text, ~F.text.startswith("/"))

    def press(data_filter, *states: State):
        return (data_filter, OwnButton(), StateFilter(*states), _on_prompt)

    router.callback_query.register(cancel_pressed, *press(ProposeNav.filter(F.action == "cancel"), *STEPS))
    router.callback_query.register(back_pressed, *press(ProposeNav.filter(F.action == "back"), *STEPS[1:]))
    router.callback_query.register(next_pressed, *press(ProposeNav.filter(F.action == "next"), *CHECKLISTS))
    router.callback_query.register(skip_pressed, *press(ProposeNav.filter(F.action == "skip"), *SKIPPABLE))
    router.callback_query.register(default_region, *press(ProposeNav.filter(F.action == "default"), Proposing.region))
    router.callback_query.register(confirm, *press(ProposeNav.filter(F.action == "confirm"), Proposing.summary))
    router.callback_query.register(edit_pressed, *press(ProposeEdit.filter(), Proposing.summary))
    router.callback_query.register(choose_lead, *press(ProposeLead.filter(), Proposing.lead))
    router.callback_query.register(toggle_item, *press(ProposeItem.filter(), Proposing.items))
    router.callback_query.register(toggle_invite, *press(ProposeInvite.filter(), Proposing.invited))
    router.callback_query.register(toggle_kind, *press(ProposeKind.filter(F.kind.in_(set(TARGET_KINDS))), Proposing.kinds))
    router.callback_query.register(team_pressed, *press(ProposeTeam.filter(), Proposing.teams))
    return router


def _step(raw_state: str) -> State:
    return next(s for s in STEPS if s.state == raw_state)


async def _on_prompt(query: CallbackQuery, state: FSMContext) -> bool:
    """The press comes from the message of the step the wizard is at."""
    return query.message is not None and query.message.message_id == await state.get_value("prompt")


# ---- typed answers: the value to keep, or the reason to ask again -------------------------------


class Unreadable(Exception):
    """Typed input that does not fit its step; `reason` names the explanation in propose/_reason.html."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_WHOLE = re.compile(r"[0-9]{1,9}")


def _numbers(text: str, reason: str, low: int, high: int | None = None) -> list[int]:
    """One whole number per risk class (full-width digits read as ASCII)."""
    typed = words(text)
    if len(typed) != len(RISK_CLASSES) or not all(_WHOLE.fullmatch(w) for w in typed):
        raise Unreadable(reason)
    numbers = [int(w) for w in typed]
    if any(n < low or (high is not None and n > high) for n in numbers):
        raise Unreadable(reason)
    return numbers


def read_title(text: str) -> str:
    title = text.strip()
    if not 0 < len(title) <= TITLE_CHARS:
        raise Unreadable("title")
    return title


def read_region(text: str) -> str:
    """A region code, or a name the region lookup knows (广州市)."""
    code = region_code_for(normalized(text))
    if code is None:
        raise Unreadable("region")
    return code


def read_subregions(text: str) -> list[str]:
    """Region codes or names; whether each lies inside the round's region is core's to say."""
    codes = [region_code_for(word) for word in words(text)]
    if not codes or None in codes:
        raise Unreadable("subregions")
    return codes


def read_ratios(text: str) -> list[int]:
    """Four ratios, each in percent (3%), per mille (30‰) or a bare per mille number (30)."""
    typed = words(text)
    if len(typed) != len(RISK_CLASSES):
        raise Unreadable("ratios")
    return [parse_ratio(word, risk) for word, risk in zip(typed, RISK_CLASSES)]


def read_team(text: str) -> int:
    text = normalized(text)
    if not _WHOLE.fullmatch(text) or not 1 <= int(text) <= MAX_TEAM:
        raise Unreadable("team")
    return int(text)


def read_cooling(text: str) -> list[int]:
    return _numbers(text, "cooling", 0)  # the upper bound is core's to check


def read_draw_at(text: str) -> str:
    return parse_draw_at(text, DOMAIN_TZ).isoformat()


def read_due(text: str) -> str:
    return parse_date(text, code="due.unreadable").isoformat()


# FSM data key and reader of each typed step (teams are kept per department, apart).
READERS = {
    Proposing.title: ("title", read_title),
    Proposing.region: ("region", read_region),
    Proposing.subregions: ("subregions", read_subregions),
    Proposing.industries: ("industries", lambda text: [w.upper() for w in words(text)]),
    Proposing.tags: ("tags", words),
    Proposing.departments: ("responsible", words),
    Proposing.ratios: ("ratios", read_ratios),
    Proposing.cooling: ("cooling", read_cooling),
    Proposing.draw_at: ("draw_at", read_draw_at),
    Proposing.due: ("due", read_due),
}
TYPED = (*READERS, Proposing.teams)
BUTTONS_ONLY = tuple(step for step in STEPS if step not in TYPED)


# ---- the wizard of one update ------------------------------------------------------------------


@dataclass
class Wizard:
    """Who is asking, in which chat, with the update's state, unit of work and texts."""

    bot: Bot
    chat_id: int
    owner: int
    state: FSMContext
    uow: UnitOfWork
    actor: Actor
    texts: Texts

    @classmethod
    def of(cls, event: Message | CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts) -> Wizard:
        if isinstance(event, Message):
            chat_id = event.chat.id
        else:
            chat_id = event.message.chat.id if event.message is not None else event.from_user.id
        return cls(event.bot, chat_id, event.from_user.id, state, uow, actor, texts)

    def nav(self, action: str) -> tuple[str, ProposeNav]:
        label = {"next": NEXT, "skip": SKIP, "back": BACK, "cancel": CANCEL, "confirm": CONFIRM}[action]
        return self.texts.gettext(label), ProposeNav(owner=self.owner, action=action)

    def button(self, label: str, data: CallbackData) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=label, callback_data=data.pack())

    # -- what the wizard knows ---------------------------------------------------------------------

    def several_leads(self) -> bool:
        return len(self.actor.department_ids()) > 1

    async def departments(self) -> dict[int, Department]:
        return {d.id: d for d in await list_departments(self.uow)}

    async def participants(self, data: dict) -> list[Department]:
        """The lead, then the invited departments by code: the order team sizes are asked in."""
        departments = await self.departments()
        invited = sorted((departments[i] for i in data.get("invited", [])), key=lambda d: d.code)
        return [departments[data["lead"]], *invited]

    async def latest_region(self, lead_id: int) -> str | None:
        """The region of the lead department's latest round the officer may see: offered as the default."""
        rounds = await list_rounds(self.uow, self.actor)
        return next((r.region for r in rounds if r.lead_department_id == lead_id), None)

    # -- moving between steps ----------------------------------------------------------------------

    def _neighbour(self, step: State, direction: int) -> State:
        index = STEPS.index(step) + direction
        if STEPS[index] == Proposing.lead and not self.several_leads():
            index += direction
        return STEPS[index]

    async def enter(self, step: State, reason: str = "", detail: str = "") -> None:
        """Make `step` the current one and ask it: a new prompt, the previous one losing its buttons.
        `reason` names a format explanation of propose/_reason.html, `detail` is core's reason."""
        await self.state.set_state(step)
        await self.post(*await self.prompt(step, await self.state.get_data(), reason, detail))

    async def post(self, text: str, markup: InlineKeyboardMarkup) -> None:
        """Send the prompt of the current step; the previous prompt loses its buttons."""
        await self.drop_buttons(await self.state.get_value("prompt"))
        sent = await send_long(self.bot, self.chat_id, text, markup)
        await self.state.update_data(prompt=sent[-1].message_id)

    async def advance(self, step: State) -> None:
        """On to the next step; or, when the step was reached from the summary's Change button,
        straight back to the summary."""
        if await self.state.get_value("editing"):
            await self._arrive(Proposing.summary)
        else:
            await self._arrive(self._neighbour(step, +1))

    async def back(self, step: State) -> None:
        await self._arrive(self._neighbour(step, -1))

    async def _arrive(self, step: State) -> None:
        if step == Proposing.teams:  # from either side, the team sizes are asked from the lead on
            await self.state.update_data(team_for=await self.state.get_value("lead"))
        elif step == Proposing.summary:
            await self.state.update_data(editing=False)
        await self.enter(step)

    async def drop_buttons(self, message_id: int | None) -> None:
        if message_id is None:
            return
        try:
            await self.bot.edit_message_reply_markup(chat_id=self.chat_id, message_id=message_id, reply_markup=None)
        except TelegramBadRequest as error:  # deleted by the user, or too old to edit: nothing to take back
            log.info("prompt %s keeps its buttons: %s", message_id, error)

    # -- prompts -----------------------------------------------------------------------------------

    async def prompt(self, step: State, data: dict, reason: str = "", detail: str = "") -> tuple[str, InlineKeyboardMarkup]:
        if step == Proposing.summary:
            problems = await self.problems(data)
            text = self.texts.render(
                "propose/summary.html", reason=reason, problems=[self.explain(p) for p in problems], **await self.summary(data)
            )
            return text, self.summary_markup(problems)
        params: dict = {}
        if step == Proposing.items:
            params["lead"] = (await get_department(self.uow, data["lead"])).name
        elif step == Proposing.teams:
            params["department"] = (await get_department(self.uow, data["team_for"])).name
        elif step == Proposing.subregions:
            params["region"] = region_label(data["region"])
        text = self.texts.render(
            "propose/step.html",
            step=step.state.split(":")[1],
            reason=reason,
            detail=detail,
            max_title=TITLE_CHARS,
            max_team=MAX_TEAM,
            **params,
        )
        return text, await self.markup(step, data)

    async def markup(self, step: State, data: dict) -> InlineKeyboardMarkup:
        footer = [self.nav("back"), self.nav("cancel")] if step != Proposing.title else [self.nav("cancel")]
        if step in CHECKLISTS:
            return checklist_markup(await self.checklist(step, data), [footer[0], self.nav("next"), *footer[1:]])
        builder = InlineKeyboardBuilder()
        if step == Proposing.lead:
            departments = await self.departments()
            for department_id in sorted(self.actor.department_ids()):
                builder.row(self.button(departments[department_id].name, ProposeLead(owner=self.owner, department_id=department_id)))
        elif step == Proposing.region and (region := await self.latest_region(data["lead"])) is not None:
            builder.row(self.button(self.texts.gettext(USE_REGION) % {"region": region}, ProposeNav(owner=self.owner, action="default")))
        elif step == Proposing.teams:
            builder.row(
                *(self.button(str(size), ProposeTeam(owner=self.owner, department_id=data["team_for"], size=size)) for size in TEAM_BUTTONS)
            )
        elif step in SKIPPABLE:
            footer.insert(1, self.nav("skip"))
        builder.row(*(self.button(label, callback) for label, callback in footer))
        return builder.as_markup()

    async def checklist(self, step: State, data: dict) -> list[tuple[str, bool, CallbackData]]:
        if step == Proposing.items:
            chosen = set(data.get("items", []))
            return [
                (f"{i.code} {i.name}", i.id in chosen, ProposeItem(owner=self.owner, item_id=i.id))
                for i in await current_items(self.uow, self.actor, data["lead"])
            ]
        if step == Proposing.invited:
            chosen = set(data.get("invited", []))
            others = sorted((d for d in (await self.departments()).values() if d.id != data["lead"]), key=lambda d: d.code)
            return [(f"{d.name} ({d.code})", d.id in chosen, ProposeInvite(owner=self.owner, department_id=d.id)) for d in others]
        chosen = set(data.get("kinds", []))
        return [(self.texts.gettext(KIND_LABELS[kind]), kind in chosen, ProposeKind(owner=self.owner, kind=kind)) for kind in TARGET_KINDS]

    def summary_markup(self, problems: list[JointcheckError]) -> InlineKeyboardMarkup:
        """Confirm while the proposal can succeed; otherwise a button to each step that must change."""
        builder = InlineKeyboardBuilder()
        fields = {field for problem in problems for field in problem.fields}
        if not self.several_leads():
            fields.discard("lead")
        if not problems:
            builder.row(self.button(*self.nav("confirm")))
        for step in STEPS:
            name = step.state.split(":")[1]
            if name in fields and name in STEP_LABELS:
                label = self.texts.gettext(CHANGE) % {"step": self.texts.gettext(STEP_LABELS[name])}
                builder.row(self.button(label, ProposeEdit(owner=self.owner, step=name)))
        builder.row(self.button(*self.nav("back")), self.button(*self.nav("cancel")))
        return builder.as_markup()

    async def problems(self, data: dict) -> list[JointcheckError]:
        """Everything core would refuse in these answers, found before Confirm is offered."""
        try:
            found, _ = await proposal_problems(self.uow, self.actor, await self.proposal(data))
        except JointcheckError as error:
            found = list(error.problems) if isinstance(error, Problems) else [error]
        return found

    def explain(self, error: JointcheckError) -> str:
        # The reason names what to change (an item, a region), so every reader gets it, in English
        # where it has no translation yet.
        return reason(error, self.texts, english_otherwise=True)

    async def summary(self, data: dict) -> dict:
        participants = await self.participants(data)
        chosen = set(data["items"])
        items = [i for i in await current_items(self.uow, self.actor, data["lead"]) if i.id in chosen]
        teams = data["teams"]
        return {
            "title": data["title"],
            "lead": participants[0].name,
            "items": [{"code": i.code, "name": i.name} for i in items],
            "invited": [d.name for d in participants[1:]],
            "region": region_label(data["region"]),
            "subregions": [region_label(code) for code in data.get("subregions", [])],
            "kinds": [self.texts.gettext(KIND_LABELS[k]) for k in TARGET_KINDS if k in data.get("kinds", [])],
            "industries": data.get("industries", []),
            "tags": data.get("tags", []),
            "responsible": await self.responsible(data),
            "ratios": [(risk, percent(permille)) for risk, permille in zip(RISK_CLASSES, data["ratios"])],
            "teams": [(d.name, teams[str(d.id)]) for d in participants],
            "cooling": list(zip(RISK_CLASSES, data["cooling"])) if data.get("cooling") else [],
            "draw_at": parse_draw_at(data["draw_at"]).astimezone(DOMAIN_TZ).strftime(DRAW_FORMAT) if data.get("draw_at") else "",
            "due": data.get("due") or "",
        }

    async def responsible(self, data: dict) -> list[str]:
        """The typed departments, by code or by name, as the directory's codes (samr and 市场监管局
        are SAMR); a word that matches none stays as typed, for core to refuse by name."""
        departments = (await self.departments()).values()
        known = {d.code: d.code for d in departments}
        known |= {d.code.casefold(): d.code for d in departments}
        known |= {d.name: d.code for d in departments}
        return [known.get(word, known.get(word.casefold(), word)) for word in data.get("responsible", [])]

    async def proposal(self, data: dict) -> Proposal:
        """The answers as core's Proposal; an answer that went stale since it was given is refused."""
        participants = await self.participants(data)
        lead = participants[0]
        chosen = set(data["items"])
        items = [i.code for i in await current_items(self.uow, self.actor, lead.id) if i.id in chosen]
        if len(items) != len(chosen):
            raise Conflict(
                f"an item of {lead.code} chosen earlier is no longer current: go back and choose again",
                code="items.changed",
                params={"department": lead.name},
                fields=("items",),
            )
        teams = data["teams"]
        return Proposal(
            lead=lead.code,
            title=data["title"],
            region=data["region"],
            items=tuple(items),
            invited={d.code: teams[str(d.id)] for d in participants[1:]},
            ratios=dict(zip(RISK_CLASSES, data["ratios"])),
            lead_team_size=teams[str(lead.id)],
            cooling_off_days=dict(zip(RISK_CLASSES, data["cooling"])) if data.get("cooling") else {},
            scope=RoundScope(
                regions=tuple(data.get("subregions", [])),
                kinds=tuple(data.get("kinds", [])),
                industries=tuple(data.get("industries", [])),
                tags=tuple(data.get("tags", [])),
                departments=tuple(await self.responsible(data)),
            ),
            draw_at=parse_draw_at(data.get("draw_at")),
            due_date=dt.date.fromisoformat(data["due"]) if data.get("due") else None,
        )


# ---- handlers: messages ------------------------------------------------------------------------


async def start(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    """A new wizard; one started before is dropped (its buttons no longer match a prompt)."""
    leads = sorted(actor.department_ids())
    await state.set_data({"lead": leads[0]} if len(leads) == 1 else {})
    await Wizard.of(message, state, uow, actor, texts).enter(Proposing.title)


async def cancel_command(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    await Wizard.of(message, state, uow, actor, texts).drop_buttons(await state.get_value("prompt"))
    await state.clear()
    await message.answer(texts.render("propose/cancelled.html"))


async def typed(message: Message, state: FSMContext, raw_state: str, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    w = Wizard.of(message, state, uow, actor, texts)
    step = _step(raw_state)
    try:
        if step == Proposing.teams:
            await _team_answered(w, read_team(message.text))
            return
        key, read = READERS[step]
        value = read(message.text)
        await _check_typed(w, step, value)
        await state.update_data({key: value})
    except Unreadable as unreadable:
        await w.enter(step, unreadable.reason)
        return
    except (InvalidInput, NotFound) as error:
        await w.enter(step, detail=w.explain(error))
        return
    await w.advance(step)


async def _check_typed(w: Wizard, step: State, value) -> None:
    """Core's checks that need only this answer and the earlier ones: a draw time that has passed
    is refused at its own step, and a due date before the draw at the due step."""
    if step == Proposing.draw_at:
        check_draw_at(parse_draw_at(value), w.uow.clock())
    elif step == Proposing.due:
        check_due_date(dt.date.fromisoformat(value), parse_draw_at(await w.state.get_value("draw_at")))


async def buttons_expected(message: Message, state: FSMContext, raw_state: str, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    await Wizard.of(message, state, uow, actor, texts).enter(_step(raw_state), "buttons")


async def _team_answered(w: Wizard, size: int) -> None:
    data = await w.state.get_data()
    teams = {**data.get("teams", {}), str(data["team_for"]): size}
    participants = [d.id for d in await w.participants(data)]
    later = participants[participants.index(data["team_for"]) + 1 :]
    if later:
        await w.state.update_data(teams=teams, team_for=later[0])
        await w.enter(Proposing.teams)
    else:
        await w.state.update_data(teams=teams)
        await w.advance(Proposing.teams)


# ---- handlers: buttons -------------------------------------------------------------------------


async def cancel_pressed(query: CallbackQuery, state: FSMContext, texts: Texts, callback_answer: CallbackAnswer) -> None:
    await state.clear()
    await show(query, texts.render("propose/cancelled.html"))
    callback_answer.text = texts.gettext(CANCEL)


async def back_pressed(query: CallbackQuery, state: FSMContext, raw_state: str, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    await Wizard.of(query, state, uow, actor, texts).back(_step(raw_state))


async def next_pressed(
    query: CallbackQuery, state: FSMContext, raw_state: str, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    step = _step(raw_state)
    data = await state.get_data()
    needed = {Proposing.items: "items", Proposing.invited: "invited"}.get(step)
    if needed and not data.get(needed):
        callback_answer.text = texts.render("propose/choose_first.txt", what=needed)
        return
    await Wizard.of(query, state, uow, actor, texts).advance(step)


async def skip_pressed(query: CallbackQuery, state: FSMContext, raw_state: str, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    step = _step(raw_state)
    key, nothing = SKIPPABLE[step]
    await state.update_data({key: nothing})
    await Wizard.of(query, state, uow, actor, texts).advance(step)


async def default_region(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    w = Wizard.of(query, state, uow, actor, texts)
    region = await w.latest_region(await state.get_value("lead"))
    if region is None:
        raise NotFound("no earlier round of this department to take the region from")
    await state.update_data(region=region)
    await w.advance(Proposing.region)


async def edit_pressed(
    query: CallbackQuery, callback_data: ProposeEdit, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts
) -> None:
    step = next((s for s in STEPS if s.state.split(":")[1] == callback_data.step and callback_data.step in STEP_LABELS), None)
    if step is None or (step == Proposing.lead and len(actor.department_ids()) < 2):
        raise NotFound(f"no step {callback_data.step!r} to change")
    await state.update_data(editing=True)
    await Wizard.of(query, state, uow, actor, texts)._arrive(step)


async def choose_lead(
    query: CallbackQuery, callback_data: ProposeLead, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts
) -> None:
    lead = callback_data.department_id
    if lead not in actor.department_ids():
        raise NotFound(f"department {lead} is not one of yours")
    data = await state.get_data()
    if data.get("lead") != lead:  # the items and invitations chosen belonged to another lead
        await state.update_data(lead=lead, items=[], invited=[i for i in data.get("invited", []) if i != lead])
    await Wizard.of(query, state, uow, actor, texts).advance(Proposing.lead)


async def _toggle(query: CallbackQuery, w: Wizard, step: State, key: str, value) -> None:
    data = await w.state.get_data()
    chosen = list(data.get(key, []))
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    await w.state.update_data({key: chosen})
    if isinstance(query.message, Message):
        markup = await w.markup(step, {**data, key: chosen})
        await query.message.edit_reply_markup(reply_markup=markup)
    else:  # too old to edit: the step again, as a new message
        await w.enter(step)


async def toggle_item(
    query: CallbackQuery, callback_data: ProposeItem, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts
) -> None:
    lead = await state.get_value("lead")
    if callback_data.item_id not in {i.id for i in await current_items(uow, actor, lead)}:
        raise NotFound(f"item {callback_data.item_id} is not a current item of the lead department")
    await _toggle(query, Wizard.of(query, state, uow, actor, texts), Proposing.items, "items", callback_data.item_id)


async def toggle_invite(
    query: CallbackQuery, callback_data: ProposeInvite, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts
) -> None:
    department = await get_department(uow, callback_data.department_id)
    if department.id == await state.get_value("lead"):
        raise NotFound(f"department {callback_data.department_id} cannot be invited")
    await _toggle(query, Wizard.of(query, state, uow, actor, texts), Proposing.invited, "invited", department.id)


async def toggle_kind(
    query: CallbackQuery, callback_data: ProposeKind, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts
) -> None:
    await _toggle(query, Wizard.of(query, state, uow, actor, texts), Proposing.kinds, "kinds", callback_data.kind)


async def team_pressed(
    query: CallbackQuery, callback_data: ProposeTeam, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts
) -> None:
    if callback_data.department_id != await state.get_value("team_for") or not 1 <= callback_data.size <= MAX_TEAM:
        raise NotFound("this team size is not asked now")
    await _team_answered(Wizard.of(query, state, uow, actor, texts), callback_data.size)


async def confirm(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    w = Wizard.of(query, state, uow, actor, texts)
    data = await state.get_data()
    try:
        round_ = await propose_round(uow, actor, await w.proposal(data))
        await uow.commit()
    except JointcheckError as error:  # the answers were checked at the summary: something changed since
        await uow.rollback()
        log.info("proposal refused for %s: %s", actor.label, error)
        problems = list(error.problems) if isinstance(error, Problems) else [error]
        await w.post(
            texts.render("propose/refused.html", kind=error_kind(error), problems=[w.explain(p) for p in problems]),
            w.summary_markup(problems),
        )
        callback_answer.text = texts.render("errors/core_error.txt", kind=error_kind(error), detail="")
        return
    await state.clear()
    await w.drop_buttons(data.get("prompt"))
    await send_long(w.bot, w.chat_id, texts.render("propose/proposed.html", round_id=round_.id, title=round_.title))
    callback_answer.text = texts.gettext(CONFIRM)


__all__ = ["Proposing", "create_router"]
