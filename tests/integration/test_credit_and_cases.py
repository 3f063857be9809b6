"""Cases (个案) and the credit loop through the core services: a case's task, its exclusion from
draws, its results moving the target's class, and what a frozen round does not see."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from jointcheck.core import public_proof as proof
from jointcheck.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from jointcheck.core.models import AuditEvent, Case, CreditChange, Target, Task
from jointcheck.core.services.cases import close_case, list_cases, open_case
from jointcheck.core.services.credit import target_history
from jointcheck.core.services.results import publish_results, record_result, review_results, submit_results, task_detail
from jointcheck.core.services.rounds import RoundScope, approve_round
from tests.integration.test_round_lifecycle import TODAY, proposed_and_confirmed
from tests.round_world import build_world, step


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def at(uow_factory, when: dt.datetime, fn, *args, **kw):
    """One service call in its own committed unit of work, with the clock at `when`."""
    async with uow_factory(lambda: when) as uow:
        result = await fn(uow, *args, **kw)
        await uow.commit()
        return result


async def inspected(uow_factory, world, code: str, categories: dict[str, str], when: dt.datetime):
    """A SAMR case on `code`, its results recorded, accepted and published at `when`."""
    view = await at(uow_factory, when, open_case, world.actors["samr"], "SAMR", code, "complaint", ("SAMR-00",), summary="投诉")
    inspector = world.actors["inspector"]
    detail = await at(uow_factory, when, task_detail, inspector, view.task_id)
    ids = {i.item_code: i.item_id for i in detail.items}
    for item, category in categories.items():
        await at(uow_factory, when, record_result, inspector, view.task_id, ids[item], category)
    await at(uow_factory, when, submit_results, inspector, view.task_id)
    await at(uow_factory, when, review_results, world.actors["samr"], view.task_id, "SAMR", accept=True)
    await at(uow_factory, when, publish_results, world.actors["samr"], view.round_id, "SAMR")
    return view


async def risk_of(uow_factory, code: str) -> str:
    async with uow_factory() as uow:
        return (await uow.session.execute(select(Target.risk).where(Target.code == code))).scalar_one()


WHEN = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


async def test_a_case_makes_an_immediate_task_for_named_inspectors(uow_factory, world):
    view = await step(
        uow_factory,
        open_case,
        world.actors["samr"],
        "SAMR",
        "T0005",
        "referral",
        ("SAMR-00", "SAMR-01"),
        summary="税务局转办",
        items=("SAMR-001",),
    )
    assert (view.status, view.source, view.target_code) == ("open", "referral", "T0005")
    detail = await step(uow_factory, task_detail, world.actors["inspector"], view.task_id)
    assert [i.item_code for i in detail.items] == ["SAMR-001"]
    assert sorted(m.inspector_id for m in detail.team) and {m.department_code for m in detail.team} == {"SAMR"}
    async with uow_factory() as uow:
        task = await uow.session.get(Task, view.task_id)
        assert (task.source, task.status) == ("case", "assigned")
        events = (await uow.session.execute(select(AuditEvent.action).where(AuditEvent.entity == "case"))).scalars().all()
    assert events == ["case.opened"]
    assert [c.case_id for c in await step(uow_factory, list_cases, world.actors["samr"])] == [view.case_id]
    assert [c.case_id for c in await step(uow_factory, list_cases, world.actors["convener"])] == [view.case_id]
    assert await step(uow_factory, list_cases, world.actors["tax"]) == []


async def test_case_refusals_change_nothing(uow_factory, world):
    samr = world.actors["samr"]
    with pytest.raises(PermissionDenied):
        await step(uow_factory, open_case, world.actors["tax"], "SAMR", "T0005", "complaint", ("SAMR-00",))
    with pytest.raises(NotFound):
        await step(uow_factory, open_case, samr, "SAMR", "T0005", "complaint", ("TAX-00",))
    with pytest.raises(InvalidInput):
        await step(uow_factory, open_case, samr, "SAMR", "T0005", "gossip", ("SAMR-00",))
    with pytest.raises(InvalidInput):
        await step(uow_factory, open_case, samr, "SAMR", "T0005", "complaint", ())
    with pytest.raises(NotFound):
        await step(uow_factory, open_case, samr, "SAMR", "NOPE", "complaint", ("SAMR-00",))
    async with uow_factory() as uow:
        assert (await uow.session.execute(select(Case))).first() is None
    view = await step(uow_factory, open_case, samr, "SAMR", "T0005", "complaint", ("SAMR-00",))
    with pytest.raises(Conflict):
        await step(uow_factory, open_case, samr, "SAMR", "T0005", "complaint", ("SAMR-01",))
    with pytest.raises(NotFound):  # another department's case does not exist for TAX
        await step(uow_factory, close_case, world.actors["tax"], view.case_id, "不是我们的")
    with pytest.raises(InvalidInput):
        await step(uow_factory, close_case, samr, view.case_id, " ")
    closed = await step(uow_factory, close_case, samr, view.case_id, "投诉不实")
    assert closed.status == "closed"
    with pytest.raises(Conflict):
        await step(uow_factory, close_case, samr, view.case_id, "again")


async def test_an_open_case_keeps_its_target_out_of_the_draw_and_the_frozen_files_say_so(uow_factory, world):
    # Before any case: the frozen params.json has no exclusion key (draw-v1 as ever).
    plain = await proposed_and_confirmed(uow_factory, world, cooling_off_days={})
    await step(uow_factory, approve_round, world.actors["convener"], plain, TODAY)
    view = await step(uow_factory, open_case, world.actors["samr"], "SAMR", "T0005", "complaint", ("SAMR-00",))
    await step(uow_factory, open_case, world.actors["samr"], "SAMR", "T0006", "monitoring", ("SAMR-01",))
    round_id = await proposed_and_confirmed(uow_factory, world, cooling_off_days={})
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    async with uow_factory() as uow:
        files = {}
        for rid in (plain, round_id):
            draw = await uow.rounds.draw_of(rid)
            files[rid] = {n: await uow.rounds.file(draw.id, n) for n in ("params.json", "population.tsv", "excluded.tsv")}
    population = dict(proof.parse_population_tsv(files[round_id]["population.tsv"]))
    assert "T0005" not in population and "T0006" not in population
    assert report.population == 198
    assert files[round_id]["excluded.tsv"] == b"T0005\topen_case\nT0006\topen_case\n"
    params = proof.parse_params(files[round_id]["params.json"])  # still valid draw-v1 for the standalone verifier
    assert params["excluded"] == {"open_case": {"n": 2, "sha256": proof.sha256_hex(files[round_id]["excluded.tsv"])}}
    assert "excluded" not in json.loads(files[plain]["params.json"]) and files[plain]["excluded.tsv"] is None
    assert {"T0005", "T0006"} <= dict(proof.parse_population_tsv(files[plain]["population.tsv"])).keys()
    # Closed, the target is drawn at random again.
    await step(uow_factory, close_case, world.actors["samr"], view.case_id, "投诉不实")
    again = await proposed_and_confirmed(uow_factory, world, cooling_off_days={})
    assert (await step(uow_factory, approve_round, world.actors["convener"], again, TODAY)).population == 199


async def test_a_special_round_draws_exactly_from_the_targets_of_recent_cases(uow_factory, world):
    # T0009 a recent complaint (closed), T0010 an old one, T0011 a monitoring lead: only T0009 qualifies.
    recent = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    async with uow_factory() as uow:
        for code, source, opened in (
            ("T0009", "complaint", recent),
            ("T0010", "complaint", recent - dt.timedelta(days=400)),
            ("T0011", "monitoring", recent),
        ):
            uow.session.add(
                Case(target_code=code, department_id=world.department_ids["SAMR"], source=source, status="closed", opened_at=opened)
            )
        await uow.commit()
    with pytest.raises(InvalidInput):  # recent cases make a special round, not a regular one
        await proposed_and_confirmed(uow_factory, world, scope=RoundScope(case_sources=("complaint",)))
    round_id = await proposed_and_confirmed(
        uow_factory,
        world,
        kind="special",
        ratios={"A": 300, "B": 300, "C": 300, "D": 300},
        cooling_off_days={},
        scope=RoundScope(case_sources=("complaint",), case_days=365),
    )
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    tagged = await proposed_and_confirmed(
        uow_factory,
        world,
        kind="special",
        ratios={"A": 300, "B": 300, "C": 300, "D": 300},
        cooling_off_days={},
        scope=RoundScope(tags=("食品",), industries=("F51",)),
    )
    await step(uow_factory, approve_round, world.actors["convener"], tagged, TODAY)
    async with uow_factory() as uow:
        populations = {}
        for rid in (round_id, tagged):
            draw = await uow.rounds.draw_of(rid)
            populations[rid] = dict(proof.parse_population_tsv(await uow.rounds.file(draw.id, "population.tsv")))
        params = proof.parse_params(await uow.rounds.file((await uow.rounds.draw_of(round_id)).id, "params.json"))
    assert populations[round_id] == {"T0009": "B"}
    assert params["scope"]["case_sources"] == ["complaint"] and params["strata"] == {"B": {"n": 1, "permille": 300, "k": 1}}
    assert set(populations[tagged]) == {f"T{i:04d}" for i in range(200) if i % 3 == 0}


async def test_published_results_move_the_class_audited_and_in_the_history(uow_factory, world):
    assert await risk_of(uow_factory, "T0005") == "B"
    view = await inspected(uow_factory, world, "T0005", {"SAMR-001": "A", "SAMR-K01": "1"}, WHEN)
    assert await risk_of(uow_factory, "T0005") == "C"
    async with uow_factory() as uow:
        change = (await uow.session.execute(select(CreditChange))).scalar_one()
        event = (await uow.session.execute(select(AuditEvent).where(AuditEvent.action == "credit.changed"))).scalar_one()
        case = (await uow.session.execute(select(Case))).scalar_one()
        assert (change.from_class, change.to_class, change.reason, change.categories) == ("B", "C", "raise", "A")
        assert json.loads(event.payload)["to"] == "C" and event.entity_id == "T0005"
        assert case.status == "closed"  # publishing the case's results closed it
    history = await step(uow_factory, target_history, world.actors["convener"], "T0005")
    assert history.risk == "C"
    assert [(c.from_class, c.to_class, c.round_id) for c in history.changes] == [("B", "C", view.round_id)]
    assert sorted((r.item_code, r.category) for r in history.results) == [("SAMR-001", "A"), ("SAMR-K01", "1")]
    with pytest.raises(NotFound):
        await step(uow_factory, target_history, world.actors["other_convener"], "T0005")
    # Two clean inspections a year apart lower it again; the problem counts once, not twice.
    await inspected(uow_factory, world, "T0005", {"SAMR-001": "1", "SAMR-K01": "1"}, WHEN + dt.timedelta(days=10))
    assert await risk_of(uow_factory, "T0005") == "C"
    await inspected(uow_factory, world, "T0005", {"SAMR-001": "1", "SAMR-K01": "F"}, WHEN + dt.timedelta(days=380))
    assert await risk_of(uow_factory, "T0005") == "B"
    history = await step(uow_factory, target_history, world.actors["samr"], "T0005")
    assert [(c.reason, c.from_class, c.to_class) for c in history.changes] == [("lower", "C", "B"), ("raise", "B", "C")]


async def test_a_frozen_round_keeps_the_old_class_and_the_next_follows_the_new_one(uow_factory, world):
    frozen = await proposed_and_confirmed(uow_factory, world, cooling_off_days={})
    await step(uow_factory, approve_round, world.actors["convener"], frozen, TODAY)
    await inspected(uow_factory, world, "T0005", {"SAMR-001": "C", "SAMR-K01": "1"}, WHEN)  # false disclosure: B → D
    later = await proposed_and_confirmed(uow_factory, world, cooling_off_days={})
    await step(uow_factory, approve_round, world.actors["convener"], later, TODAY)
    async with uow_factory() as uow:
        strata = {}
        for rid in (frozen, later):
            draw = await uow.rounds.draw_of(rid)
            strata[rid] = dict(proof.parse_population_tsv(await uow.rounds.file(draw.id, "population.tsv")))["T0005"]
    assert strata == {frozen: "B", later: "D"}


async def test_a_published_result_of_any_department_starts_every_department_s_cooling_off(uow_factory, world):
    # SAMR inspects T0005 (B → stays B: a clean result); a TAX-led round with 180 days for B leaves it out.
    when = dt.datetime.combine(TODAY - dt.timedelta(days=30), dt.time(10), tzinfo=dt.UTC)
    await inspected(uow_factory, world, "T0005", {"SAMR-001": "1", "SAMR-K01": "1"}, when)
    # T0002 is class C, which this round gives no cooling-off: inspected as recently, it stays in.
    await inspected(uow_factory, world, "T0002", {"SAMR-001": "1", "SAMR-K01": "1"}, when)
    from jointcheck.core.services.rounds import propose_round, respond_to_round
    from tests.round_world import proposal

    round_ = await step(
        uow_factory,
        propose_round,
        world.actors["tax"],
        proposal(
            lead="TAX",
            items=("TAX-001",),
            invited={"SAMR": 1},
            ratios={"A": 100, "B": 100, "C": 100, "D": 100},
            cooling_off_days={"B": 180},
            batch_size=None,
        ),
    )
    await step(uow_factory, respond_to_round, world.actors["samr"], round_.id, "SAMR", True, ("SAMR-001",))
    await step(uow_factory, approve_round, world.actors["convener"], round_.id, TODAY)
    async with uow_factory() as uow:
        draw = await uow.rounds.draw_of(round_.id)
        population = dict(proof.parse_population_tsv(await uow.rounds.file(draw.id, "population.tsv")))
    assert "T0005" not in population and "T0001" in population and "T0002" in population


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_round_with_exclusions_is_drawn_and_its_bundle_verifies_standalone(uow_factory, world, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from jointcheck.core.services.archive import archive_round
    from jointcheck.core.services.draw import run_draw
    from jointcheck.core.services.rounds import enter_seed
    from tests.integration.test_round_lifecycle import SEED

    await step(uow_factory, open_case, world.actors["samr"], "SAMR", "T0005", "complaint", ("SAMR-00",))
    round_id = await proposed_and_confirmed(uow_factory, world, cooling_off_days={})
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_id)
    zipped = tmp_path / "bundle.zip"
    await step(uow_factory, archive_round, world.actors["convener"], round_id, zipped)
    lone = tmp_path / "lone" / "public_proof.py"
    lone.parent.mkdir()
    lone.write_bytes(Path(proof.__file__).read_bytes())
    run = subprocess.run([sys.executable, "-I", "-S", str(lone), str(zipped)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "bundle OK" in run.stdout, run.stdout + run.stderr
    files = proof.read_bundle(zipped)
    assert "excluded.tsv" not in files and json.loads(files["params.json"])["excluded"]["open_case"]["n"] == 1


async def test_one_inspection_raises_by_its_largest_step_however_many_departments_publish(sessionmaker, uow_factory, world):
    from jointcheck.core.services.results import list_my_tasks
    from tests.integration.test_results import bind_inspectors, item_id, team_of
    from tests.integration.test_round_lifecycle import drawn_round

    round_id = await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    tasks, _ = await step(uow_factory, list_my_tasks, actors["SAMR-00"], limit=50)
    chosen = None
    for summary in tasks:
        team = await team_of(sessionmaker, summary.task_id)
        if team.get("TAX") and await risk_of(uow_factory, summary.target_code) in ("A", "B"):
            chosen, code = summary.task_id, summary.target_code
            break
    assert chosen is not None, "no task of SAMR-00 with a TAX teammate on a class A or B target"
    before = await risk_of(uow_factory, code)
    ladder = "ABCD"

    async def publish(department: str, who: str, categories: dict[str, str]) -> None:
        detail = await step(uow_factory, task_detail, actors[who], chosen)
        for item, category in categories.items():
            await step(uow_factory, record_result, actors[who], chosen, item_id(detail, item), category)
        await step(uow_factory, submit_results, actors[who], chosen)
        await step(uow_factory, review_results, world.actors[department.lower()], chosen, department, accept=True)
        await step(uow_factory, publish_results, world.actors[department.lower()], round_id, department)

    await publish("SAMR", "SAMR-00", {"SAMR-001": "A", "SAMR-K01": "1"})
    assert await risk_of(uow_factory, code) == ladder[ladder.index(before) + 1]
    tax_inspector = (await team_of(sessionmaker, chosen))["TAX"][0]
    await publish("TAX", tax_inspector, {"TAX-001": "E"})  # a step of 1 again: the same inspection, no second raise
    assert await risk_of(uow_factory, code) == ladder[ladder.index(before) + 1]
    history = await step(uow_factory, target_history, world.actors["convener"], code)
    assert [(c.reason, c.from_class) for c in history.changes] == [("raise", before)]


async def test_the_results_report_gives_the_class_once_each_result_was_published(uow_factory, world, tmp_path):
    import csv

    from jointcheck.core.services.results_export import export_results

    first = await inspected(uow_factory, world, "T0005", {"SAMR-001": "A", "SAMR-K01": "1"}, WHEN)  # B → C
    second = await inspected(uow_factory, world, "T0005", {"SAMR-001": "1", "SAMR-K01": "1"}, WHEN + dt.timedelta(days=10))
    third = await inspected(uow_factory, world, "T0005", {"SAMR-001": "1", "SAMR-K01": "F"}, WHEN + dt.timedelta(days=380))  # C → B
    report = tmp_path / "results.csv"
    await step(uow_factory, export_results, world.actors["samr"], report, department="SAMR")
    rows = list(csv.DictReader(report.open(encoding="utf-8-sig")))
    after = {(int(r["抽查任务编号"]), r["抽查事项编码"]): r["公示后信用风险分类"] for r in rows}
    assert {k: v for k, v in after.items() if k[0] in (first.round_id, second.round_id, third.round_id)} == {
        (first.round_id, "SAMR-001"): "C",
        (first.round_id, "SAMR-K01"): "C",
        (second.round_id, "SAMR-001"): "C",
        (second.round_id, "SAMR-K01"): "C",
        (third.round_id, "SAMR-001"): "B",
        (third.round_id, "SAMR-K01"): "B",
    }
    assert {r["检查类型"] for r in rows} == {"定向检查"}
