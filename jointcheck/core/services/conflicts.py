"""Recusals (回避) added or lifted after import, by an officer of the inspector's department."""

from __future__ import annotations

from jointcheck.core.authz import Action, Actor, Scope, authorize
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.uow import UnitOfWork


async def _inspector(uow: UnitOfWork, actor: Actor, cert_no: str):
    inspector = await uow.inspectors.by_cert_no(cert_no)
    if inspector is None:
        raise NotFound(f"no inspector with certificate number {cert_no}")
    authorize(actor, Action.DIRECTORY_MANAGE, Scope.of(departments=[inspector.department_id]))
    return inspector


async def add_conflict(uow: UnitOfWork, actor: Actor, cert_no: str, target_code: str, reason: str) -> None:
    inspector = await _inspector(uow, actor, cert_no)
    target_code = target_code.strip().upper() if len(target_code.strip()) == 18 else target_code.strip()
    if not target_code or not reason.strip():
        raise InvalidInput("a recusal names the target and gives a reason")
    if any(c.target_code == target_code for c in await uow.inspectors.conflicts_of(inspector.id)):
        raise Conflict(f"{cert_no} recuses from {target_code} already")
    await uow.inspectors.add_conflict(inspector.id, target_code, reason.strip())
    await uow.audit.record(actor, "conflict.added", "inspector", cert_no, {"target": target_code, "reason": reason.strip()})


async def remove_conflict(uow: UnitOfWork, actor: Actor, cert_no: str, target_code: str, reason: str) -> None:
    inspector = await _inspector(uow, actor, cert_no)
    if not reason.strip():
        raise InvalidInput("lifting a recusal needs a reason")
    if await uow.inspectors.remove_conflict(inspector.id, target_code.strip()) == 0:
        raise NotFound(f"{cert_no} has no recusal from {target_code}")
    await uow.audit.record(actor, "conflict.removed", "inspector", cert_no, {"target": target_code.strip(), "reason": reason.strip()})
