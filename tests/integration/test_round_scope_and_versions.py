"""A round's scope by target kind, industry and responsible department, as frozen at approval; and
old rounds keeping the item version they were proposed with when the item list is re-imported."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select

from jointcheck.core import public_proof as proof
from jointcheck.core.directory_io.writers import write_table
from jointcheck.core.errors import InvalidInput
from jointcheck.core.models import CheckItem, Target
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.directory_import import import_directory
from jointcheck.core.services.rounds import RoundScope, approve_round, propose_round
from tests.integration.test_round_lifecycle import TODAY, proposed_and_confirmed
from tests.round_world import OPERATOR, build_world, proposal, step, target_rows

BASE = 8  # T0000..T0007 from round_world: product, F51, region 440106/440111, risk A-D, SAMR or SAMR;TAX
BASE_CODES = {row[0] for row in target_rows(BASE)}
BASE_WITH_TAX = {row[0] for row in target_rows(BASE) if row[6] == "SAMR;TAX"}


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory, n_targets=BASE)


async def add_targets(uow_factory, rows: list[tuple[str, str, str, str, str]]) -> None:
    """(code, kind, industry, departments, risk) targets in 440106, active unless the code says so."""
    async with uow_factory() as uow:
        for code, kind, industry, departments, risk in rows:
            uow.session.add(
                Target(
                    code=code,
                    name=f"对象{code}",
                    kind=kind,
                    region="440106",
                    industry=industry,
                    risk=risk,
                    departments=departments,
                    tags="",
                    status="deregistered" if "GONE" in code else "active",
                    address="",
                )
            )
        await uow.commit()


async def frozen_population(uow_factory, world, scope: RoundScope) -> tuple[dict[str, str], object]:
    """Propose with `scope`, confirm, approve: population.tsv as {code: stratum}, and the report."""
    round_id = await proposed_and_confirmed(uow_factory, world, scope=scope)
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    async with uow_factory() as uow:
        draw = await uow.rounds.draw_of(round_id)
        population = dict(proof.parse_population_tsv(await uow.rounds.file(draw.id, "population.tsv")))
    return population, report


async def assert_population(uow_factory, world, scope: RoundScope, expected: set[str]) -> None:
    population, report = await frozen_population(uow_factory, world, scope)
    assert set(population) == expected
    assert report.population == len(expected)
    async with uow_factory() as uow:
        risks = dict((await uow.session.execute(select(Target.code, Target.risk).where(Target.code.in_(expected)))).all())
    assert {s: e["n"] for s, e in report.strata.items() if e["n"]} == dict(Counter(risks[c] for c in expected))


async def test_scope_by_target_kind(uow_factory, world):
    await add_targets(
        uow_factory,
        [
            ("K-ENT", "enterprise", "F51", "SAMR", "A"),
            ("K-IND", "individual", "F51", "SAMR", "B"),
            ("K-PRJ", "project", "F51", "SAMR", "C"),
            ("K-BEH", "behaviour", "F51", "SAMR", "D"),
            ("K-ENT-GONE", "enterprise", "F51", "SAMR", "A"),
        ],
    )
    await assert_population(uow_factory, world, RoundScope(kinds=("enterprise", "project")), {"K-ENT", "K-PRJ"})
    await assert_population(uow_factory, world, RoundScope(kinds=("product",)), BASE_CODES)
    await assert_population(uow_factory, world, RoundScope(), BASE_CODES | {"K-ENT", "K-IND", "K-PRJ", "K-BEH"})


async def test_scope_by_industry_is_a_code_prefix(uow_factory, world):
    await add_targets(
        uow_factory,
        [
            ("I-F512", "product", "F512", "SAMR", "A"),
            ("I-F5121", "product", "F5121", "SAMR", "B"),
            ("I-F5", "product", "F5", "SAMR", "C"),
            ("I-F", "product", "F", "SAMR", "D"),
            ("I-E51", "product", "E51", "SAMR", "A"),
            ("I-F52", "product", "F52", "SAMR", "B"),
            ("I-F521", "product", "F521", "SAMR", "C"),
            ("I-NONE", "product", "", "SAMR", "D"),
        ],
    )
    # F51 covers its groups and classes (F512, F5121) but not its section alone, nor another division
    await assert_population(uow_factory, world, RoundScope(industries=("F51",)), BASE_CODES | {"I-F512", "I-F5121"})
    # a narrower code does not take in the broader ones
    await assert_population(uow_factory, world, RoundScope(industries=("F512",)), {"I-F512", "I-F5121"})
    # several industries: any of them
    await assert_population(uow_factory, world, RoundScope(industries=("F52", "E")), {"I-F52", "I-F521", "I-E51"})


async def test_scope_by_responsible_department_matches_whole_codes(uow_factory, world):
    for code in ("TAXI", "XTAX", "TA_"):
        await step(uow_factory, add_department, OPERATOR, code, f"{code}局")
    await add_targets(
        uow_factory,
        [
            ("D-TAX", "product", "F51", "TAX", "A"),
            ("D-EPB-TAX", "product", "F51", "EPB;TAX", "B"),
            ("D-TAX-TAXI", "product", "F51", "TAX;TAXI", "C"),
            ("D-SAMR-TAXI", "product", "F51", "SAMR;TAXI", "D"),
            ("D-TAXI", "product", "F51", "TAXI", "A"),
            ("D-XTAX", "product", "F51", "XTAX", "B"),
            ("D-TA_", "product", "F51", "TA_", "C"),
            ("D-EPB", "product", "F51", "EPB", "D"),
            ("D-TAX-GONE", "product", "F51", "TAX", "A"),
        ],
    )
    await assert_population(
        uow_factory,
        world,
        RoundScope(departments=("TAX",)),
        BASE_WITH_TAX | {"D-TAX", "D-EPB-TAX", "D-TAX-TAXI"},
    )
    await assert_population(uow_factory, world, RoundScope(departments=("TAXI",)), {"D-TAX-TAXI", "D-SAMR-TAXI", "D-TAXI"})
    # '_' is a LIKE wildcard: the department TA_ must not take in TAX's targets
    await assert_population(uow_factory, world, RoundScope(departments=("TA_",)), {"D-TA_"})
    await assert_population(uow_factory, world, RoundScope(departments=("XTAX", "EPB")), {"D-XTAX", "D-EPB", "D-EPB-TAX"})


# ---- item versions ---------------------------------------------------------------------------

CHANGED = {
    "code": "SAMR-001",
    "department": "SAMR",
    "name": "食品经营许可检查",
    "category": "general",
    "basis": "《食品安全法》第三十五条",
    "subject": "市场监管局",
    "content": "经营许可证有效期与经营范围",
    "method": "onsite",
    "object_kind": "product",
    "ratio_cap": 350,
}


async def import_items(uow_factory, path, records):
    write_table(path, "items", records)
    async with uow_factory() as uow:
        return await import_directory(uow, OPERATOR, "items", path)


async def round_item(uow_factory, round_id: int, code: str) -> dict:
    """The round's version of item `code`, as plain values read inside the unit of work."""
    async with uow_factory() as uow:
        item = next(i for i in await uow.rounds.items(round_id) if i.code == code)
        return {f: getattr(item, f) for f in ("id", "version", "is_current", "content", "basis", "ratio_cap")}


async def frozen_items(uow_factory, round_id: int) -> dict[str, int]:
    async with uow_factory() as uow:
        params = json.loads((await uow.rounds.draw_of(round_id)).params_json)
    return {i["code"]: i["version"] for i in params["items"]}


async def test_old_round_keeps_its_item_version_after_a_reimport(uow_factory, world, tmp_path):
    old_round = await proposed_and_confirmed(uow_factory, world)
    before = await round_item(uow_factory, old_round, "SAMR-001")
    assert (before["version"], before["is_current"], before["content"], before["ratio_cap"]) == (1, True, "", 400)

    result = await import_items(uow_factory, tmp_path / "items.csv", [CHANGED])
    assert result.imported and result.written == 1
    again = await import_items(uow_factory, tmp_path / "same.csv", [CHANGED])
    assert again.imported and again.written == 0  # unchanged content makes no third version

    async with uow_factory() as uow:
        versions = (
            (await uow.session.execute(select(CheckItem).where(CheckItem.code == "SAMR-001").order_by(CheckItem.version))).scalars().all()
        )
        assert [(v.version, v.is_current) for v in versions] == [(1, False), (2, True)]
        assert versions[0].id == before["id"] and versions[0].content == "" and versions[0].ratio_cap == 400
        assert versions[1].content == CHANGED["content"] and versions[1].ratio_cap == 350
        new_id = versions[1].id

    # the round proposed before the import still checks version 1, also once approved and frozen
    kept = await round_item(uow_factory, old_round, "SAMR-001")
    assert kept == {**before, "is_current": False}
    await step(uow_factory, approve_round, world.actors["convener"], old_round, TODAY)
    assert await frozen_items(uow_factory, old_round) == {"SAMR-001": 1, "SAMR-K01": 1, "TAX-001": 1}
    assert (await round_item(uow_factory, old_round, "SAMR-001"))["id"] == before["id"]

    # a round proposed afterwards gets version 2, with its content and its lower cap
    new_round = await proposed_and_confirmed(uow_factory, world, title="2027年食品联合抽查")
    fresh = await round_item(uow_factory, new_round, "SAMR-001")
    assert fresh == {
        "id": new_id,
        "version": 2,
        "is_current": True,
        "content": CHANGED["content"],
        "basis": CHANGED["basis"],
        "ratio_cap": 350,
    }
    await step(uow_factory, approve_round, world.actors["convener"], new_round, TODAY)
    assert await frozen_items(uow_factory, new_round) == {"SAMR-001": 2, "SAMR-K01": 1, "TAX-001": 1}
    with pytest.raises(InvalidInput, match=r"above the cap 350‰ of item SAMR-001"):
        await step(uow_factory, propose_round, world.actors["samr"], proposal(ratios={"A": 380}))
