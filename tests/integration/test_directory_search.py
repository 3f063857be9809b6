"""Officers and conveners search the directories, each inside their own reach, page by page."""

from __future__ import annotations

import pytest

from jointcheck.core.audit import verify_chain
from jointcheck.core.authz import Actor, Grant
from jointcheck.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from jointcheck.core.models import Inspector, Role
from jointcheck.core.repositories.bulk_targets import TargetBulkWriter
from jointcheck.core.services.conflicts import add_conflict, remove_conflict
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.directory_search import InspectorQuery, TargetQuery, search_inspectors, search_targets

OPERATOR = Actor.operator("test")


def target(i: int, region: str, risk: str, departments: str, tags: str = "", status: str = "active", name: str = "") -> tuple:
    return (f"T{i:05d}", name or f"企业{i}", "product", region, "F51", risk, departments, tags, status, "")


@pytest.fixture
async def world(uow_factory):
    async with uow_factory() as uow:
        samr = await add_department(uow, OPERATOR, "SAMR", "市场监管")
        tax = await add_department(uow, OPERATOR, "TAX", "税务")
        writer = TargetBulkWriter(uow.session)
        rows = [
            target(i, "440106" if i % 2 else "350102", "ABCD"[i % 4], "SAMR" if i % 3 else "TAX", "食品" if i % 5 == 0 else "")
            for i in range(60)
        ]
        rows.append(target(99, "440106", "A", "SAMR", status="deregistered", name="已注销企业"))
        rows.append(target(100, "440106", "A", "SAMR;TAX", name="100%_特殊"))
        await writer.write(rows)
        await writer.finish()
        uow.session.add_all(
            [
                Inspector(cert_no="S1", name="张三", department_id=samr.id, kind="enforcement", skills="食品;药品", region="440106"),
                Inspector(cert_no="S2", name="李四", department_id=samr.id, kind="expert", skills="", region="350102"),
                Inspector(cert_no="T1", name="王五", department_id=tax.id, kind="enforcement", skills="", region="440106"),
            ]
        )
        await uow.commit()
    return {
        "samr": Actor("o", (Grant(Role.OFFICER, department_id=samr.id),)),
        "tax": Actor("t", (Grant(Role.OFFICER, department_id=tax.id),)),
        "gz": Actor("c", (Grant(Role.CONVENER, region="440100"),)),
        "inspector": Actor("i", (Grant(Role.INSPECTOR, inspector_id=1),)),
    }


async def _all_pages(uow, actor, query, limit=7):
    codes, after = [], None
    while True:
        page = await search_targets(uow, actor, query, after=after, limit=limit)
        codes += [t.code for t in page.items]
        if page.next_after is None:
            return codes
        after = page.next_after


async def test_officer_sees_what_the_department_supervises(uow_factory, world):
    async with uow_factory() as uow:
        codes = await _all_pages(uow, world["samr"], TargetQuery())
        assert len(codes) == len(set(codes)) == 40 + 1  # i % 3 != 0 of 60, plus T00100 (SAMR;TAX)
        tax = await _all_pages(uow, world["tax"], TargetQuery())
        assert set(tax) == {f"T{i:05d}" for i in range(0, 60, 3)} | {"T00100"}


async def test_convener_sees_the_jurisdiction(uow_factory, world):
    async with uow_factory() as uow:
        codes = await _all_pages(uow, world["gz"], TargetQuery())
        assert set(codes) == {f"T{i:05d}" for i in range(1, 60, 2)} | {"T00100"}


async def test_filters_combine(uow_factory, world):
    async with uow_factory() as uow:
        found = await _all_pages(uow, world["samr"], TargetQuery(region="440106", risk=("b",), tags=("食品",)))
        expected = [f"T{i:05d}" for i in range(60) if i % 2 and "ABCD"[i % 4] == "B" and i % 5 == 0 and i % 3]
        assert found == expected and found
        assert await _all_pages(uow, world["samr"], TargetQuery(name="100%_")) == ["T00100"]
        assert await _all_pages(uow, world["samr"], TargetQuery(name="%")) == ["T00100"]  # wildcards are literal
        assert await _all_pages(uow, world["samr"], TargetQuery(code="T0000")) == [f"T0000{i}" for i in range(1, 10) if i % 3]


async def test_deregistered_only_when_asked(uow_factory, world):
    async with uow_factory() as uow:
        assert "T00099" not in await _all_pages(uow, world["samr"], TargetQuery())
        assert "T00099" in await _all_pages(uow, world["samr"], TargetQuery(include_deregistered=True))


async def test_inspectors_and_refusals(uow_factory, world):
    async with uow_factory() as uow:
        page = await search_inspectors(uow, world["samr"], InspectorQuery())
        assert [(i.cert_no, d) for i, d in page.items] == [("S1", "SAMR"), ("S2", "SAMR")]
        page = await search_inspectors(uow, world["samr"], InspectorQuery(skill="药品"))
        assert [i.cert_no for i, _ in page.items] == ["S1"]
        page = await search_inspectors(uow, world["gz"], InspectorQuery())
        assert [i.cert_no for i, _ in page.items] == ["S1", "T1"]
        with pytest.raises(PermissionDenied):
            await search_targets(uow, world["inspector"], TargetQuery())
        with pytest.raises(InvalidInput):
            await search_targets(uow, world["samr"], TargetQuery(), limit=1000)


async def test_conflicts_added_and_removed_by_the_department(uow_factory, world):
    async with uow_factory() as uow:
        await add_conflict(uow, world["samr"], "S1", "T00001", "亲属关系")
        with pytest.raises(Conflict):
            await add_conflict(uow, world["samr"], "S1", "T00001", "again")
        with pytest.raises(PermissionDenied):
            await add_conflict(uow, world["tax"], "S1", "T00002", "not their inspector")
        await uow.commit()
    async with uow_factory() as uow:
        inspector = await uow.inspectors.by_cert_no("S1")
        assert [c.target_code for c in await uow.inspectors.conflicts_of(inspector.id)] == ["T00001"]
        with pytest.raises(InvalidInput):
            await remove_conflict(uow, world["samr"], "S1", "T00001", " ")
        await remove_conflict(uow, world["samr"], "S1", "T00001", "关系已解除")
        with pytest.raises(NotFound):
            await remove_conflict(uow, world["samr"], "S1", "T00001", "twice")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inspectors.conflicts_of(inspector.id) == []
        report = await verify_chain(uow.session)
        assert report.ok and report.checked == 4  # two departments, one added, one removed
