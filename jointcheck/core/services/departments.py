"""Departments: bootstrapped by the platform operator, looked up by everyone else."""

from __future__ import annotations

import re

from jointcheck.core import limits
from jointcheck.core.authz import Action, Actor, Scope, authorize, can
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.models import CheckItem, Department
from jointcheck.core.uow import UnitOfWork

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


async def add_department(uow: UnitOfWork, actor: Actor, code: str, name: str) -> Department:
    authorize(actor, Action.DEPARTMENT_MANAGE)
    code, name = code.strip(), limits.bounded(name, limits.DEPARTMENT_NAME, "department name", required=True)
    if not _CODE.fullmatch(code):
        raise InvalidInput(f"department code {code!r} must be 1-32 letters, digits, '_', '.' or '-'")
    if await uow.departments.by_code(code) is not None:
        raise Conflict(f"department {code} exists already")
    department = await uow.departments.add(code, name)
    await uow.audit.record(actor, "department.added", "department", code, {"code": code, "name": name})
    return department


async def get_department(uow: UnitOfWork, department_id: int) -> Department:
    """The department a button names by id; NotFound when there is none."""
    department = await uow.departments.by_id(department_id)
    if department is None:
        raise NotFound(f"no department {department_id}")
    return department


async def department_by_code(uow: UnitOfWork, code: str) -> Department:
    """The department a person names by its code; NotFound, with a reason the bot translates, when there is none."""
    department = await uow.departments.by_code(code)
    if department is None:
        raise NotFound(f"no department with code {code}", code="department.unknown", params={"department": code})
    return department


async def list_departments(uow: UnitOfWork) -> list[Department]:
    """Every department, by code: the names of the directory anyone may read."""
    return await uow.departments.all()


async def current_items(uow: UnitOfWork, actor: Actor, department_id: int) -> list[CheckItem]:
    """A department's current check items, by code: what its officer chooses from for a round the
    department proposes or joins."""
    scope = Scope.of(departments=[department_id])
    if not can(actor, Action.ROUND_PROPOSE, scope):
        authorize(actor, Action.ROUND_RESPOND, scope)
    return await uow.rounds.items_of_department(department_id)


async def add_department_alias(uow: UnitOfWork, actor: Actor, code: str, alias: str) -> Department:
    """Let imports name the department `code` as `alias` too (市场监管局 for SCJG)."""
    authorize(actor, Action.DEPARTMENT_MANAGE)
    alias = " ".join(alias.split())
    if not alias:
        raise InvalidInput("the alias is empty")
    department = await department_by_code(uow, code.strip())
    departments = await uow.departments.all()
    if any(alias in (d.code, d.name) for d in departments):
        raise Conflict(f"{alias} is already a department's code or name")
    owner = await uow.departments.alias_owner(alias)
    if owner is not None:
        raise Conflict(f"{alias} is already an alias of {owner}")
    await uow.departments.add_alias(department, alias)
    await uow.audit.record(actor, "department.alias_added", "department", department.code, {"code": department.code, "alias": alias})
    return department


async def department_spellings(uow: UnitOfWork) -> dict[str, str]:
    """Every way an import may name a department (code, registered name, alias) -> its code.
    A name two departments share names neither."""
    spellings: dict[str, str] = {}
    shared: set[str] = set()
    departments = await uow.departments.all()
    for spelling, code in [(d.name, d.code) for d in departments] + await uow.departments.aliases():
        if spellings.get(spelling, code) != code:
            shared.add(spelling)
        spellings[spelling] = code
    for spelling in shared:
        del spellings[spelling]
    spellings.update({d.code: d.code for d in departments})
    return spellings
