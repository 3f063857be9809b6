"""Rounds: the staffing warning recusals cause, draws refused to all but the convener, and an
annual plan imported from XLSX, on both databases."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from sqlalchemy import func, select, update

from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.errors import NotFound, PermissionDenied
from jointcheck.core.models import AuditEvent, DrawFile, OutboxMessage, Plan, Round, Target, Task, TeamMember
from jointcheck.core.services.conflicts import add_conflict
from jointcheck.core.services.draw import run_draw
from jointcheck.core.services.freeze import StaffingWarning
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.core.services.rounds import approve_round, enter_seed
from jointcheck.core.uow import UnitOfWork
from tests.conftest import run_in_thread
from tests.db_snapshot import snapshot
from tests.integration.test_round_cli import province  # noqa: F401  (the CLI-built province fixture)
from tests.integration.test_round_lifecycle import SEED, TODAY, proposed_and_confirmed, world  # noqa: F401  (world: a fixture)
from tests.round_world import OPERATOR, step

# -- 4. a staffing warning caused by recusals -------------------------------------------------------


async def test_recusals_in_a_just_big_enough_pool_warn_at_approval_with_an_upper_bound(uow_factory, world):
    """TAX has 4 inspectors and sends teams of 4: any TAX recusal leaves its target unstaffed."""
    async with uow_factory() as uow:
        await uow.session.execute(update(Target).where(Target.code == "T0010").values(status="deregistered"))
        await uow.commit()
    class_a = {f"T{i:04d}" for i in range(0, 200, 4)}  # round_world: target i is of class "ABCD"[i % 4]
    recusals = [("tax", "TAX-00", code) for code in sorted(class_a)] + [
        ("tax", "TAX-01", "T0004"),  # a second recusal from the same target: still one target
        ("tax", "TAX-02", "T0001"),  # class B
        ("tax", "TAX-03", "T0010"),  # deregistered: outside the population, not counted
        # SAMR (6 inspectors, teams of 2) keeps 4 eligible for T0020: no warning for SAMR
        ("samr", "SAMR-00", "T0020"),
        ("samr", "SAMR-01", "T0020"),
        ("samr", "SAMR-EXP", "T0021"),  # an expert is in no pool
    ]
    async with uow_factory() as uow:
        for who, cert_no, code in recusals:
            await add_conflict(uow, world.actors[who], cert_no, code, "亲属关系")
        await uow.commit()
    short = class_a | {"T0001"}
    assert len(short) == 51

    round_id = await proposed_and_confirmed(uow_factory, world, invited={"TAX": 4, "EPB": 1})
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    assert report.population == 199 and report.strata["A"] == {"k": 5, "n": 50, "permille": 100}
    assert report.warnings == [StaffingWarning(department="TAX", pool=4, team_size=4, targets=51, certain=False)]
    async with uow_factory() as uow:
        payload = json.loads(
            (
                await uow.session.execute(
                    select(AuditEvent.payload).where(AuditEvent.action == "round.approved", AuditEvent.entity_id == str(round_id))
                )
            ).scalar_one()
        )
    assert payload["staffing_warnings"] == [{"department": "TAX", "pool": 4, "team_size": 4, "targets": 51, "certain": False}]

    # The draw leaves unstaffed for TAX exactly the selected targets among those 51, nothing else:
    # the 5 drawn from class A (every one of which TAX-00 recuses from), and T0001 if drawn.
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    drawn = await step(uow_factory, run_draw, world.actors["convener"], round_id)
    async with uow_factory() as uow:
        selected = set(
            (
                await uow.session.execute(select(Target.code).join(Task, Task.target_id == Target.id).where(Task.round_id == round_id))
            ).scalars()
        )
    assert len(selected) == drawn.selected == 45 and len(selected & class_a) == 5
    assert sorted(map(tuple, drawn.unstaffed)) == sorted((code, "TAX") for code in selected & short)
    assert 5 <= len(drawn.unstaffed) <= report.warnings[0].targets


async def test_no_warning_when_recusals_leave_every_team_staffable(uow_factory, world):
    """The same pool with a spare inspector (teams of 3): one recusal per target never warns."""
    for cert_no, code in (("TAX-00", "T0001"), ("TAX-01", "T0002"), ("TAX-02", "T0003")):
        await step(uow_factory, add_conflict, world.actors["tax"], cert_no, code, "亲属关系")
    round_id = await proposed_and_confirmed(uow_factory, world, invited={"TAX": 3, "EPB": 1})
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    assert report.warnings == []
    # but two recusals from one target do: 4 - 2 < 3
    round_id = await proposed_and_confirmed(uow_factory, world, title="第二轮", invited={"TAX": 3, "EPB": 1})
    await step(uow_factory, add_conflict, world.actors["tax"], "TAX-03", "T0001", "亲属关系")
    report = await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    assert report.warnings == [StaffingWarning("TAX", 4, 3, 1, False)]


# -- 5. a draw run by anyone but the round's convener ----------------------------------------------


async def _district_convener(uow_factory):
    """A convener of 440106, a district inside the round's region 440100."""
    async with uow_factory() as uow:
        issued = await issue_invite(uow, OPERATOR, "convener", region="440106")
        user, _ = await redeem_invite(uow, issued.code, 2000, "区召集人")
        actor = await uow.users.actor_for(user)
        await uow.commit()
    return actor


async def _draw_state(uow_factory, round_id: int) -> dict:
    async with uow_factory() as uow:
        draw = await uow.rounds.draw_of(round_id)
        files = (await uow.session.execute(select(DrawFile.name).where(DrawFile.draw_id == draw.id))).scalars().all()
        round_ = await uow.session.get(Round, round_id)
        return {
            "status": round_.status,
            "drawn_at": draw.drawn_at,
            "files": sorted(files),
            "tasks": await uow.rounds.task_count(round_id),
            "members": (await uow.session.execute(select(func.count()).select_from(TeamMember))).scalar_one(),
            "drawn_events": (
                await uow.session.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "round.drawn"))
            ).scalar_one(),
            "draw_notices": (
                await uow.session.execute(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.in_(("round_drawn", "tasks_assigned")))
                )
            ).scalar_one(),
        }


async def test_only_the_rounds_convener_draws(uow_factory, world, db_url):
    round_id = await proposed_and_confirmed(uow_factory, world)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    district = await _district_convener(uow_factory)
    seeded = {
        "status": "seeded",
        "drawn_at": None,
        "files": ["conflicts.tsv", "params.json", "pools.tsv", "population.tsv"],
        "tasks": 0,
        "members": 0,
        "drawn_events": 0,
        "draw_notices": 0,
    }
    assert await _draw_state(uow_factory, round_id) == seeded
    rows_before, _ = snapshot(db_url)

    # officers of the lead, of a confirmed and of a declining participant, and the operator (who
    # sees every round) see the round: refused
    for actor in (world.actors["samr"], world.actors["tax"], world.actors["epb"], OPERATOR):
        with pytest.raises(PermissionDenied, match="not allowed: round.draw"):
            await step(uow_factory, run_draw, actor, round_id)
    # to those who may not see it (a convener elsewhere or of a district inside, an inspector on no
    # team) the round does not exist
    for actor in (world.actors["other_convener"], district, world.actors["inspector"]):
        with pytest.raises(NotFound, match=f"^round {round_id} not found$"):
            await step(uow_factory, run_draw, actor, round_id)

    assert await _draw_state(uow_factory, round_id) == seeded
    assert snapshot(db_url)[0] == rows_before
    # the refused attempts used up nothing: the convener's draw still runs, once
    drawn = await step(uow_factory, run_draw, world.actors["convener"], round_id)
    assert drawn.selected == 45
    after = await _draw_state(uow_factory, round_id)
    assert after["status"] == "drawn" and after["tasks"] == 45 and after["drawn_events"] == 1
    assert {"seed.txt", "selected.tsv", "assignments.tsv"} <= set(after["files"])


# -- 6. the annual plan from an XLSX file -----------------------------------------------------------

PLAN_HEADER = [
    "轮次名称",
    "牵头部门",
    "行政区划",
    "抽查事项",
    "参与部门",
    "抽查比例",
    "牵头部门检查组人数",
    "间隔期",
    "范围标签",
    "抽取时间",
    "完成期限",
    "轮次类型",
]


def write_plan(path, rows) -> None:
    """An XLSX as Excel users make it: numbers and dates typed as such, not as text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(PLAN_HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)


def read_rounds(db_url: str) -> dict[str, dict]:
    async def read():
        engine = make_engine(db_url)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                plans = {p.id: (p.region, p.year, p.title) for p in (await uow.session.execute(select(Plan))).scalars()}
                out = {}
                for r in (await uow.session.execute(select(Round))).scalars():
                    teams = {d.code: (p.status, p.team_size) for p, d in await uow.rounds.participants(r.id)}
                    out[r.title] = {
                        "status": r.status,
                        "region": r.region,
                        "kind": r.kind,
                        "plan": plans.get(r.plan_id),
                        "ratios": json.loads(r.ratios),
                        "cooling_off": json.loads(r.cooling_off),
                        "tags": json.loads(r.scope).get("tags"),
                        "draw_at": r.draw_at,
                        "due_date": r.due_date,
                        "teams": teams,
                        "items": sorted(i.code for i in await uow.rounds.items(r.id)),
                    }
                return out
        finally:
            await engine.dispose()

    return run_in_thread(read())


def test_plan_import_from_xlsx_creates_proposed_rounds_with_the_files_values(cli, db_url, province, tmp_path):
    path = tmp_path / "plan.xlsx"
    write_plan(
        path,
        [
            [
                "一季度食品抽查",
                "SAMR",
                440100,
                "SAMR-001",
                "TAX:2",
                "A:50;B:80",
                3,
                "A:365;B:180",
                "食品",
                "2027-03-01T10:00+08:00",
                dt.date(2027, 3, 31),
                "regular",
            ],
            ["专项整治", "SAMR", 440106, "SAMR-001", "TAX：1", "D：300", None, None, None, None, dt.datetime(2027, 9, 30), "special"],
        ],
    )
    args = ("--region", "440100", "--year", "2027", "--title", "2027年度计划")
    result = cli(db_url, "plan", "import", str(path), "--as", province["samr"], *args)
    assert result.code == 0, result.err
    assert result.out.strip() == "2 rounds proposed: 1, 2"
    plan = ("440100", 2027, "2027年度计划")
    assert read_rounds(db_url) == {
        "一季度食品抽查": {
            "status": "proposed",
            "region": "440100",
            "kind": "regular",
            "plan": plan,
            "ratios": {"A": 50, "B": 80, "C": 0, "D": 0},
            "cooling_off": {"A": 365, "B": 180},
            "tags": ["食品"],
            "draw_at": dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC),
            "due_date": dt.date(2027, 3, 31),
            "teams": {"SAMR": ("confirmed", 3), "TAX": ("invited", 2)},
            "items": ["SAMR-001"],
        },
        "专项整治": {
            "status": "proposed",
            "region": "440106",
            "kind": "special",
            "plan": plan,
            "ratios": {"A": 0, "B": 0, "C": 0, "D": 300},
            "cooling_off": {},
            "tags": [],
            "draw_at": None,
            "due_date": dt.date(2027, 9, 30),
            "teams": {"SAMR": ("confirmed", 1), "TAX": ("invited", 1)},
            "items": ["SAMR-001"],
        },
    }
    listed = cli(db_url, "round", "list", "--as", province["tax"]).out
    assert listed.count("proposed") == 2


def test_a_bad_xlsx_plan_row_is_named_and_nothing_is_created(cli, db_url, province, tmp_path):
    path = tmp_path / "bad.xlsx"
    write_plan(
        path,
        [
            ["好的一轮", "SAMR", 440100, "SAMR-001", "TAX:1", "A:50", 2, None, None, None, dt.date(2027, 3, 31), None],
            ["比例写错", "SAMR", 440100, "SAMR-001", "TAX:1", "A:五十", 2, None, None, None, dt.date(2027, 3, 31), None],
            ["比例超限", "SAMR", 440100, "SAMR-001", "TAX:1", "C:900", 2, None, None, None, dt.date(2027, 3, 31), None],
            ["事项不属牵头部门", "SAMR", 440100, "TAX-001", "TAX:1", "A:50", 2, None, None, None, dt.date(2027, 3, 31), None],
        ],
    )
    before = snapshot(db_url)
    result = cli(db_url, "plan", "import", str(path), "--as", province["samr"], "--region", "440100", "--year", "2027", "--title", "计划")
    assert result.code == 1
    assert "line 2" not in result.err
    assert "line 3: ratios (抽查比例): 'A:五十' is not CODE:NUMBER" in result.err
    assert "line 4: ratio 900‰ for class C is above the cap 400‰ of item SAMR-001" in result.err
    assert "line 5: item TAX-001 is not a current item of SAMR" in result.err
    assert snapshot(db_url) == before  # not even the plan itself
    assert read_rounds(db_url) == {}


def test_a_bad_xlsx_plan_cell_names_its_column(cli, db_url, province, tmp_path):
    path = tmp_path / "bad.xlsx"
    write_plan(
        path,
        [
            ["组数写错", "SAMR", 440100, "SAMR-001", "TAX:1", "A:50", "两", None, None, None, dt.date(2027, 3, 31), None],
            ["日期写错", "SAMR", 440100, "SAMR-001", "TAX:1", "A:50", 2, None, None, None, "2027-13-01", None],
        ],
    )
    result = cli(db_url, "plan", "import", str(path), "--as", province["samr"], "--region", "440100", "--year", "2027", "--title", "计划")
    assert result.code == 1
    line2 = next(line for line in result.err.splitlines() if "line 2" in line)
    line3 = next(line for line in result.err.splitlines() if "line 3" in line)
    assert ("lead_team_size" in line2 or "牵头部门检查组人数" in line2) and "'两'" in line2
    assert ("due_date" in line3 or "完成期限" in line3) and "2027-13-01" in line3
