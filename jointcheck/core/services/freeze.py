"""Freezing a round at approval: the population, pools, conflicts and params of draw-v1.

After this nothing about the draw can change: the files are stored byte for byte and the SHA-256
of params.json is the commitment published before any seed exists.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, exists, literal, or_, select

from jointcheck.core import public_proof as proof
from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.models import Case, CheckItem, Department, Result, Round, RoundParticipant, Target, Task
from jointcheck.core.repositories.directory import in_region, list_contains
from jointcheck.core.uow import UnitOfWork

RISK_CLASSES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class StaffingWarning:
    department: str
    pool: int
    team_size: int
    targets: int  # how many targets would be unstaffed for this department
    certain: bool  # True: the pool is too small for any target; False: an upper bound from conflicts


@dataclass
class Frozen:
    files: dict[str, bytes]
    params: dict
    commitment: str
    secret: bytes
    population: int
    expected_tasks: int
    warnings: list[StaffingWarning] = field(default_factory=list)


def population_conditions(round_: Round, today: dt.date) -> list[ColumnElement[bool]]:
    """Eligible targets of a round as SQL: in scope, active, out of cooling-off, no open case."""
    return [*_scope_conditions(round_, today), Target.code.not_in(_open_cases())]


def _open_cases():
    return select(Case.target_code).where(Case.status == "open")


def _scope_conditions(round_: Round, today: dt.date) -> list[ColumnElement[bool]]:
    """Everything that makes a target eligible but the absence of an open case."""
    scope = json.loads(round_.scope)
    cooling = json.loads(round_.cooling_off)
    conditions: list[ColumnElement[bool]] = [Target.status == "active", in_region(Target.region, round_.region)]
    if scope.get("regions"):
        conditions.append(or_(*(in_region(Target.region, r) for r in scope["regions"])))
    if scope.get("kinds"):
        conditions.append(Target.kind.in_(scope["kinds"]))
    if scope.get("industries"):
        conditions.append(or_(*(Target.industry.startswith(i, autoescape=True) for i in scope["industries"])))
    if scope.get("tags"):
        conditions.append(or_(*(list_contains(Target.tags, t) for t in scope["tags"])))
    if scope.get("departments"):
        conditions.append(or_(*(list_contains(Target.departments, d) for d in scope["departments"])))
    if scope.get("case_sources"):
        # A special round on the targets of recent cases of these kinds (complaints, referrals,
        # monitoring), opened within case_days days before the freeze, whatever their status.
        since = dt.datetime.combine(today - dt.timedelta(days=int(scope.get("case_days") or 0)), dt.time(), DOMAIN_TZ).astimezone(dt.UTC)
        recent = select(Case.id).where(Case.target_code == Target.code, Case.source.in_(scope["case_sources"]), Case.opened_at >= since)
        conditions.append(exists(recent))
    # Results are mutually recognised: an inspection by any department, in any round, starts the
    # cooling-off of its target's class, from the moment it was completed or, as soon as one
    # department's results of it are published, from their submission. Derived from the tasks and
    # results, so nothing to keep in step.
    cutoffs = {
        risk: dt.datetime.combine(today - dt.timedelta(days=int(days)), dt.time(), DOMAIN_TZ).astimezone(dt.UTC)
        for risk, days in cooling.items()
        if int(days) > 0
    }
    if cutoffs:
        cutoff = case(*((Target.risk == risk, literal(moment, Task.completed_at.type)) for risk, moment in cutoffs.items()), else_=None)
        # Correlated to both enclosing queries: left to itself, this innermost one would take
        # `targets` (of the cutoff) into its own FROM.
        published = (
            select(Result.id)
            .where(Result.task_id == Task.id, Result.published_at.is_not(None), Result.submitted_at >= cutoff)
            .correlate(Task, Target)
        )
        recent = select(Task.id).where(
            Task.target_id == Target.id,
            or_(and_(Task.completed_at.is_not(None), Task.completed_at >= cutoff), exists(published)),
        )
        conditions.append(~exists(recent))
    return conditions


async def _excluded_by_cases(uow: UnitOfWork, round_: Round, today: dt.date) -> bytes:
    """excluded.tsv: `target_id TAB open_case` for each target the round would hold but for an open
    case, sorted by bytes. Its count and hash go into params.json (so into the commitment); the
    file itself is kept with the draw files but left out of the bundle, since it names the targets
    of open cases before their inspection."""
    codes = await uow.rounds.codes_with_open_cases([*_scope_conditions(round_, today), Target.code.in_(_open_cases())])
    return proof.population_tsv((code, "open_case") for code in codes) if codes else b""


async def freeze_round(
    uow: UnitOfWork,
    round_: Round,
    participants: list[tuple[RoundParticipant, Department]],
    items: list[CheckItem],
    today: dt.date,
) -> Frozen:
    conditions = population_conditions(round_, today)
    excluded = await _excluded_by_cases(uow, round_, today)
    # Only a round that leaves targets out for open cases says so: every other round's params.json
    # stays byte for byte what draw-v1 always wrote.
    exclusions = {"excluded": {"open_case": {"n": excluded.count(b"\n"), "sha256": proof.sha256_hex(excluded)}}} if excluded else {}
    scope = json.loads(round_.scope)
    by_region = bool(scope.get("stratify_by_region"))
    population = await _population(uow, conditions, by_region)

    department_ids = [d.id for _, d in participants]
    pool_rows = await uow.rounds.pools(department_ids)
    pools = proof.pools_tsv(pool_rows)
    conflict_rows = await uow.rounds.conflicts(department_ids, conditions)
    conflicts = proof.conflicts_tsv(conflict_rows)

    ratios = {k: int(v) for k, v in json.loads(round_.ratios).items()}
    teams = {d.code: p.team_size for p, d in participants}
    secret = secrets.token_bytes(32)

    def params_for(population: bytes) -> bytes:
        return proof.build_params(
            round_.id,
            population,
            pools,
            conflicts,
            lambda stratum: ratios.get(stratum.split("/")[0], 0),
            teams,
            proof.server_commitment(secret),
            title=round_.title,
            region=round_.region,
            scope=scope,
            cooling_off=json.loads(round_.cooling_off),
            items=[{"code": i.code, "version": i.version, "category": i.category, "department_id": i.department_id} for i in items],
            batch_size=round_.batch_size,
            frozen_on=today.isoformat(),
            **exclusions,
        )

    try:
        params = params_for(population)
    except proof.BundleError:
        # The lines as the database sorted them are no valid population.tsv (pools.tsv and
        # conflicts.tsv come out of pools_tsv and conflicts_tsv, which the parser always accepts):
        # population_tsv sorts the rows by their ids, or says which one cannot be published.
        del population
        population = proof.population_tsv(await _population_rows(uow, conditions, by_region))
        params = params_for(population)
    parsed = json.loads(params)
    frozen = Frozen(
        files={
            "params.json": params,
            "population.tsv": population,
            "pools.tsv": pools,
            "conflicts.tsv": conflicts,
            **({"excluded.tsv": excluded} if excluded else {}),
        },
        params=parsed,
        commitment=proof.sha256_hex(params),
        secret=secret,
        population=sum(s["n"] for s in parsed["strata"].values()),
        expected_tasks=sum(s["k"] for s in parsed["strata"].values()),
    )
    frozen.warnings = _staffing_warnings(teams, pool_rows, conflict_rows, frozen.expected_tasks)
    return frozen


async def _population(uow: UnitOfWork, conditions, by_region: bool) -> bytes:
    """population.tsv as the database sorts its lines; build_params checks it as the verifier will."""
    try:
        pieces = ["".join(lines).encode("utf-8") async for lines in uow.rounds.population_lines(conditions, by_region)]
    except proof.BundleError:  # the database cannot give the lines as they are: from the rows
        return proof.population_tsv(await _population_rows(uow, conditions, by_region))
    return b"".join(pieces)


async def _population_rows(uow: UnitOfWork, conditions, by_region: bool) -> list[tuple[str, str]]:
    return [(code, f"{risk}/{region}" if by_region else risk) for code, risk, region in await uow.rounds.population(conditions)]


def _staffing_warnings(teams: dict[str, int], pool_rows, conflict_rows, expected: int) -> list[StaffingWarning]:
    pool_of: dict[str, set[str]] = {}
    for department, inspector in pool_rows:
        pool_of.setdefault(department, set()).add(inspector)
    barred: dict[str, Counter] = {}
    department_of = {inspector: department for department, inspector in pool_rows}
    for inspector, target in conflict_rows:
        barred.setdefault(department_of[inspector], Counter())[target] += 1
    warnings = []
    for department, n in sorted(teams.items()):
        size = len(pool_of.get(department, ()))
        if size < n:
            warnings.append(StaffingWarning(department, size, n, expected, True))
            continue
        short = sum(1 for c in barred.get(department, Counter()).values() if size - c < n)
        if short:
            warnings.append(StaffingWarning(department, size, n, short, False))
    return warnings
