"""Invites: single use, expiry, each role with exactly its own scope, issued only by an admin."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from jointcheck.core.authz import Action, Actor, Scope, can
from jointcheck.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from jointcheck.core.models import Inspector, Role
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.invites import hash_code, issue_invite, redeem_invite

OPERATOR = Actor.operator("cli:test")


async def _setup(uow_factory) -> None:
    async with uow_factory() as uow:
        dept = await add_department(uow, OPERATOR, "SCJG", "市场监管局")
        uow.session.add(Inspector(cert_no="44010001", name="张三", department_id=dept.id, kind="enforcement"))
        await uow.commit()


async def _issue(uow_factory, role, clock=None, **kw):
    async with uow_factory(clock) as uow:
        issued = await issue_invite(uow, OPERATOR, role, **kw)
        await uow.commit()
    return issued


async def _redeem(uow_factory, code, telegram_id, clock=None):
    async with uow_factory(clock) as uow:
        user, grant = await redeem_invite(uow, code, telegram_id, "某人", "zh-hans")
        actor = await uow.users.actor_for(user)
        await uow.commit()
    return actor


async def test_officer_invite_binds_account_to_department(uow_factory):
    await _setup(uow_factory)
    issued = await _issue(uow_factory, "officer", department="SCJG")
    assert issued.link("jc_bot") == f"https://t.me/jc_bot?start={issued.code}"
    assert len(issued.code) == 32 and issued.code.isascii() and issued.code.isalnum()
    actor = await _redeem(uow_factory, issued.code, 1001)
    assert actor.has_role(Role.OFFICER)
    dept_id = next(iter(actor.department_ids()))
    assert can(actor, Action.ROUND_PROPOSE, Scope.of(departments=[dept_id]))
    async with uow_factory() as uow:
        stored = await uow.invites.by_code_hash(hash_code(issued.code))
        assert stored.used_by_user_id == actor.user_id
        # only the hash is kept
        from sqlalchemy import text

        dump = (await uow.session.execute(text("SELECT code_hash FROM invites"))).scalars().all()
        assert issued.code not in dump


async def test_inspector_and_convener_invites(uow_factory):
    await _setup(uow_factory)
    inspector = await _redeem(uow_factory, (await _issue(uow_factory, "inspector", inspector="44010001")).code, 2001)
    assert inspector.inspector_ids() and inspector.has_role(Role.INSPECTOR)
    convener = await _redeem(uow_factory, (await _issue(uow_factory, "convener", region="440100")).code, 2002)
    assert can(convener, Action.ROUND_APPROVE, Scope.of(region="440106"))


async def test_reuse_is_refused(uow_factory):
    await _setup(uow_factory)
    issued = await _issue(uow_factory, "officer", department="SCJG")
    await _redeem(uow_factory, issued.code, 1001)
    with pytest.raises(Conflict, match="used already"):
        await _redeem(uow_factory, issued.code, 1002)
    async with uow_factory() as uow:
        assert await uow.users.by_telegram_id(1002) is None


async def test_expired_code_is_refused(uow_factory):
    await _setup(uow_factory)
    start = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    issued = await _issue(uow_factory, "officer", clock=lambda: start, department="SCJG", ttl_hours=2)
    with pytest.raises(Conflict, match="expired"):
        await _redeem(uow_factory, issued.code, 1001, clock=lambda: start + dt.timedelta(hours=2, seconds=1))
    actor = await _redeem(uow_factory, issued.code, 1001, clock=lambda: start + dt.timedelta(hours=1))
    assert actor.has_role(Role.OFFICER)


async def test_unknown_code_is_refused(uow_factory):
    await _setup(uow_factory)
    with pytest.raises(NotFound):
        await _redeem(uow_factory, "no-such-code", 1001)


@pytest.mark.parametrize(
    "role, kw, message",
    [
        ("superuser", {}, "unknown role"),
        ("officer", {}, "needs a department"),
        ("officer", {"department": "SCJG", "region": "440100"}, "takes no region"),
        ("convener", {"department": "SCJG"}, "needs a region"),
        ("convener", {"region": "44010"}, "6-digit"),
        ("inspector", {"department": "SCJG"}, "needs an inspector record"),
        ("admin", {"region": "440100"}, "takes no region"),
    ],
)
async def test_wrong_role_or_scope_is_refused(uow_factory, role, kw, message):
    await _setup(uow_factory)
    with pytest.raises(InvalidInput, match=message):
        await _issue(uow_factory, role, **kw)


async def test_unknown_department_or_inspector(uow_factory):
    await _setup(uow_factory)
    with pytest.raises(NotFound, match="department"):
        await _issue(uow_factory, "officer", department="NOPE")
    with pytest.raises(NotFound, match="inspector"):
        await _issue(uow_factory, "inspector", inspector="000")


async def test_only_an_admin_issues_invites(uow_factory):
    await _setup(uow_factory)
    officer = await _redeem(uow_factory, (await _issue(uow_factory, "officer", department="SCJG")).code, 1001)
    async with uow_factory() as uow:
        with pytest.raises(PermissionDenied):
            await issue_invite(uow, officer, "admin")


async def test_inspector_record_binds_one_account(uow_factory):
    await _setup(uow_factory)
    first = await _issue(uow_factory, "inspector", inspector="44010001")
    second = await _issue(uow_factory, "inspector", inspector="44010001")
    await _redeem(uow_factory, first.code, 3001)
    with pytest.raises(Conflict, match="another account"):
        await _redeem(uow_factory, second.code, 3002)


async def test_simultaneous_redemptions_bind_once(uow_factory):
    await _setup(uow_factory)
    issued = await _issue(uow_factory, "officer", department="SCJG")
    outcomes = await asyncio.gather(*(_redeem(uow_factory, issued.code, 4000 + i) for i in range(4)), return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, Actor)]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, Actor))


def test_codes_are_letters_and_digits_only():
    from jointcheck.core.services.invites import new_code

    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(c.isascii() and c.isalnum() and len(c) == 32 for c in codes)
