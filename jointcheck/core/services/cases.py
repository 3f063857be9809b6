"""Cases (个案, SPEC capability 11): a complaint, referral or monitoring lead against a target.

An officer opens a case for named inspectors of their department: it makes at once one
non-random task (in a round of kind `case` with the department's items, so results are
recorded, reviewed and published on the same path as a drawn round's), and while the case is open
the target is left out of every random draw (freeze.py, which records how many and their hash in
params.json). Publishing the case's results closes it; an officer may also close it with a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jointcheck.core.authz import Action, Actor, Scope, authorize, can, reach
from jointcheck.core.clock import local_date
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.models import Case, Department, Round, RoundItem, RoundParticipant, Task, TeamMember
from jointcheck.core.services.departments import department_by_code
from jointcheck.core.services.notify import notify_inspectors
from jointcheck.core.uow import UnitOfWork

SOURCES = ("complaint", "referral", "monitoring")
SUMMARY_LIMIT = 1000
MAX_INSPECTORS = 20
CASE_TITLE = "个案"  # data, as any round's title: "个案 12" names the round of case 12


@dataclass(frozen=True)
class CaseView:
    case_id: int
    target_code: str
    target_name: str
    department_code: str
    source: str
    summary: str
    status: str
    task_id: int | None
    round_id: int | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None


async def open_case(
    uow: UnitOfWork,
    actor: Actor,
    department_code: str | None,
    target_code: str,
    source: str,
    inspectors: tuple[str, ...],
    *,
    summary: str = "",
    items: tuple[str, ...] = (),
    due_date: dt.date | None = None,
) -> CaseView:
    certs = tuple(dict.fromkeys(c.strip() for c in inspectors if c.strip()))
    if department_code is None:
        department = await _department_of_team(uow, actor, certs)
    else:
        department = await department_by_code(uow, department_code)
    authorize(actor, Action.CASE_MANAGE, Scope.of(departments=[department.id]))
    if source not in SOURCES:
        raise InvalidInput(f"a case comes from a complaint, a referral or monitoring, not {source!r}")
    summary = summary.strip()
    if len(summary) > SUMMARY_LIMIT:
        raise InvalidInput(f"a case summary has at most {SUMMARY_LIMIT} characters (this one has {len(summary)})")
    target = await uow.targets.by_code(target_code.strip().upper()) or await uow.targets.by_code(target_code.strip())
    if target is None:
        raise NotFound(f"no target with code {target_code}")
    if target.status != "active":
        raise InvalidInput(f"target {target.code} is {target.status}: there is nothing to inspect")
    if await uow.cases.open_of(target.code, department.id) is not None:
        raise Conflict(f"{department.code} has an open case on {target.code} already")
    if not certs:
        raise InvalidInput("name at least one inspector of your department for the case")
    if len(certs) > MAX_INSPECTORS:
        raise InvalidInput(f"a case team has at most {MAX_INSPECTORS} inspectors")
    team = []
    for cert in certs:
        inspector = await uow.inspectors.by_cert_no(cert)
        if inspector is None or inspector.department_id != department.id:
            raise NotFound(f"{cert} is not an inspector of {department.code}")
        if inspector.status != "active":
            raise InvalidInput(f"inspector {cert} is not active")
        if any(c.target_code == target.code for c in await uow.inspectors.conflicts_of(inspector.id)):
            raise InvalidInput(f"inspector {cert} must recuse from {target.code}")
        team.append(inspector)
    chosen = await uow.rounds.items_of_department(department.id)
    if items:
        by_code = {i.code: i for i in chosen}
        missing = [c for c in items if c not in by_code]
        if missing:
            raise InvalidInput(f"not current items of {department.code}: {', '.join(missing)}")
        chosen = [by_code[c] for c in dict.fromkeys(items)]
    if not chosen:
        raise InvalidInput(f"{department.code} has no current check item to inspect the case with")
    if due_date is not None and due_date < local_date(uow.clock()):
        raise InvalidInput("the due date has passed")

    now = uow.clock()
    round_ = await uow.rounds.add(
        Round(
            lead_department_id=department.id,
            # Round titles are shown in lists, which the complaint's words have no place in: the
            # summary stays on the case, seen by the department and the convener only.
            title=CASE_TITLE,
            region=target.region,
            kind="case",
            status="drawn",
            due_date=due_date,
            created_by_user_id=actor.user_id,
        )
    )
    uow.rounds.add_participant(
        RoundParticipant(
            round_id=round_.id, department_id=department.id, is_lead=True, status="confirmed", team_size=len(team), responded_at=now
        )
    )
    for item in chosen:
        uow.rounds.add_item(RoundItem(round_id=round_.id, item_id=item.id, department_id=department.id))
    task = Task(
        round_id=round_.id,
        target_id=target.id,
        stratum=target.risk,
        ticket="",
        visit_order=0,
        source="case",
        status="assigned",
        due_date=due_date,
    )
    uow.session.add(task)
    await uow.session.flush()
    case = Case(
        target_code=target.code, department_id=department.id, source=source, summary=summary, status="open", task_id=task.id, opened_at=now
    )
    uow.session.add(case)
    await uow.session.flush()
    round_.title = f"{CASE_TITLE} {case.id}"
    for position, inspector in enumerate(team):
        uow.rounds.add_team_member(
            TeamMember(
                task_id=task.id,
                inspector_id=inspector.id,
                department_id=department.id,
                position=position,
                source="expert" if inspector.kind == "expert" else "manual",
                reason=f"case {case.id}",
            )
        )
    await uow.audit.record(
        actor,
        "case.opened",
        "case",
        case.id,
        {
            "target": target.code,
            "department": department.code,
            "source": source,
            "summary": summary,
            "inspectors": list(certs),
            "items": [i.code for i in chosen],
            "round_id": round_.id,
            "task_id": task.id,
            "due_date": due_date.isoformat() if due_date else None,
        },
    )
    await notify_inspectors(uow, [i.id for i in team], "task_staffed", lambda _: {"task_id": task.id}, f"case:{case.id}:assigned")
    return _view(case, target.name, department.code, round_.id)


async def _department_of_team(uow: UnitOfWork, actor: Actor, certs: tuple[str, ...]) -> Department:
    """The department of a case whose officer named only its inspectors (in chat): the first named
    inspector's, or else the officer's own (then the inspectors are checked against it)."""
    first = await uow.inspectors.by_cert_no(certs[0]) if certs else None
    if first is not None:
        return await uow.departments.by_id(first.department_id)
    own = sorted(actor.department_ids())
    if not own:
        authorize(actor, Action.CASE_MANAGE, Scope())  # logs and refuses: only officers open cases
    return await uow.departments.by_id(own[0])


async def close_case(uow: UnitOfWork, actor: Actor, case_id: int, reason: str) -> CaseView:
    """An officer closes their department's case (unfounded, settled elsewhere, …) with a reason;
    its target is drawn at random again from the next freeze on."""
    found = await uow.cases.get(case_id, for_update=True)
    if found is None or not can(actor, Action.CASE_VIEW, Scope.of(departments=[found[0].department_id], region=found[1].region)):
        raise NotFound(f"case {case_id} not found")
    case, target, department = found
    authorize(actor, Action.CASE_MANAGE, Scope.of(departments=[case.department_id]))
    reason = reason.strip()
    if not reason:
        raise InvalidInput("closing a case needs a reason")
    if len(reason) > SUMMARY_LIMIT:
        raise InvalidInput(f"a reason has at most {SUMMARY_LIMIT} characters")
    if case.status != "open":
        raise Conflict(f"case {case_id} is closed already")
    case.status, case.closed_at = "closed", uow.clock()
    await uow.audit.record(actor, "case.closed", "case", case.id, {"reason": reason, "target": case.target_code})
    return _view(case, target.name, department.code, await uow.cases.round_of(case))


async def close_cases_of_round(uow: UnitOfWork, actor: Actor, round_id: int, at: dt.datetime) -> int:
    """Published results close the open cases whose task they complete (publish_results calls this)."""
    closed = 0
    for case in await uow.cases.open_with_completed_task(round_id):
        case.status, case.closed_at = "closed", at
        await uow.audit.record(actor, "case.closed", "case", case.id, {"reason": "results published", "target": case.target_code})
        closed += 1
    return closed


async def list_cases(uow: UnitOfWork, actor: Actor, *, open_only: bool = True, limit: int = 50) -> list[CaseView]:
    """The cases this actor may see, newest first: their departments' and, for a convener, those
    on targets of their region."""
    allowed = reach(actor, Action.CASE_VIEW)
    rows = await uow.cases.visible(allowed, open_only, max(1, min(limit, 200)))
    return [_view(case, name, code, round_id) for case, name, code, round_id in rows]


def _view(case: Case, target_name: str, department_code: str, round_id: int | None) -> CaseView:
    return CaseView(
        case.id,
        case.target_code,
        target_name,
        department_code,
        case.source,
        case.summary,
        case.status,
        case.task_id,
        round_id,
        case.opened_at,
        case.closed_at,
    )
