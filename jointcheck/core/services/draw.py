"""Running a round's draw, once ever, and staffing by hand what assign-v1 could not.

The draw reads only the frozen files (never the live directory), so what it computes is exactly
what an outsider recomputes from the published bundle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from jointcheck.core import limits
from jointcheck.core import public_proof as proof
from jointcheck.core.authz import Action, Actor, Scope, authorize, can
from jointcheck.core.crashpoints import crashpoint
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.models import AuditHead, Round, Target, TeamMember
from jointcheck.core.services.departments import department_by_code
from jointcheck.core.services.notify import notify_departments, notify_inspectors
from jointcheck.core.services.rounds import round_for
from jointcheck.core.uow import UnitOfWork

_UNSTAFFED_IN_EVENT = 1000


@dataclass
class DrawReport:
    round_id: int
    selected: int
    assignments: int
    unstaffed: list[tuple[str, str]]
    selected_sha256: str
    assignments_sha256: str


async def run_draw(uow: UnitOfWork, actor: Actor, round_id: int) -> DrawReport:
    round_ = await round_for(uow, actor, round_id, for_update=True)
    authorize(actor, Action.ROUND_DRAW, Scope.of(region=round_.region))
    draw = await uow.rounds.draw_of(round_id)
    if draw is None or draw.seed_digits is None:
        raise Conflict(f"round {round_id} is {round_.status}: it is drawn after its seed is entered")
    if not await uow.rounds.claim_draw(draw.id, uow.clock()):
        raise Conflict(f"round {round_id} has been drawn already; there is no redraw")

    files = {name: await uow.rounds.file(draw.id, name) for name in ("params.json", "population.tsv", "pools.tsv", "conflicts.tsv")}
    params = proof.parse_params(files["params.json"])
    material = proof.make_seed_material(draw.seed_digits, draw.server_secret.hex())
    key = proof.draw_key(files["params.json"], material)
    # Popped: the population's hundreds of megabytes go as soon as the selection is made, before
    # the tasks and teams are built.
    selected = proof.select_population(key, files.pop("population.tsv"), proof.k_by_stratum(params))
    visit_order = [target for target, _, _ in selected]
    assignments, unstaffed = proof.assign(
        key,
        visit_order,
        proof.pools_by_department(proof.parse_pools_tsv(files["pools.tsv"])),
        params["teams"],
        proof.parse_conflicts_tsv(files["conflicts.tsv"]),
    )
    selected_tsv = proof.selected_tsv(selected)
    assignments_tsv = proof.assignments_tsv(assignments)
    uow.rounds.put_file(draw.id, "seed.txt", material.encode("utf-8") + b"\n")
    uow.rounds.put_file(draw.id, "selected.tsv", selected_tsv)
    uow.rounds.put_file(draw.id, "assignments.tsv", assignments_tsv)

    await _persist_tasks(uow, round_, selected, assignments)
    await crashpoint("draw:tasks")
    round_.status = "drawn"
    report = DrawReport(
        round_id, len(selected), len(assignments), unstaffed, proof.sha256_hex(selected_tsv), proof.sha256_hex(assignments_tsv)
    )
    await uow.audit.record(
        actor,
        "round.drawn",
        "round",
        round_id,
        {
            "seed_material_sha256": proof.sha256_hex(material.encode()),
            "selected_sha256": report.selected_sha256,
            "assignments_sha256": report.assignments_sha256,
            "selected": report.selected,
            "unstaffed_count": len(unstaffed),
            "unstaffed": [list(pair) for pair in unstaffed[:_UNSTAFFED_IN_EVENT]],
        },
    )
    head = await uow.audit.publish("round.drawn", round_id)
    await _notify(uow, round_, report, assignments, draw.commitment, material, head)
    return report


async def _persist_tasks(uow: UnitOfWork, round_: Round, selected, assignments) -> None:
    has_key_items = any(item.category == "key" for item in await uow.rounds.items(round_.id))
    batch_size = round_.batch_size if has_key_items and round_.batch_size else None
    tasks = [
        (target, stratum, ticket.hex(), order, (order // batch_size + 1) if batch_size else None)
        for order, (target, stratum, ticket) in enumerate(selected)
    ]
    order_of = {target: order for order, (target, _, _) in enumerate(selected)}
    # assignments come in visit order, then department, then order taken: a team's members are
    # consecutive, so its positions are a running count reset at each new (target, department).
    team = []
    members, slot = None, 0
    for target, department, inspector in assignments:
        if (target, department) != members:
            members, slot = (target, department), 0
        team.append((order_of[target], department, inspector, slot))
        slot += 1
    del order_of
    await uow.rounds.insert_drawn(round_.id, tasks, team, round_.due_date)


async def _notify(uow: UnitOfWork, round_: Round, report: DrawReport, assignments, commitment: str, seed: str, head: AuditHead) -> None:
    participants = [d.id for p, d in await uow.rounds.participants(round_.id) if p.status == "confirmed"]
    # The summary carries the proof: what was committed to, the seed, and the fingerprints of what
    # came out, so a participant can hold the published bundle against their own copy.
    await notify_departments(
        uow,
        participants,
        "round_drawn",
        {
            "round_id": round_.id,
            "selected": report.selected,
            "unstaffed": len(report.unstaffed),
            "commitment": commitment,
            "seed": seed,
            "selected_sha256": report.selected_sha256,
            "assignments_sha256": report.assignments_sha256,
            # the audit chain's head with this draw in it: a chain later cut or rewritten before it
            # no longer holds what every participant was told
            "audit_head": f"{head.seq}:{head.hash}",
        },
        f"round:{round_.id}:drawn",
    )
    tasks_of = Counter(inspector for _, _, inspector in assignments)
    cert_of = {i: cert for cert, i in (await uow.rounds.inspector_ids(list(tasks_of))).items()}
    await notify_inspectors(
        uow,
        cert_of,
        "tasks_assigned",
        lambda inspector_id: {"round_id": round_.id, "tasks": tasks_of[cert_of[inspector_id]]},
        f"round:{round_.id}:tasks",
    )


@dataclass(frozen=True)
class ShortTeam:
    task_id: int
    target_code: str
    department: str
    members: int
    team_size: int


async def short_teams(uow: UnitOfWork, actor: Actor, round_id: int, *, offset: int = 0, limit: int = 100) -> list[ShortTeam]:
    """The round's tasks whose team is short for a participant, in visit order: what assign-v1 could
    not staff and no officer has staffed by hand yet. For the participants' officers and the convener."""
    round_ = await round_for(uow, actor, round_id)
    if not can(actor, Action.ROUND_DRAW, Scope.of(region=round_.region)):
        departments = [d.id for p, d in await uow.rounds.participants(round_id) if p.status == "confirmed"]
        authorize(actor, Action.TASK_STAFF, Scope.of(departments=departments))
    rows = await uow.rounds.short_teams(round_id, max(offset, 0), max(1, min(limit, 1000)))
    return [ShortTeam(*row) for row in rows]


async def staff_by_hand(uow: UnitOfWork, actor: Actor, task_id: int, department_code: str, cert_no: str, reason: str) -> TeamMember:
    """An officer of a participating department completes its team with one of its own inspectors,
    or adds one of its experts to any team, with a logged reason."""
    task = await uow.rounds.task(task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    try:
        await round_for(uow, actor, task.round_id)
    except NotFound:
        raise NotFound(f"task {task_id} not found") from None
    department = await department_by_code(uow, department_code)
    authorize(actor, Action.TASK_STAFF, Scope.of(departments=[department.id]))
    participant = next((p for p, d in await uow.rounds.participants(task.round_id) if d.id == department.id), None)
    if participant is None or participant.status != "confirmed":
        raise InvalidInput(f"{department_code} does not take part in round {task.round_id}")
    reason = limits.bounded(reason, limits.REASON, "the reason for staffing by hand")
    if not reason:
        raise InvalidInput("staffing by hand needs a reason")
    inspector = await uow.inspectors.by_cert_no(cert_no)
    if inspector is None or inspector.department_id != department.id:
        raise NotFound(f"{cert_no} is not an inspector of {department_code}")
    if inspector.status != "active":
        raise InvalidInput(f"inspector {cert_no} is not active")
    target = await uow.session.get(Target, task.target_id)
    if any(c.target_code == target.code for c in await uow.inspectors.conflicts_of(inspector.id)):
        raise InvalidInput(f"inspector {cert_no} must recuse from {target.code}")
    team = await uow.rounds.team(task_id)
    if any(member.inspector_id == inspector.id for member, _ in team):
        raise Conflict(f"{cert_no} is on this team already")
    position = sum(1 for member, _ in team if member.department_id == department.id)
    # Experts come on top of the team (as short_teams counts): only law-enforcement members fill it.
    regular = sum(1 for member, _ in team if member.department_id == department.id and member.source != "expert")
    if inspector.kind != "expert" and regular >= participant.team_size:
        raise Conflict(f"the {department_code} team of task {task_id} is complete ({participant.team_size})")
    member = TeamMember(
        task_id=task_id,
        inspector_id=inspector.id,
        department_id=department.id,
        position=position,
        source="expert" if inspector.kind == "expert" else "manual",
        reason=reason.strip(),
    )
    uow.rounds.add_team_member(member)
    await uow.audit.record(
        actor,
        "task.staffed",
        "task",
        task_id,
        {
            "round_id": task.round_id,
            "department": department_code,
            "inspector": cert_no,
            "kind": inspector.kind,
            "reason": reason.strip(),
        },
    )
    await notify_inspectors(uow, [inspector.id], "task_staffed", lambda _: {"task_id": task_id}, f"task:{task_id}:staffed")
    return member
