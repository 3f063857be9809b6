"""A joint round from proposal to tasks, and every refusal on the way (SPEC capabilities 3, 4, 8)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from jointcheck.core import public_proof as proof
from jointcheck.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from jointcheck.core.models import AuditEvent, Case, Inspector, OutboxMessage, Target, Task, TeamMember
from jointcheck.core.services.archive import archive_round
from jointcheck.core.services.audit_heads import published_heads
from jointcheck.core.services.draw import run_draw, short_teams, staff_by_hand
from jointcheck.core.services.rounds import approve_round, enter_seed, get_round, list_rounds, propose_round, respond_to_round
from tests.round_world import build_world, proposal, step

SEED = "3141 5926 5358 9793 2384 6264"
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def proposed_and_confirmed(uow_factory, world, **overrides) -> int:
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(**overrides))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await step(uow_factory, respond_to_round, world.actors["epb"], round_.id, "EPB", False)
    return round_.id


async def drawn_round(uow_factory, world, **overrides) -> int:
    round_id = await proposed_and_confirmed(uow_factory, world, **overrides)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_id)
    return round_id


async def test_whole_round_and_its_bundle_verifies_standalone(uow_factory, world, tmp_path):
    round_id = await proposed_and_confirmed(uow_factory, world)
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    assert report.population == 200
    assert report.strata == {
        "A": {"k": 5, "n": 50, "permille": 100},
        "B": {"k": 10, "n": 50, "permille": 200},
        "C": {"k": 15, "n": 50, "permille": 300},
        "D": {"k": 15, "n": 50, "permille": 300},
    }
    material = await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    assert material.startswith("314159265358979323846264;") and len(material.split(";")[1]) == 64
    drawn = await step(uow_factory, run_draw, world.actors["convener"], round_id)
    assert drawn.selected == 45 and drawn.unstaffed == []
    assert drawn.assignments == 45 * 3  # SAMR 2 + TAX 1 per target; EPB declined

    async with uow_factory() as uow:
        tasks = (await uow.session.execute(select(Task).where(Task.round_id == round_id).order_by(Task.visit_order))).scalars().all()
        assert [t.visit_order for t in tasks] == list(range(45))
        assert [t.batch for t in tasks] == [o // 5 + 1 for o in range(45)]  # key item SAMR-K01: batches of 5
        assert all(t.due_date == dt.date(2026, 12, 31) for t in tasks)
        members = (await uow.session.execute(select(func.count()).select_from(TeamMember))).scalar_one()
        assert members == 135
        outbox = {m.template for m in (await uow.session.execute(select(OutboxMessage))).scalars()}
        assert {"round_invitation", "round_response", "round_commitment", "round_seed", "round_drawn", "tasks_assigned"} <= outbox

    async with uow_factory() as uow:
        folder = await archive_round(uow, world.actors["samr"], round_id, tmp_path / "bundle")
        await uow.commit()
    assert proof.verify_bundle(folder).ok
    # the manifest carries the whole chain's head when the bundle was made, and a head was published
    # at the approval and at the draw
    manifest = json.loads((folder / "manifest.json").read_bytes())
    async with uow_factory() as uow:
        heads = await published_heads(uow)
        chain = [(e.seq, e.hash) for e in (await uow.session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()]
    assert manifest["audit_head"] == {"seq": chain[-2][0], "hash": chain[-2][1]}  # the last event is the archiving itself
    assert [(h.occasion, h.round_id) for h in heads] == [("round.drawn", round_id), ("round.approved", round_id)]
    assert all((h.seq, h.hash) in chain for h in heads)
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)  # a head from before the round's own events cannot be its bundle's
    (bad / "manifest.json").write_bytes(proof.canonical_json({**manifest, "audit_head": {"seq": 1, "hash": chain[0][1]}}))
    assert not proof.verify_bundle(bad).ok
    zipped = tmp_path / "bundle.zip"
    async with uow_factory() as uow:
        await archive_round(uow, world.actors["convener"], round_id, zipped)
        await uow.commit()
    lone = tmp_path / "lone" / "public_proof.py"
    lone.parent.mkdir()
    lone.write_bytes(Path(proof.__file__).read_bytes())
    run = subprocess.run([sys.executable, "-I", "-S", str(lone), str(zipped)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "bundle OK" in run.stdout
    events = [json.loads(line)["action"] for line in (folder / "audit.jsonl").read_text().splitlines()]
    assert events[:4] == ["round.proposed", "round.confirmed", "round.declined", "round.approved"]
    assert "round.seeded" in events and "round.drawn" in events


async def test_the_draw_is_the_recipe_over_the_published_files(uow_factory, world, tmp_path):
    round_id = await drawn_round(uow_factory, world)
    async with uow_factory() as uow:
        folder = await archive_round(uow, world.actors["samr"], round_id, tmp_path / "b")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    key = proof.draw_key(files["params.json"], files["seed.txt"].decode().strip())
    params = json.loads(files["params.json"])
    expected = proof.select(key, proof.parse_population_tsv(files["population.tsv"]), proof.k_by_stratum(params))
    assert files["selected.tsv"] == proof.selected_tsv(expected)
    async with uow_factory() as uow:
        assert proof.sha256_hex(files["params.json"]) == (await uow.rounds.draw_of(round_id)).commitment


async def _inspected(uow, codes_and_days: dict[str, float], lead_id: int) -> None:
    """Tasks completed that many days before TODAY (Beijing time), in an earlier round of another kind."""
    from jointcheck.core.clock import DOMAIN_TZ
    from jointcheck.core.models import Round

    earlier = Round(lead_department_id=lead_id, title="上一轮", region="440100", status="drawn")
    uow.session.add(earlier)
    await uow.session.flush()
    midnight = dt.datetime.combine(TODAY, dt.time(), DOMAIN_TZ)
    for order, (code, days) in enumerate(codes_and_days.items()):
        target_id = (await uow.session.execute(select(Target.id).where(Target.code == code))).scalar_one()
        uow.session.add(
            Task(
                round_id=earlier.id,
                target_id=target_id,
                stratum="x",
                ticket="00",
                visit_order=order,
                completed_at=midnight - dt.timedelta(days=days),
            )
        )


async def test_exclusions_deregistered_cooling_off_open_case(uow_factory, world):
    async with uow_factory() as uow:
        await uow.session.execute(update(Target).where(Target.code == "T0000").values(status="deregistered"))
        # class A (T0004, T0008) cools off for 365 days, class B (T0001, T0005) for 180, C (T0002) not at all
        await _inspected(
            uow,
            {
                "T0004": 100,
                "T0008": 400,
                "T0001": 179.9,
                "T0005": 180.1,
                "T0002": 1,
                "T0012": 365,
            },
            world.department_ids["SAMR"],
        )
        uow.session.add(Case(target_code="T0003", department_id=world.department_ids["SAMR"], source="complaint", summary="投诉"))
        uow.session.add(
            Case(target_code="T0007", department_id=world.department_ids["SAMR"], source="complaint", summary="已结", status="closed")
        )
        await uow.commit()
    round_id = await proposed_and_confirmed(uow_factory, world)
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    async with uow_factory() as uow:
        draw = await uow.rounds.draw_of(round_id)
        population = dict(proof.parse_population_tsv(await uow.rounds.file(draw.id, "population.tsv")))
    excluded = {"T0000", "T0004", "T0001", "T0003", "T0012"}  # T0012: exactly 365 days ago is still inside
    assert excluded.isdisjoint(population)
    assert {"T0008", "T0005", "T0002", "T0007"} <= set(population)
    assert report.population == 200 - len(excluded)


async def test_scope_filters_and_region_strata(uow_factory, world):
    from jointcheck.core.services.rounds import RoundScope

    round_id = await proposed_and_confirmed(
        uow_factory,
        world,
        scope=RoundScope(regions=("440106",), tags=("食品",), stratify_by_region=True),
    )
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    expected = [i for i in range(200) if i % 4 and i % 3 == 0]
    assert report.population == len(expected)
    assert set(report.strata) == {f"{c}/440106" for c in "BCD"}


async def test_ratio_above_an_items_cap_is_refused_naming_the_item(uow_factory, world):
    with pytest.raises(InvalidInput, match=r"above the cap 400‰ of item SAMR-001"):
        await step(uow_factory, propose_round, world.actors["samr"], proposal(ratios={"A": 401}))
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(ratios={"A": 350}))
    with pytest.raises(InvalidInput, match=r"above the cap 300‰ of item TAX-001"):
        await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"invited": {"SAMR": 1, "TAX": 1}}, "cannot invite itself"),
        ({"invited": {}}, "at least one other department"),
        ({"items": ("TAX-001",)}, "not a current item of SAMR"),
        ({"items": ()}, "at least one item"),
        ({"ratios": {"E": 10}}, "not one of A, B, C, D"),
        ({"ratios": {"A": 0}}, "draw nothing"),
        ({"region": "4401"}, "6-digit"),
        ({"invited": {"NOPE": 1}}, "no department"),
        ({"lead_team_size": 0}, "team size"),
        ({"due_date": dt.date(2026, 11, 1)}, "before the draw"),
    ],
)
async def test_proposal_refusals(uow_factory, world, overrides, message):
    with pytest.raises((InvalidInput, NotFound), match=message):
        await step(uow_factory, propose_round, world.actors["samr"], proposal(**overrides))


async def test_only_the_leads_officer_proposes(uow_factory, world):
    with pytest.raises(PermissionDenied):
        await step(uow_factory, propose_round, world.actors["tax"], proposal())
    with pytest.raises(PermissionDenied):
        await step(uow_factory, propose_round, world.actors["convener"], proposal())


async def test_answers_are_the_invited_departments_own(uow_factory, world):
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal())
    with pytest.raises(PermissionDenied):
        await step(uow_factory, respond_to_round, world.actors["epb"], round_.id, "TAX", True, ("TAX-001",))
    with pytest.raises(NotFound):
        await step(uow_factory, respond_to_round, world.actors["samr"], round_.id, "SAMR", True, ("SAMR-001",))
    with pytest.raises(InvalidInput, match="not a current item of TAX"):
        await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("EPB-001",))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    with pytest.raises(Conflict, match="answered"):
        await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", False)


async def test_no_confirmed_participant_no_approval(uow_factory, world):
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal())
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", False)
    with pytest.raises(InvalidInput, match="no confirmed participant"):
        await step(uow_factory, approve_round, world.actors["convener"], round_.id, TODAY)


async def test_approval_is_the_conveners_and_freezes(uow_factory, world):
    round_id = await proposed_and_confirmed(uow_factory, world)
    with pytest.raises(PermissionDenied):
        await step(uow_factory, approve_round, world.actors["samr"], round_id, TODAY)
    # To those who may not see the round, it answers exactly as a round that does not exist.
    for who in ("other_convener", "inspector"):
        with pytest.raises(NotFound, match=f"round {round_id} not found"):
            await step(uow_factory, approve_round, world.actors[who], round_id, TODAY)
    with pytest.raises(NotFound, match="round 9999 not found"):
        await step(uow_factory, approve_round, world.actors["other_convener"], 9999, TODAY)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    with pytest.raises(Conflict):
        await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    with pytest.raises(Conflict, match="answers are closed"):
        await step(uow_factory, respond_to_round, world.actors["epb"], round_id, "EPB", True, ("EPB-001",))


async def test_pool_too_small_is_reported_at_approval(uow_factory, world):
    round_id = await proposed_and_confirmed(uow_factory, world, invited={"TAX": 5, "EPB": 1})
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    [warning] = report.warnings
    assert (warning.department, warning.pool, warning.team_size, warning.targets, warning.certain) == ("TAX", 4, 5, 45, True)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    drawn = await step(uow_factory, run_draw, world.actors["convener"], round_id)
    assert len(drawn.unstaffed) == 45 and {d for _, d in drawn.unstaffed} == {"TAX"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("1234", "20"),
        ("1" * 201, "200"),
        ("12345678901234567890x", "'x'"),
    ],
)
async def test_seed_digits_are_validated(uow_factory, world, text, message):
    round_id = await proposed_and_confirmed(uow_factory, world)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    with pytest.raises(InvalidInput, match=message):
        await step(uow_factory, enter_seed, world.actors["convener"], round_id, text)


async def test_a_seed_typed_in_full_width_digits_is_its_ascii_digits(uow_factory, world):
    round_id = await proposed_and_confirmed(uow_factory, world)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    material = await step(uow_factory, enter_seed, world.actors["convener"], round_id, "１２３４５　６７８９０１２３４５６７８９０")
    assert material.startswith("12345678901234567890;")  # what is hashed and published is ASCII


async def test_order_of_steps_is_enforced(uow_factory, world):
    round_id = await proposed_and_confirmed(uow_factory, world)
    with pytest.raises(Conflict):
        await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)  # before approval
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    with pytest.raises(Conflict):
        await step(uow_factory, run_draw, world.actors["convener"], round_id)  # before the seed
    with pytest.raises(PermissionDenied):
        await step(uow_factory, enter_seed, world.actors["samr"], round_id, SEED)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    with pytest.raises(Conflict):
        await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_id)
    with pytest.raises(Conflict, match="no redraw"):
        await step(uow_factory, run_draw, world.actors["convener"], round_id)


async def test_concurrent_draws_happen_once(uow_factory, world):
    round_id = await proposed_and_confirmed(uow_factory, world)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    outcomes = await asyncio.gather(
        *(step(uow_factory, run_draw, world.actors["convener"], round_id) for _ in range(3)), return_exceptions=True
    )
    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, Exception)), outcomes
    async with uow_factory() as uow:
        assert await uow.rounds.task_count(round_id) == 45


async def _short_teams_by_hand(uow_factory, round_id: int) -> list[tuple]:
    """What short_teams must list, counted in Python over every task and participant."""
    async with uow_factory() as uow:
        tasks = (
            await uow.session.execute(
                select(Task.id, Task.visit_order, Target.code).join(Target, Target.id == Task.target_id).where(Task.round_id == round_id)
            )
        ).all()
        shorts = []
        for p, d in await uow.rounds.participants(round_id):
            if p.status != "confirmed":
                continue
            for task_id, order, code in tasks:
                members = sum(1 for m, _ in await uow.rounds.team(task_id) if m.department_id == d.id and m.source != "expert")
                if members < p.team_size:
                    shorts.append((order, d.code, task_id, code, members, p.team_size))
    return [(task_id, code, dept, members, size) for _, dept, task_id, code, members, size in sorted(shorts)]


async def test_staffing_by_hand(uow_factory, world):
    round_id = await drawn_round(uow_factory, world, invited={"TAX": 5, "EPB": 1})
    async with uow_factory() as uow:
        task_id = (await uow.session.execute(select(Task.id).where(Task.round_id == round_id, Task.visit_order == 0))).scalar_one()
    # the short teams are listed, in visit order, for the participants' officers and the convener
    expected = await _short_teams_by_hand(uow_factory, round_id)
    assert len(expected) >= 3 and any(t == task_id and dept == "TAX" for t, _, dept, _, _ in expected)
    async with uow_factory() as uow:
        for who in ("tax", "samr", "convener"):
            listed = await short_teams(uow, world.actors[who], round_id)
            assert [(s.task_id, s.target_code, s.department, s.members, s.team_size) for s in listed] == expected
        page = await short_teams(uow, world.actors["tax"], round_id, offset=1, limit=2)
        assert [(s.task_id, s.department) for s in page] == [(t, d) for t, _, d, _, _ in expected[1:3]]
        with pytest.raises(NotFound):
            await short_teams(uow, world.actors["other_convener"], round_id)
        with pytest.raises((NotFound, PermissionDenied)):  # an inspector sees a round only when on a team
            await short_teams(uow, world.actors["inspector"], round_id)
    with pytest.raises(PermissionDenied):
        await step(uow_factory, staff_by_hand, world.actors["samr"], task_id, "TAX", "TAX-00", "缺人")
    with pytest.raises(InvalidInput, match="reason"):
        await step(uow_factory, staff_by_hand, world.actors["tax"], task_id, "TAX", "TAX-00", " ")
    with pytest.raises(NotFound):
        await step(uow_factory, staff_by_hand, world.actors["tax"], task_id, "TAX", "SAMR-00", "不是本部门")
    # experts come on top of the team: as many as places are missing fill none of them
    missing = next(size - members for t, _, dept, members, size in expected if t == task_id and dept == "TAX")
    async with uow_factory() as uow:
        for k in range(missing):
            uow.session.add(Inspector(cert_no=f"TAX-EXP{k}", name=f"税务专家{k}", department_id=world.department_ids["TAX"], kind="expert"))
        await uow.commit()
    for k in range(missing):
        await step(uow_factory, staff_by_hand, world.actors["tax"], task_id, "TAX", f"TAX-EXP{k}", "需要税务专家")
    member = await step(uow_factory, staff_by_hand, world.actors["tax"], task_id, "TAX", "TAX-00", "检查组人数不足，手工补充")
    assert member.source == "manual" and member.reason.startswith("检查组")
    with pytest.raises(Conflict):
        await step(uow_factory, staff_by_hand, world.actors["tax"], task_id, "TAX", "TAX-00", "again")
    expert = await step(uow_factory, staff_by_hand, world.actors["samr"], task_id, "SAMR", "SAMR-EXP", "需要专家")
    assert expert.source == "expert"
    # the member added by hand shortens TAX's shortfall on that task by one; the expert changes nothing
    after = await _short_teams_by_hand(uow_factory, round_id)
    was = next(e for e in expected if e[0] == task_id and e[2] == "TAX")
    assert [e for e in after if e[0] != task_id or e[2] != "TAX"] == [e for e in expected if e[0] != task_id or e[2] != "TAX"]
    assert [e for e in after if e[0] == task_id and e[2] == "TAX"] == ([(*was[:3], was[3] + 1, was[4])] if was[3] + 1 < was[4] else [])
    async with uow_factory() as uow:
        listed = await short_teams(uow, world.actors["tax"], round_id, limit=1000)
    assert [(s.task_id, s.target_code, s.department, s.members, s.team_size) for s in listed] == after


async def test_who_sees_a_round(uow_factory, world):
    round_id = await drawn_round(uow_factory, world)
    async with uow_factory() as uow:
        for who in ("samr", "tax", "epb", "convener"):
            assert (await get_round(uow, world.actors[who], round_id)).id == round_id
        with pytest.raises(NotFound):
            await get_round(uow, world.actors["other_convener"], round_id)
        assert [r.id for r in await list_rounds(uow, world.actors["other_convener"])] == []
        assert [r.id for r in await list_rounds(uow, world.actors["tax"])] == [round_id]
        on_team = await uow.session.execute(
            select(func.count())
            .select_from(TeamMember)
            .where(TeamMember.inspector_id == next(iter(world.actors["inspector"].inspector_ids())))
        )
        if on_team.scalar_one():
            assert [r.id for r in await list_rounds(uow, world.actors["inspector"])] == [round_id]
        else:
            assert await list_rounds(uow, world.actors["inspector"]) == []


async def test_the_database_itself_refuses_a_second_draw(uow_factory, world):
    """Even with the service's compare-and-set undone by hand, the unique constraints hold."""
    from sqlalchemy.exc import IntegrityError

    from jointcheck.core.models import Draw

    round_id = await drawn_round(uow_factory, world)
    async with uow_factory() as uow:
        await uow.session.execute(update(Draw).where(Draw.round_id == round_id).values(drawn_at=None))
        with pytest.raises(IntegrityError):
            await run_draw(uow, world.actors["convener"], round_id)
    async with uow_factory() as uow:
        assert await uow.rounds.task_count(round_id) == 45
        assert (await uow.rounds.draw_of(round_id)).drawn_at is not None


async def test_staffing_only_for_participants_and_short_teams(uow_factory, world):
    round_id = await drawn_round(uow_factory, world)
    async with uow_factory() as uow:
        task_id = (await uow.session.execute(select(Task.id).where(Task.round_id == round_id, Task.visit_order == 1))).scalar_one()
    with pytest.raises(InvalidInput, match="does not take part"):
        await step(uow_factory, staff_by_hand, world.actors["epb"], task_id, "EPB", "EPB-00", "EPB declined this round")
    async with uow_factory() as uow:
        on_team = {i.cert_no for _, i in await uow.rounds.team(task_id)}
    spare = next(f"SAMR-{k:02d}" for k in range(6) if f"SAMR-{k:02d}" not in on_team)
    with pytest.raises(Conflict, match="complete"):
        await step(uow_factory, staff_by_hand, world.actors["samr"], task_id, "SAMR", spare, "one more")
    with pytest.raises(NotFound, match=f"task {task_id} not found"):
        await step(uow_factory, staff_by_hand, world.actors["other_convener"], task_id, "SAMR", spare, "x")


async def test_teams_keep_the_frozen_department_of_an_inspector_moved_after_approval(uow_factory, world):
    from jointcheck.core.models import Inspector

    round_id = await proposed_and_confirmed(uow_factory, world)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    async with uow_factory() as uow:
        await uow.session.execute(
            update(Inspector).where(Inspector.cert_no.like("SAMR-0%")).values(department_id=world.department_ids["EPB"])
        )
        await uow.commit()
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_id)
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(Inspector.cert_no, TeamMember.department_id).join(Inspector, Inspector.id == TeamMember.inspector_id)
            )
        ).all()
    samr_members = [d for cert, d in rows if cert.startswith("SAMR-")]
    assert len(samr_members) == 90 and set(samr_members) == {world.department_ids["SAMR"]}


async def test_the_convener_sets_the_draw_time_until_the_draw(sessionmaker, uow_factory, world):
    from jointcheck.core.services.rounds import schedule_draw

    round_id = await proposed_and_confirmed(uow_factory, world)
    now = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)

    def at(clock_now):
        return lambda: uow_factory(lambda: clock_now)

    when = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    with pytest.raises(PermissionDenied):
        await step(at(now), schedule_draw, world.actors["samr"], round_id, when)
    with pytest.raises(NotFound):
        await step(at(now), schedule_draw, world.actors["other_convener"], round_id, when)
    with pytest.raises(InvalidInput, match="has passed"):
        await step(at(now), schedule_draw, world.actors["convener"], round_id, now - dt.timedelta(minutes=1))
    with pytest.raises(InvalidInput, match="due date"):
        await step(at(now), schedule_draw, world.actors["convener"], round_id, dt.datetime(2027, 1, 1, 2, 0, tzinfo=dt.UTC))
    round_ = await step(at(now), schedule_draw, world.actors["convener"], round_id, when)
    assert round_.draw_at == when
    async with sessionmaker() as session:
        rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.template == "round_draw_scheduled"))).scalars().all()
    assert sorted(r.chat_id for r in rows) == [1000, 1001]  # the lead's and the confirmed participant's officers
    assert json.loads(rows[0].params)["draw_at"] == "2026-12-02 10:00"  # China's time
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_id)
    with pytest.raises(Conflict):
        await step(at(now), schedule_draw, world.actors["convener"], round_id, when)
