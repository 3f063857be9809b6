"""What the freeze reads and the draw writes, as rows: on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from jointcheck.core import public_proof as proof
from jointcheck.core.models import Department, Inspector, Target, Task, TeamMember
from jointcheck.core.repositories.rounds import RoundRepository
from jointcheck.core.services.draw import run_draw
from jointcheck.core.services.rounds import approve_round, enter_seed, propose_round, respond_to_round
from tests.round_world import build_world, proposal, step

SEED = "2718 2818 2845 9045 2353 6028"
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def approved(uow_factory, world) -> int:
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(cooling_off_days={}))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await step(uow_factory, respond_to_round, world.actors["epb"], round_.id, "EPB", False)
    await step(uow_factory, approve_round, world.actors["convener"], round_.id, TODAY)
    return round_.id


async def frozen_population(uow_factory, round_id: int) -> bytes:
    async with uow_factory() as uow:
        return await uow.rounds.file((await uow.rounds.draw_of(round_id)).id, "population.tsv")


async def test_tasks_and_teams_are_the_published_files_row_for_row(uow_factory, world):
    earlier = await approved(uow_factory, world)  # its tasks come first, so that ids do not start at 1
    await step(uow_factory, enter_seed, world.actors["convener"], earlier, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], earlier)
    round_id = await approved(uow_factory, world)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_id)

    async with uow_factory() as uow:
        draw = await uow.rounds.draw_of(round_id)
        selected = proof.parse_selected_tsv(await uow.rounds.file(draw.id, "selected.tsv"))
        assignments = proof.parse_assignments_tsv(await uow.rounds.file(draw.id, "assignments.tsv"))
        earlier_ids = (await uow.session.execute(select(Task.id).where(Task.round_id == earlier))).scalars().all()
        tasks = (
            await uow.session.execute(
                select(Task.id, Task.visit_order, Target.code, Task.stratum, Task.ticket, Task.batch, Task.due_date, Task.status)
                .join(Target, Target.id == Task.target_id)
                .where(Task.round_id == round_id)
                .order_by(Task.id)
            )
        ).all()
        members = (
            await uow.session.execute(
                select(Target.code, Department.code, Inspector.cert_no, TeamMember.position, TeamMember.source)
                .join(Task, Task.id == TeamMember.task_id)
                .join(Target, Target.id == Task.target_id)
                .join(Department, Department.id == TeamMember.department_id)
                .join(Inspector, Inspector.id == TeamMember.inspector_id)
                .where(Task.round_id == round_id)
                .order_by(TeamMember.id)
            )
        ).all()

    assert earlier_ids
    # Ids follow visit order, straight on from the tasks already there, whatever order the rows went in.
    assert [t.id for t in tasks] == list(range(max(earlier_ids) + 1, max(earlier_ids) + 1 + len(selected)))
    assert [t.visit_order for t in tasks] == list(range(len(selected)))
    assert [(t.code, t.stratum, t.ticket) for t in tasks] == [(tid, s, tick.hex()) for tid, s, tick in selected]
    assert [t.batch for t in tasks] == [order // 5 + 1 for order in range(len(selected))]  # key item, batch_size 5
    assert {(t.due_date, t.status) for t in tasks} == {(dt.date(2026, 12, 31), "assigned")}
    # Members in assignments.tsv order, each at its place in its department's team.
    assert [(code, dep, cert) for code, dep, cert, _, _ in members] == assignments
    places: dict[tuple[str, str], int] = {}
    for code, dep, _, position, source in members:
        assert position == places.get((code, dep), 0) and source == "draw"
        places[(code, dep)] = position + 1


async def test_population_is_sorted_by_code_bytes_even_where_lines_sort_otherwise(uow_factory, world):
    # "T0001\x05" sorts after "T0001" by code but before it by line ("\x05" < TAB): the freeze
    # must notice that the database's order is not the file's and sort again.
    async with uow_factory() as uow:
        template = (await uow.session.execute(select(Target).where(Target.code == "T0001"))).scalar_one()
        for code in ("T0001\x05", "T0001\x05\x01", "目标-甲"):
            uow.session.add(
                Target(
                    code=code,
                    name="x",
                    kind=template.kind,
                    region=template.region,
                    industry=template.industry,
                    risk=template.risk,
                    departments=template.departments,
                    tags="",
                    status="active",
                    address="",
                )
            )
        await uow.commit()
    round_id = await approved(uow_factory, world)
    rows = proof.parse_population_tsv(await frozen_population(uow_factory, round_id))
    ids = [tid for tid, _ in rows]
    assert ids == sorted(ids, key=lambda tid: tid.encode("utf-8"))
    assert {"T0001", "T0001\x05", "T0001\x05\x01", "目标-甲"} <= set(ids)
    assert len(rows) == 203


async def test_a_code_with_a_backslash_is_frozen_as_it_is(uow_factory, world):
    # PostgreSQL's COPY escapes a backslash and \b \f \v in its text: the freeze must not
    # publish the escaped form.
    async with uow_factory() as uow:
        template = (await uow.session.execute(select(Target).where(Target.code == "T0001"))).scalar_one()
        for code in ("T0001\\a", "T0002\x0b"):
            uow.session.add(
                Target(
                    code=code,
                    name="x",
                    kind=template.kind,
                    region=template.region,
                    industry=template.industry,
                    risk=template.risk,
                    departments=template.departments,
                    tags="",
                    status="active",
                    address="",
                )
            )
        await uow.commit()
    round_id = await approved(uow_factory, world)
    ids = [tid for tid, _ in proof.parse_population_tsv(await frozen_population(uow_factory, round_id))]
    assert {"T0001\\a", "T0002\x0b"} <= set(ids) and ids == sorted(ids, key=lambda tid: tid.encode("utf-8"))
    assert len(ids) == 202


async def test_a_code_that_cannot_be_published_stops_the_freeze(uow_factory, world):
    async with uow_factory() as uow:
        template = (await uow.session.execute(select(Target).where(Target.code == "T0001"))).scalar_one()
        uow.session.add(
            Target(
                code="T\t9",
                name="x",
                kind=template.kind,
                region=template.region,
                industry=template.industry,
                risk=template.risk,
                departments=template.departments,
                tags="",
                status="active",
                address="",
            )
        )
        await uow.commit()
    with pytest.raises(ValueError, match="contains a TAB"):
        await approved(uow_factory, world)


async def test_a_draw_that_fails_after_writing_tasks_leaves_nothing(uow_factory, world, monkeypatch):
    round_id = await approved(uow_factory, world)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    real_insert = RoundRepository.insert_drawn

    async def insert_then_fail(self, *args):
        await real_insert(self, *args)
        raise RuntimeError("the process died here")

    monkeypatch.setattr(RoundRepository, "insert_drawn", insert_then_fail)
    with pytest.raises(RuntimeError):
        await step(uow_factory, run_draw, world.actors["convener"], round_id)
    async with uow_factory() as uow:
        assert (await uow.rounds.draw_of(round_id)).drawn_at is None
        assert await uow.rounds.task_count(round_id) == 0
        assert (await uow.session.execute(select(TeamMember.id))).first() is None
    monkeypatch.setattr(RoundRepository, "insert_drawn", real_insert)
    drawn = await step(uow_factory, run_draw, world.actors["convener"], round_id)
    async with uow_factory() as uow:
        assert await uow.rounds.task_count(round_id) == drawn.selected > 0
