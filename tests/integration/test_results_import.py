"""`jointcheck import results FILE`: paper results entered by an officer, all or nothing, as
submitted results awaiting review like chat's; a refused file leaves the database byte for byte."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from jointcheck.core.models import AuditEvent, OutboxMessage, PublicResult, Result, Task
from tests.conftest import run_in_thread
from tests.db_snapshot import snapshot
from tests.integration.test_results import team_of
from tests.integration.test_results_cli import _with_db, _world


async def _paper_task(sessionmaker, round_id):
    """A drawn task nobody recorded anything on, with its team."""
    from jointcheck.core.models import Target

    async with sessionmaker() as session:
        query = (
            select(Task.id, Target.code)
            .join(Target, Target.id == Task.target_id)
            .where(Task.round_id == round_id, Task.id.not_in(select(Result.task_id)))
            .order_by(Task.visit_order)
        )
        rows = (await session.execute(query)).all()
    for task_id, code in rows:
        team = await team_of(sessionmaker, task_id)
        if len(team.get("SAMR", [])) == 2:
            return task_id, code, team
    raise AssertionError("no unrecorded task")


async def _state(sessionmaker, task_id):
    async with sessionmaker() as session:
        results = (await session.execute(select(Result).where(Result.task_id == task_id))).scalars().all()
        events = (
            (await session.execute(select(AuditEvent).where(AuditEvent.entity == "task", AuditEvent.entity_id == str(task_id))))
            .scalars()
            .all()
        )
        notices = (await session.execute(select(OutboxMessage).where(OutboxMessage.template == "results_to_review"))).scalars().all()
        records = (await session.execute(select(PublicResult).where(PublicResult.task_id == task_id))).scalars().all()
        return results, events, notices, records


def _write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_results_from_paper(db_url, cli, tmp_path):
    data = run_in_thread(_with_db(db_url, _world))
    samr, tax = str(data.world.actors["samr"].user_id), str(data.world.actors["tax"].user_id)
    task_id, code, team = run_in_thread(_with_db(db_url, lambda sm: _paper_task(sm, data.round_id)))
    certs = ";".join(team["SAMR"])
    r = str(data.round_id)

    bad = tmp_path / "bad.csv"
    _write_csv(
        bad,
        ["轮次", "统一社会信用代码", "事项编码", "检查结果", "后续处置", "备注", "检查人员执法证号", "检查日期"],
        [
            [r, code, "SAMR-001", "未发现问题", "无", "", certs, "2026-12-02"],  # right
            [r, code, "SAMR-K01", "Z", "", "", certs, "2026-12-02"],  # no such category
            [r, "NOPE", "SAMR-001", "1", "", "", certs, "2026-12-02"],  # not drawn
            [r, code, "TAX-001", "1", "", "", certs, "2026-12-02"],  # another department's item
            [r, code, "SAMR-001", "1", "", "", "TAX-00", "2099-01-01"],  # not on the team, future, repeated
        ],
    )
    before = snapshot(db_url)
    refused = cli(db_url, "import", "results", str(bad), "--as", samr)
    assert refused.code == 1 and "nothing imported" in refused.err
    assert "line 3, column category, value 'Z'" in refused.err
    assert "line 4, column target, value 'NOPE'" in refused.err
    assert "line 5, column item, value 'TAX-001'" in refused.err
    assert "line 6, column date, value '2099-01-01': is in the future" in refused.err
    assert snapshot(db_url) == before
    header_bad = tmp_path / "header.csv"
    _write_csv(header_bad, ["round", "target", "item", "categorie"], [[r, code, "SAMR-001", "1"]])
    refused = cli(db_url, "import", "results", str(header_bad), "--as", samr)
    assert refused.code == 1 and "unknown columns for results: 'categorie'" in refused.err and "missing required columns" in refused.err
    assert snapshot(db_url) == before
    assert cli(db_url, "import", "results", str(bad), "--as", tax).code == 1 and snapshot(db_url) == before

    good = tmp_path / "good.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["round", "target", "item", "category", "follow_up", "note", "inspectors", "date"])
    sheet.append([r, code, "SAMR-001", "1", "none", "", certs, "2026-12-02"])
    sheet.append([r, code, "SAMR-K01", "E", "order correction", "责令整改", certs, "2026-12-02"])
    book.save(good)
    assert cli(db_url, "import", "results", str(good), "--dry-run", "--as", samr).code == 0 and snapshot(db_url) == before
    done = cli(db_url, "import", "results", str(good), "--as", samr)
    assert done.code == 0 and "2 results submitted for review" in done.out, done
    results, events, notices, _ = run_in_thread(_with_db(db_url, lambda sm: _state(sm, task_id)))
    assert sorted((x.category, x.follow_up, x.status, str(x.inspected_on)) for x in results) == [
        ("1", "none", "submitted", "2026-12-02"),
        ("E", "order_correction", "submitted", "2026-12-02"),
    ]
    assert events[-1].action == "result.submitted" and "good.xlsx" in events[-1].payload
    assert any(f'"task_id": {task_id}' in n.params or f'"task_id":{task_id}' in n.params for n in notices)
    # the same review as chat's, then publication with the paper's inspection date
    assert cli(db_url, "results", "accept", str(task_id), "--department", "SAMR", "--as", samr).code == 0
    assert cli(db_url, "results", "publish", "--round", r, "--department", "SAMR", "--as", samr).code == 0
    *_, records = run_in_thread(_with_db(db_url, lambda sm: _state(sm, task_id)))
    assert {str(x.inspected_on) for x in records} == {"2026-12-02"} and all(x.due_by is not None for x in records)
    again = cli(db_url, "import", "results", str(good), "--as", samr)
    assert again.code == 1 and "published already" in again.err
