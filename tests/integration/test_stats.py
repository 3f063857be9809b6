"""Statistics against a small fixture whose every figure was worked out by hand (see the comments).

Today is 2026-06-15 in China. Rounds of 2026 in 440100: R1 (SAMR + TAX, items SAMR-001 cap 400‰ and
TAX-001 cap 300‰, frozen ratios up to 200‰) and R2 (SAMR alone, SAMR-001 and key item SAMR-K01,
a frozen ratio of 500‰ above the cap). R0 (2025) and R3 (region 350100) must not count.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from jointcheck.core.models import (
    CheckItem,
    CreditChange,
    Department,
    Draw,
    Inspector,
    Plan,
    Result,
    Round,
    RoundItem,
    RoundParticipant,
    Target,
    Task,
    TeamMember,
)
from jointcheck.core.services.stats import Timeliness, public_statistics, statistics
from jointcheck.core.stats_export import stats_workbook
from jointcheck.i18n import translations
from tests.round_world import build_world

CN = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=CN)


def china(y, m, d, h=10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=CN)


async def build_fixture(uow_factory) -> dict:
    world = await build_world(uow_factory)
    async with uow_factory() as uow:
        s = uow.session
        dept = {d.code: d.id for d in (await s.execute(select(Department))).scalars()}
        item = {i.code: i.id for i in (await s.execute(select(CheckItem))).scalars()}
        target = {t.code: t.id for t in (await s.execute(select(Target))).scalars()}
        inspector = {i.cert_no: i.id for i in (await s.execute(select(Inspector))).scalars()}

        plans = [Plan(region="440100", year=year, title=f"{year}年度计划") for year in (2026, 2027)]
        s.add_all(plans)
        await s.flush()

        def round_(title, region, created, items, departments, strata=None, plan=None):
            r = Round(
                lead_department_id=dept["SAMR"],
                title=title,
                region=region,
                status="drawn",
                created_at=created,
                plan_id=plan.id if plan else None,
            )
            s.add(r)
            return r, items, departments, strata

        specs = [
            round_("R0", "440100", china(2025, 12, 1), ["SAMR-001"], ["SAMR"]),
            round_("R1", "440106", china(2026, 3, 1), ["SAMR-001", "TAX-001"], ["SAMR", "TAX"], {"A": (10, 100, 1), "B": (20, 200, 4)}),
            round_("R2", "440100", china(2026, 6, 1), ["SAMR-001", "SAMR-K01"], ["SAMR"], {"A": (5, 500, 3)}),
            round_("R3", "350100", china(2026, 3, 1), ["SAMR-001"], ["SAMR"]),
            # of the 2026 plan though proposed in 2025: counts; of the 2027 plan though proposed in 2026: does not
            round_("R4", "440100", china(2025, 12, 15), ["EPB-001"], ["EPB"], plan=plans[0]),
            round_("R5", "440100", china(2026, 6, 1), ["EPB-001"], ["EPB"], plan=plans[1]),
        ]
        await s.flush()
        rounds = {}
        for r, items, departments, strata in specs:
            rounds[r.title] = r.id
            for code in items:
                s.add(RoundItem(round_id=r.id, item_id=item[code], department_id=dept[code.split("-")[0]]))
            for code in departments:
                s.add(RoundParticipant(round_id=r.id, department_id=dept[code], is_lead=code == "SAMR", status="confirmed"))
            if "EPB" not in departments:
                s.add(RoundParticipant(round_id=r.id, department_id=dept["EPB"], status="declined"))
            if strata:
                params = {"strata": {k: {"n": n, "permille": p, "k": kk} for k, (n, p, kk) in strata.items()}}
                s.add(Draw(round_id=r.id, params_json=json.dumps(params).encode(), commitment="0" * 64, server_secret=b"x", frozen_at=NOW))

        def task(round_title, code, order, due, completed=None, team=()):
            t = Task(
                round_id=rounds[round_title],
                target_id=target[code],
                stratum="A",
                ticket="",
                visit_order=order,
                due_date=due,
                completed_at=completed,
                status="completed" if completed else "assigned",
            )
            s.add(t)
            return t, team

        tasks = [
            task("R0", "T0000", 0, dt.date(2025, 12, 31), china(2025, 12, 20), ["SAMR-03"]),
            # t1: completed 03-20, on time; t2: completed 01:00 on 04-01 in China (still 03-31 in UTC), late;
            # t3: open and past its due date, overdue; t4: due at the end of the year, pending.
            task("R1", "T0001", 0, dt.date(2026, 3, 31), china(2026, 3, 20), ["SAMR-00", "TAX-00"]),
            task("R1", "T0002", 1, dt.date(2026, 3, 31), china(2026, 4, 1, 1), ["SAMR-00", "SAMR-01", "TAX-01"]),
            task("R1", "T0003", 2, dt.date(2026, 3, 31), None, ["SAMR-01"]),
            task("R2", "T0004", 0, dt.date(2026, 12, 31), None, ["SAMR-02"]),
            task("R3", "T0005", 0, dt.date(2026, 3, 31), china(2026, 3, 10), ["SAMR-04"]),
            task("R4", "T0006", 0, None, None, ["EPB-00"]),
            task("R5", "T0007", 0, None, None, ["EPB-00"]),
        ]
        await s.flush()
        t = {}
        for n, (row, team) in enumerate(tasks):
            t[n] = row.id
            for position, cert in enumerate(team):
                s.add(TeamMember(task_id=row.id, inspector_id=inspector[cert], department_id=dept[cert.split("-")[0]], position=position))

        def result(task_n, code, category, status, published=None):
            s.add(Result(task_id=t[task_n], item_id=item[code], category=category, status=status, published_at=published))

        result(0, "SAMR-001", "C", "published", china(2025, 12, 22))
        # t1: deadline 2026-04-20 (20 working days after 03-20, Qingming 04-04..06 off)
        result(1, "SAMR-001", "1", "published", china(2026, 4, 1))  # on time
        result(1, "TAX-001", "A", "published", china(2026, 5, 20))  # late
        # t2: deadline 2026-04-30 (20 working days after 04-01)
        result(2, "SAMR-001", "E", "accepted")  # unpublished on 06-15: overdue
        result(2, "TAX-001", "1", "published", china(2026, 4, 3))  # on time
        result(3, "SAMR-001", "1", "submitted")  # not reviewed: counts nowhere
        result(5, "SAMR-001", "A", "published", china(2026, 3, 12))
        for round_title, reason, frm, to, when in (
            ("R1", "raise", "B", "C", china(2026, 5, 20)),
            ("R1", "lower", "C", "B", china(2026, 6, 1)),
            ("R3", "raise", "A", "B", china(2026, 3, 12)),
            ("R0", "raise", "A", "B", china(2025, 12, 22)),
        ):
            s.add(
                CreditChange(
                    target_id=target["T0001"],
                    from_class=frm,
                    to_class=to,
                    reason=reason,
                    round_id=rounds[round_title],
                    policy_sha256="0" * 64,
                    changed_at=when,
                )
            )
        await uow.commit()
    return world.actors


@pytest.fixture
async def actors(uow_factory):
    return await build_fixture(uow_factory)


async def compute(uow_factory, fn, *args, **kw):
    async with uow_factory(lambda: NOW) as uow:
        return await fn(uow, *args, **kw)


async def test_every_statistic_of_the_convener(uow_factory, actors):
    stats = await compute(uow_factory, statistics, actors["convener"], year=2026)
    assert [(c.department, c.item_code, c.planned, c.checked) for c in stats.coverage] == [
        ("市场监管局", "SAMR-001", 4, 2),  # R1's three tasks and R2's one; t1 published, t2 accepted
        ("市场监管局", "SAMR-K01", 1, 0),
        ("生态环境局", "EPB-001", 1, 0),  # R4 only, not R5
        ("税务局", "TAX-001", 3, 2),
    ]
    assert stats.coverage_by_department() == {"市场监管局": (5, 2), "生态环境局": (1, 0), "税务局": (3, 2)}
    assert stats.categories == {"1": 2, "A": 1, "E": 1}
    assert (stats.problems, stats.results, stats.problem_rate) == (2, 4, 0.5)
    assert stats.completion == Timeliness(on_time=1, late=1, overdue=1, pending=1)
    assert stats.completion.rate == pytest.approx(1 / 3)
    assert stats.publication == {"市场监管局": Timeliness(on_time=1, overdue=1), "税务局": Timeliness(on_time=1, late=1)}
    assert stats.publication_total.rate == 0.5
    assert [(c.title, c.cap, c.highest_ratio, c.drawn, c.population, c.respected) for c in stats.caps] == [
        ("R1", 300, 200, 5, 30, True),
        ("R2", 400, 500, 3, 5, False),
    ]
    assert stats.caps_respected == 1
    assert [(w.department, w.inspectors, w.tasks, w.least, w.most) for w in stats.load] == [
        ("市场监管局", 6, 5, 0, 2),  # SAMR-00: t1 t2, SAMR-01: t2 t3, SAMR-02: t4; three with none (the expert not counted)
        ("生态环境局", 1, 1, 1, 1),  # EPB-00 on R4's task (R5's is another year's)
        ("税务局", 4, 2, 0, 1),
    ]
    assert [(m.reason, m.from_class, m.to_class, m.targets) for m in stats.credit] == [("lower", "C", "B", 1), ("raise", "B", "C", 1)]


async def test_an_officer_sees_their_department_s_rounds_and_the_public_only_what_is_published(uow_factory, actors):
    tax = await compute(uow_factory, statistics, actors["tax"], year=2026)
    assert [(c.item_code, c.planned) for c in tax.coverage] == [("SAMR-001", 3), ("TAX-001", 3)]  # R1 only
    public = await compute(uow_factory, public_statistics, year=2026, region="440100")
    assert public.categories == {"1": 2, "A": 1}  # the accepted E is not public yet
    assert public.load == [] and public.credit == []
    other = await compute(uow_factory, statistics, actors["other_convener"], year=2026)
    assert other.categories == {"A": 1} and [c.planned for c in other.coverage] == [1]


async def test_the_workbook_holds_the_tables(uow_factory, actors):
    stats = await compute(uow_factory, statistics, actors["convener"], year=2026)
    book = load_workbook(io.BytesIO(stats_workbook(stats, translations("zh_CN").gettext)))
    assert book.sheetnames == ["覆盖率", "按类别的结果", "及时性", "比例上限", "检查人员工作量", "信用等级变动"]
    coverage = list(book["覆盖率"].iter_rows(values_only=True))
    assert coverage[0][0] == "部门" and coverage[1] == ("市场监管局", "SAMR-001", "食品经营许可检查", 4, 2, 0.5)
    caps = list(book["比例上限"].iter_rows(values_only=True))
    assert caps[2][-1] == "否"
