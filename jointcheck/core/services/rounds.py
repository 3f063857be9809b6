"""The joint round up to its draw: propose, confirm or decline, approve (which freezes), seed.

Each step is authorized here, writes its audit event, and queues its notifications in the same
transaction (SPEC capability 3).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from jointcheck.core import limits
from jointcheck.core import public_proof as proof
from jointcheck.core.authz import Action, Actor, Scope, authorize, can, reach
from jointcheck.core.clock import DOMAIN_TZ, local_date
from jointcheck.core.directory_io.schemas import UNCLASSIFIED
from jointcheck.core.errors import Conflict, InvalidInput, JointcheckError, NotFound, Problems
from jointcheck.core.models import CheckItem, Department, Draw, Round, RoundItem, RoundParticipant
from jointcheck.core.regions import is_region_code, region_covers, region_label
from jointcheck.core.services.cases import SOURCES as CASE_SOURCES
from jointcheck.core.services.departments import department_by_code, department_spellings
from jointcheck.core.services.freeze import RISK_CLASSES, Frozen, StaffingWarning, freeze_round
from jointcheck.core.services.notify import notify_departments
from jointcheck.core.typed_input import DRAW_FORMAT, normalized, parse_moment, percent
from jointcheck.core.uow import UnitOfWork

MAX_TEAM = 20
TARGET_KINDS = ("enterprise", "individual", "cooperative", "product", "project", "behaviour")
_INDUSTRY = re.compile(r"[A-T]([0-9]{2,4})?")
TITLE_CHARS = limits.ROUND_TITLE


@dataclass(frozen=True)
class RoundScope:
    """Which targets a round draws from, on top of its jurisdiction."""

    regions: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    stratify_by_region: bool = False
    # A special round (专项检查) on the targets of recent cases: their kinds (complaint, referral,
    # monitoring) and how many days back a case counts.
    case_sources: tuple[str, ...] = ()
    case_days: int = 365

    def as_json(self) -> dict:
        scope = {
            "regions": list(self.regions),
            "kinds": list(self.kinds),
            "industries": list(self.industries),
            "tags": list(self.tags),
            "departments": list(self.departments),
            "stratify_by_region": self.stratify_by_region,
        }
        if self.case_sources:  # only then: every other round's frozen params.json stays as it was
            scope.update(case_sources=list(self.case_sources), case_days=self.case_days)
        return scope


@dataclass(frozen=True)
class Proposal:
    lead: str
    title: str
    region: str
    items: tuple[str, ...]
    invited: dict[str, int]  # invited department code → its team size
    ratios: dict[str, int]  # risk class → per mille
    lead_team_size: int = 1
    cooling_off_days: dict[str, int] = field(default_factory=dict)
    scope: RoundScope = RoundScope()
    batch_size: int | None = None
    draw_at: dt.datetime | None = None
    due_date: dt.date | None = None
    kind: str = "regular"
    plan_id: int | None = None


@dataclass
class ApprovalReport:
    round_id: int
    commitment: str
    population: int
    expected_tasks: int
    strata: dict
    warnings: list[StaffingWarning]


def parse_draw_at(text: str | None, default_tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """An ISO 8601 draw time (`2026-12-01 10:00` too); see typed_input.parse_moment."""
    return parse_moment(text, default_tz)


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(DOMAIN_TZ).strftime(DRAW_FORMAT)


def check_draw_at(draw_at: dt.datetime, now: dt.datetime) -> None:
    """A draw time must lie ahead: a round whose draw time has passed would be drawn at once."""
    if draw_at <= now:
        raise InvalidInput(
            f"the draw time {draw_at.isoformat()} has passed (it is now {now.isoformat()})",
            code="draw_at.past",
            params={"draw_at": _local(draw_at), "now": _local(now)},
            fields=("draw_at",),
        )


def check_due_date(due: dt.date, draw_at: dt.datetime | None) -> None:
    """A due date must not come before the draw."""
    if draw_at is not None and due < draw_at.astimezone(DOMAIN_TZ).date():
        raise InvalidInput(
            f"the due date {due.isoformat()} is before the draw on {_local(draw_at)}",
            code="due.before_draw",
            params={"due": due.isoformat(), "draw_at": _local(draw_at)},
            fields=("due", "draw_at"),
        )


# ---- validation helpers ----------------------------------------------------------------------


async def _department(uow: UnitOfWork, code: str, field: str = "") -> Department:
    """`department_by_code`, its refusal naming the step of a proposal that gave the code."""
    try:
        return await department_by_code(uow, code)
    except NotFound as missing:
        missing.fields = (field,) if field else ()
        raise


def _check_ratios(ratios: dict[str, int]) -> dict[str, int]:
    """A ratio per credit-risk class; the unclassified targets (U) are a stratum of their own, with
    a ratio only when one is given for them (none: they are not drawn)."""
    clean = {}
    for risk, permille in ratios.items():
        risk = risk.strip().upper()
        if risk not in RISK_CLASSES and risk != UNCLASSIFIED:
            raise InvalidInput(
                f"risk class {risk!r} is not one of A, B, C, D or U (unclassified)",
                code="ratio.unknown_class",
                params={"risk": risk},
                fields=("ratios",),
            )
        if not isinstance(permille, int) or not 0 <= permille <= 1000:
            raise InvalidInput(
                f"ratio for class {risk} must be 0 to 1000 per mille, got {permille!r}",
                code="ratio.out_of_range",
                params={"risk": risk, "text": str(permille)},
                fields=("ratios",),
            )
        clean[risk] = permille
    if not any(clean.values()):
        raise InvalidInput("every ratio is zero: the round would draw nothing", code="ratio.all_zero", fields=("ratios",))
    ratios = {risk: clean.get(risk, 0) for risk in RISK_CLASSES}
    if UNCLASSIFIED in clean:
        ratios[UNCLASSIFIED] = clean[UNCLASSIFIED]
    return ratios


def _check_caps(items: list[CheckItem], ratios: dict[str, int]) -> list[InvalidInput]:
    """A general item caps every class's ratio; key items have no cap."""
    return [
        InvalidInput(
            f"ratio {permille}‰ for class {risk} is above the cap {item.ratio_cap}‰ of item {item.code} ({item.name})",
            code="ratio.above_cap",
            params={
                "ratio": permille,
                "risk": risk,
                "cap": item.ratio_cap,
                "item": item.code,
                "name": item.name,
                "ratio_percent": percent(permille),
                "cap_percent": percent(item.ratio_cap),
            },
            fields=("ratios", "items"),
        )
        for item in items
        if item.category == "general" and item.ratio_cap is not None
        for risk, permille in ratios.items()
        if permille > item.ratio_cap
    ]


def _raise_first(problems: list[InvalidInput]) -> None:
    if problems:
        raise problems[0]


def _check_team(department: str, size: int) -> int:
    if not isinstance(size, int) or not 1 <= size <= MAX_TEAM:
        raise InvalidInput(
            f"team size of {department} must be 1 to {MAX_TEAM}, got {size!r}",
            code="team.out_of_range",
            params={"department": department, "size": size, "max": MAX_TEAM},
            fields=("teams",),
        )
    return size


async def _own_items(uow: UnitOfWork, department: Department, codes: tuple[str, ...]) -> list[CheckItem]:
    if not codes:
        raise InvalidInput(
            f"choose at least one item of {department.code}", code="items.none", params={"department": department.name}, fields=("items",)
        )
    found = await uow.rounds.current_items(department.id, codes)
    for code in codes:
        if code not in found:
            raise InvalidInput(
                f"item {code} is not a current item of {department.code}",
                code="items.not_current",
                params={"item": code, "department": department.name},
                fields=("items",),
            )
    return [found[c] for c in dict.fromkeys(codes)]


async def _scope_problems(uow: UnitOfWork, region: str, scope: RoundScope) -> list[JointcheckError]:
    problems: list[JointcheckError] = []
    for r in scope.regions:
        if not is_region_code(r) or not region_covers(region, r):
            problems.append(
                InvalidInput(
                    f"scope region {r} is not inside the round's region {region}",
                    code="scope.region_outside",
                    params={"subregion": r, "region": region, "subregion_name": region_label(r), "region_name": region_label(region)},
                    fields=("subregions",),
                )
            )
    for kind in scope.kinds:
        if kind not in TARGET_KINDS:
            problems.append(
                InvalidInput(
                    f"target kind {kind!r} is not one of enterprise, individual, product, project, behaviour",
                    code="scope.kind_unknown",
                    params={"kind": kind},
                    fields=("kinds",),
                )
            )
    for industry in scope.industries:
        if not _INDUSTRY.fullmatch(industry):
            problems.append(
                InvalidInput(
                    f"industry {industry!r} is not a GB/T 4754 code such as F or F51",
                    code="scope.industry_unreadable",
                    params={"industry": industry},
                    fields=("industries",),
                )
            )
    for code in scope.departments:
        try:
            await _department(uow, code, "departments")
        except NotFound as missing:
            problems.append(missing)
    for source in scope.case_sources:
        if source not in CASE_SOURCES:
            problems.append(InvalidInput(f"case kind {source!r} is not one of {', '.join(CASE_SOURCES)}"))
    if scope.case_sources and not (isinstance(scope.case_days, int) and 1 <= scope.case_days <= 3650):
        problems.append(InvalidInput("recent cases go back 1 to 3650 days"))
    return problems


async def _collect(problems: list[JointcheckError], check) -> object:
    """Run one check; its refusal joins the list instead of ending the pass."""
    try:
        result = check()
        if hasattr(result, "__await__"):
            result = await result
        return result
    except (InvalidInput, NotFound) as problem:
        problems.append(problem)
        return None


async def proposal_problems(uow: UnitOfWork, actor: Actor, p: Proposal) -> tuple[list[JointcheckError], dict]:
    """Everything wrong with a proposal, in the order of the wizard's steps, and what the checks
    read on the way (the lead, its items, the invited departments, clean ratios and cooling-off)
    for `propose_round` to write. Authorization is checked first and refuses outright."""
    lead = await _department(uow, p.lead, "lead")
    authorize(actor, Action.ROUND_PROPOSE, Scope.of(departments=[lead.id]))
    problems: list[JointcheckError] = []
    title = p.title.strip()
    if not title:
        problems.append(InvalidInput("the round needs a title", code="title.empty", fields=("title",)))
    elif len(title) > TITLE_CHARS:
        problems.append(
            InvalidInput(
                f"the round's title has at most {TITLE_CHARS} characters (this one has {len(title)})",
                code="title.too_long",
                params={"chars": len(title), "max": TITLE_CHARS},
                fields=("title",),
            )
        )
    if p.kind not in ("regular", "special"):
        problems.append(InvalidInput(f"round kind {p.kind!r} is not regular or special", code="kind.unknown", params={"kind": p.kind}))
    if p.scope.case_sources and p.kind != "special":
        problems.append(InvalidInput("a round on the targets of recent cases is a special round"))
    items = await _collect(problems, lambda: _own_items(uow, lead, p.items)) or []
    if p.lead in p.invited:
        problems.append(InvalidInput("a lead department cannot invite itself", code="invited.self", fields=("invited",)))
    if not p.invited:
        problems.append(InvalidInput("a joint round invites at least one other department", code="invited.none", fields=("invited",)))
    invited = []
    for code, size in sorted(p.invited.items()):
        department = await _collect(problems, lambda code=code: _department(uow, code, "invited"))
        if department is not None and await _collect(problems, lambda code=code, size=size: _check_team(code, size)) is not None:
            invited.append((department, size))
    if not is_region_code(p.region):
        problems.append(
            InvalidInput(
                f"region {p.region!r} is not a 6-digit GB/T 2260 code",
                code="region.not_code",
                params={"region": p.region},
                fields=("region",),
            )
        )
    else:
        problems.extend(await _scope_problems(uow, p.region, p.scope))
    ratios = await _collect(problems, lambda: _check_ratios(p.ratios))
    if ratios is not None:
        problems.extend(_check_caps(items, ratios))
    await _collect(problems, lambda: _check_team(p.lead, p.lead_team_size))
    cooling = {}
    for risk, days in p.cooling_off_days.items():
        if risk.upper() not in RISK_CLASSES or not isinstance(days, int) or not 0 <= days <= 3650:
            problems.append(
                InvalidInput(
                    f"cooling-off for class {risk!r} must be 0 to 3650 days",
                    code="cooling.out_of_range",
                    params={"risk": risk, "days": days},
                    fields=("cooling",),
                )
            )
        else:
            cooling[risk.upper()] = days
    if p.batch_size is not None and p.batch_size < 1:
        problems.append(InvalidInput("batch size must be at least 1", code="batch.too_small"))
    now = uow.clock()
    if p.draw_at is not None:
        await _collect(problems, lambda: check_draw_at(p.draw_at, now))
    if p.due_date is not None:
        await _collect(problems, lambda: check_due_date(p.due_date, p.draw_at))
    return problems, {"lead": lead, "items": items, "invited": invited, "ratios": ratios, "cooling": cooling}


# ---- the steps -------------------------------------------------------------------------------


async def joint_item_invitations(uow: UnitOfWork, actor: Actor, code: str, lead: str, team_size: int) -> tuple[str, dict[str, int]]:
    """The name of the joint item `code` and the departments it names (发起部门, 配合部门) other than
    the lead, each with `team_size`: what a round proposed from it invites. The list names
    departments by kind (市场监管部门); each must be a department's name or alias here."""
    department = await department_by_code(uow, lead)
    authorize(actor, Action.ROUND_PROPOSE, Scope.of(departments=[department.id]))
    item = await uow.joint_items.by_code(code.strip())
    if item is None:
        raise NotFound(f"no joint item {code} (jointcheck import joint-items FILE)")
    spellings = await department_spellings(uow)
    names = [n for n in f"{item.initiator};{item.partners}".split(";") if n]
    unknown = sorted({n for n in names if n not in spellings})
    if unknown:
        raise InvalidInput(
            f"joint item {item.code} names departments not known here: {', '.join(unknown)}; "
            "name each as an alias of a department (jointcheck admin department alias CODE NAME)"
        )
    invited = {spellings[n]: team_size for n in names if spellings[n] != department.code}
    return item.name, dict(sorted(invited.items()))


async def propose_round(uow: UnitOfWork, actor: Actor, p: Proposal) -> Round:
    problems, checked = await proposal_problems(uow, actor, p)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise Problems(problems)
    lead, items, invited, ratios, cooling = (checked[k] for k in ("lead", "items", "invited", "ratios", "cooling"))

    round_ = await uow.rounds.add(
        Round(
            plan_id=p.plan_id,
            lead_department_id=lead.id,
            title=p.title.strip(),
            region=p.region,
            kind=p.kind,
            status="proposed",
            scope=proof.canonical_json(p.scope.as_json()).decode(),
            ratios=proof.canonical_json(ratios).decode(),
            cooling_off=proof.canonical_json(cooling).decode(),
            batch_size=p.batch_size,
            draw_at=p.draw_at,
            due_date=p.due_date,
            created_by_user_id=actor.user_id,
        )
    )
    uow.rounds.add_participant(
        RoundParticipant(
            round_id=round_.id,
            department_id=lead.id,
            is_lead=True,
            status="confirmed",
            team_size=p.lead_team_size,
            responded_at=uow.clock(),
        )
    )
    for department, size in invited:
        uow.rounds.add_participant(
            RoundParticipant(round_id=round_.id, department_id=department.id, is_lead=False, status="invited", team_size=size)
        )
    for item in items:
        uow.rounds.add_item(RoundItem(round_id=round_.id, item_id=item.id, department_id=lead.id))
    await uow.audit.record(
        actor,
        "round.proposed",
        "round",
        round_.id,
        {
            "lead": p.lead,
            "title": round_.title,
            "region": p.region,
            "kind": p.kind,
            "items": [i.code for i in items],
            "invited": {d.code: s for d, s in invited},
            "lead_team_size": p.lead_team_size,
            "ratios": ratios,
            "cooling_off": cooling,
            "scope": p.scope.as_json(),
            "batch_size": p.batch_size,
            "draw_at": p.draw_at.isoformat() if p.draw_at else None,
            "due_date": p.due_date.isoformat() if p.due_date else None,
        },
    )
    await notify_departments(uow, [d.id for d, _ in invited], "round_invitation", {"round_id": round_.id}, f"round:{round_.id}:invite")
    return round_


async def open_invitation(
    uow: UnitOfWork, actor: Actor, round_id: int, department_code: str, *, for_update: bool = False
) -> tuple[Round, Department, RoundParticipant]:
    """The round, the department and its participant row, while this actor may still answer the
    invitation for that department; otherwise the refusal respond_to_round would give."""
    round_ = await round_for(uow, actor, round_id, for_update=for_update)
    department = await _department(uow, department_code)
    authorize(actor, Action.ROUND_RESPOND, Scope.of(departments=[department.id]))
    participant = next((p for p, d in await uow.rounds.participants(round_id) if d.id == department.id), None)
    if participant is None or participant.is_lead:
        raise NotFound(f"{department_code} is not invited to round {round_id}")
    if round_.status != "proposed":
        raise Conflict(f"round {round_id} is {round_.status}: answers are closed")
    if participant.status != "invited":
        raise Conflict(f"{department_code} has answered round {round_id} already ({participant.status})")
    return round_, department, participant


async def respond_to_round(
    uow: UnitOfWork, actor: Actor, round_id: int, department_code: str, accept: bool, items: tuple[str, ...] = ()
) -> RoundParticipant:
    round_, department, participant = await open_invitation(uow, actor, round_id, department_code, for_update=True)
    chosen: list[CheckItem] = []
    if accept:
        chosen = await _own_items(uow, department, items)
        _raise_first(_check_caps(chosen, json.loads(round_.ratios)))
        for item in chosen:
            uow.rounds.add_item(RoundItem(round_id=round_id, item_id=item.id, department_id=department.id))
    participant.status = "confirmed" if accept else "declined"
    participant.responded_at = uow.clock()
    await uow.audit.record(
        actor,
        "round.confirmed" if accept else "round.declined",
        "round",
        round_id,
        {
            "department": department_code,
            "items": [i.code for i in chosen],
        },
    )
    await notify_departments(
        uow,
        [round_.lead_department_id],
        "round_response",
        {"round_id": round_id, "department": department_code, "accepted": accept},
        f"round:{round_id}:response:{department_code}",
    )
    return participant


async def approve_round(uow: UnitOfWork, actor: Actor, round_id: int, today: dt.date | None = None) -> ApprovalReport:
    """The convener approves: the round can no longer change and its draw inputs are frozen."""
    round_ = await round_for(uow, actor, round_id, for_update=True)
    authorize(actor, Action.ROUND_APPROVE, Scope.of(region=round_.region))
    if round_.status != "proposed":
        raise Conflict(f"round {round_id} is {round_.status}, not awaiting approval")
    participants = [(p, d) for p, d in await uow.rounds.participants(round_id) if p.status == "confirmed"]
    if not any(not p.is_lead for p, _ in participants):
        raise InvalidInput(f"round {round_id} has no confirmed participant besides the lead and cannot be approved")
    items = await uow.rounds.items(round_id)
    now = uow.clock()
    frozen: Frozen = await freeze_round(uow, round_, participants, items, today or local_date(now))
    await uow.rounds.add_draw(
        _new_draw(round_id, frozen, now),
        frozen.files,
    )
    round_.status = "approved"
    round_.approved_by_user_id = actor.user_id
    round_.approved_at = now
    await uow.audit.record(
        actor,
        "round.approved",
        "round",
        round_id,
        {
            "commitment": frozen.commitment,
            "population": frozen.population,
            "expected_tasks": frozen.expected_tasks,
            "files": {name: proof.sha256_hex(content) for name, content in frozen.files.items()},
            "staffing_warnings": [w.__dict__ for w in frozen.warnings],
        },
    )
    await uow.audit.publish("round.approved", round_id)
    await notify_departments(
        uow,
        [d.id for _, d in participants],
        "round_commitment",
        {"round_id": round_id, "commitment": frozen.commitment},
        f"round:{round_id}:commitment",
    )
    return ApprovalReport(round_id, frozen.commitment, frozen.population, frozen.expected_tasks, frozen.params["strata"], frozen.warnings)


def _new_draw(round_id: int, frozen: Frozen, now: dt.datetime) -> Draw:
    return Draw(
        round_id=round_id, params_json=frozen.files["params.json"], commitment=frozen.commitment, server_secret=frozen.secret, frozen_at=now
    )


def seed_digits(text: str) -> str:
    """The digits of a typed seed: full-width digits read as ASCII (８４２９ is 8429), spaces of
    any width dropped, and whatever is left explained when it is not 20 to 200 digits. The ASCII
    digits are what is hashed, published and shown to everyone afterwards."""
    digits = "".join(char for char in normalized(text) if not char.isspace())
    wrong = next((char for char in digits if not "0" <= char <= "9"), None)
    if wrong is not None:
        raise InvalidInput(
            f"seed: {wrong!r} is not a digit 0-9", code="seed.not_digit", params={"char": wrong, "min": proof.SEED_MIN_DIGITS}
        )
    if len(digits) < proof.SEED_MIN_DIGITS:
        raise InvalidInput(
            f"seed: {len(digits)} digits; at least {proof.SEED_MIN_DIGITS} are needed",
            code="seed.too_short",
            params={"count": len(digits), "min": proof.SEED_MIN_DIGITS},
        )
    if len(digits) > proof.SEED_MAX_DIGITS:
        raise InvalidInput(
            f"seed: {len(digits)} digits; at most {proof.SEED_MAX_DIGITS} are allowed",
            code="seed.too_long",
            params={"count": len(digits), "max": proof.SEED_MAX_DIGITS},
        )
    return digits


async def open_seed_entry(uow: UnitOfWork, actor: Actor, round_id: int, *, for_update: bool = False) -> tuple[Round, Draw]:
    """The round and its frozen draw, while this actor may enter its seed; otherwise the refusal
    enter_seed would give (asked before the digits are, so nothing is written)."""
    round_ = await round_for(uow, actor, round_id, for_update=for_update)
    authorize(actor, Action.ROUND_SEED, Scope.of(region=round_.region))
    draw = await uow.rounds.draw_of(round_id)
    if round_.status != "approved" or draw is None or draw.seed_digits is not None:
        raise Conflict(f"round {round_id} is {round_.status}: the seed is entered once, after approval")
    return round_, draw


async def enter_seed(uow: UnitOfWork, actor: Actor, round_id: int, text: str) -> str:
    """The public seed digits; the server's secret is revealed with them. Returns the seed material."""
    round_, draw = await open_seed_entry(uow, actor, round_id, for_update=True)
    digits = proof.normalize_seed_digits(seed_digits(text))
    material = proof.make_seed_material(digits, draw.server_secret.hex())
    draw.seed_digits = digits
    draw.seeded_at = uow.clock()
    round_.status = "seeded"
    await uow.audit.record(
        actor,
        "round.seeded",
        "round",
        round_id,
        {
            "seed_digits": digits,
            "server_secret": draw.server_secret.hex(),
            "commitment": draw.commitment,
        },
    )
    participants = [d.id for p, d in await uow.rounds.participants(round_id) if p.status == "confirmed"]
    await notify_departments(uow, participants, "round_seed", {"round_id": round_id, "seed": material}, f"round:{round_id}:seed")
    return material


async def open_draw_schedule(uow: UnitOfWork, actor: Actor, round_id: int, *, for_update: bool = False) -> Round:
    """The round, while this actor may set the time of its draw; otherwise the refusal schedule_draw
    would give (asked before the time is, so nothing is written)."""
    round_ = await round_for(uow, actor, round_id, for_update=for_update)
    authorize(actor, Action.ROUND_DRAW, Scope.of(region=round_.region))
    if round_.status not in ("proposed", "approved", "seeded"):
        raise Conflict(f"round {round_id} is {round_.status}: its draw time cannot change")
    return round_


async def schedule_draw(uow: UnitOfWork, actor: Actor, round_id: int, draw_at: dt.datetime) -> Round:
    """The convener sets (or moves) the time of a round's draw; the scheduler runs it then, once
    the seed is in. The draw time is not part of the frozen inputs, so an approved round may move it."""
    round_ = await open_draw_schedule(uow, actor, round_id, for_update=True)
    if draw_at.tzinfo is None:
        raise InvalidInput("the draw time needs a time zone", code="draw_at.no_zone", params={"text": draw_at.isoformat()})
    check_draw_at(draw_at, uow.clock())
    if round_.due_date and round_.due_date < draw_at.astimezone(DOMAIN_TZ).date():
        raise InvalidInput(
            f"the draw time {_local(draw_at)} is after the due date {round_.due_date.isoformat()}",
            code="due.before_draw",
            params={"due": round_.due_date.isoformat(), "draw_at": _local(draw_at)},
            fields=("draw_at",),
        )
    previous = round_.draw_at
    round_.draw_at = draw_at
    event = await uow.audit.record(
        actor,
        "round.draw_scheduled",
        "round",
        round_id,
        {
            "draw_at": draw_at.isoformat(),
            "previous": previous.isoformat() if previous else None,
        },
    )
    participants = [d.id for p, d in await uow.rounds.participants(round_id) if p.status == "confirmed"]
    await notify_departments(
        uow,
        participants,
        "round_draw_scheduled",
        {"round_id": round_id, "draw_at": draw_at.astimezone(DOMAIN_TZ).strftime("%Y-%m-%d %H:%M")},
        f"round:{round_id}:scheduled:{event.seq}",
    )
    return round_


# ---- reading ---------------------------------------------------------------------------------


async def round_for(uow: UnitOfWork, actor: Actor, round_id: int, *, for_update: bool = False) -> Round:
    """The round, if this actor may see it; otherwise the same answer as for no round at all."""
    round_ = await uow.rounds.get(round_id, for_update=for_update)
    if round_ is None or not await _may_view(uow, actor, round_):
        raise NotFound(f"round {round_id} not found")
    return round_


async def _may_view(uow: UnitOfWork, actor: Actor, round_: Round) -> bool:
    departments = [d.id for _, d in await uow.rounds.participants(round_.id)]
    if can(actor, Action.ROUND_VIEW, Scope.of(departments=departments, region=round_.region)):
        return True
    mine = actor.inspector_ids()
    member = await uow.rounds.team_member_among(round_.id, mine) if mine else None
    return member is not None and can(actor, Action.ROUND_VIEW, Scope.of(inspectors=[member]))


async def get_round(uow: UnitOfWork, actor: Actor, round_id: int) -> Round:
    """A round for someone entitled to see it; to anyone else it does not exist."""
    return await round_for(uow, actor, round_id)


@dataclass(frozen=True)
class RoundDetail:
    """A round as its status page shows it: who takes part with what, its draw so far."""

    round: Round
    lead: Department | None
    participants: list[tuple[RoundParticipant, Department]]
    items: list[CheckItem]
    draw: Draw | None
    tasks: int

    def items_of(self, department_id: int) -> list[CheckItem]:
        return [item for item in self.items if item.department_id == department_id]


async def round_detail(uow: UnitOfWork, actor: Actor, round_id: int) -> RoundDetail:
    """The round and what it is made of, for someone entitled to see it (NotFound to anyone else)."""
    round_ = await round_for(uow, actor, round_id)
    participants = await uow.rounds.participants(round_id)
    lead = next((d for _, d in participants if d.id == round_.lead_department_id), None)
    return RoundDetail(
        round_,
        lead,
        participants,
        await uow.rounds.items(round_id),
        await uow.rounds.draw_of(round_id),
        await uow.rounds.task_count(round_id),
    )


async def list_rounds(uow: UnitOfWork, actor: Actor, status: str | None = None, limit: int = 50) -> list[Round]:
    return await uow.rounds.visible(reach(actor, Action.ROUND_VIEW), status, limit)
