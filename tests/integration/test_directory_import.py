"""Importing and exporting the item list and the two directories, through the CLI, on both databases."""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import openpyxl
import pytest

from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.writers import write_table
from tests.db_snapshot import snapshot

DEPTS = ("SAMR", "TAX")


@pytest.fixture
def directory_db(cli, db_url):
    for code in DEPTS:
        assert cli(db_url, "admin", "department", "add", code, f"{code} 部门").code == 0
    return db_url


def targets(n: int, seed: int = 1) -> list[dict]:
    return list(itertools.islice(iter_synthetic_targets(n, seed, DEPTS), n))


def write(path: Path, kind: str, records, language="en") -> Path:
    write_table(path, kind, records, language=language)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("suffix, language", [(".csv", "en"), (".csv", "zh"), (".xlsx", "en"), (".xlsx", "zh")])
def test_good_file_imports_and_reimport_changes_nothing(cli, directory_db, tmp_path, suffix, language):
    path = write(tmp_path / f"t{suffix}", "targets", targets(300), language)
    first = cli(directory_db, "import", "targets", str(path))
    assert first.code == 0, first.err
    assert "300 good, 0 bad" in first.out and "300 rows written" in first.out
    again = cli(directory_db, "import", "targets", str(path))
    assert again.code == 0 and "0 rows written" in again.out


def test_gb18030_csv_with_chinese_headers(cli, directory_db, tmp_path):
    rows = targets(20)
    utf8 = write(tmp_path / "utf8.csv", "targets", rows, "zh")
    gb = tmp_path / "gb.csv"
    gb.write_bytes(utf8.read_text(encoding="utf-8-sig").encode("gb18030"))
    result = cli(directory_db, "import", "targets", str(gb))
    assert result.code == 0, result.err
    export = tmp_path / "out.csv"
    assert cli(directory_db, "export", "targets", str(export)).code == 0
    assert {r[1] for r in read_csv(export)[1:]} == {r["name"] for r in rows}


def test_bad_file_imports_nothing_and_leaves_the_database_as_it_was(cli, directory_db, tmp_path):
    good = write(tmp_path / "good.csv", "targets", targets(50, seed=2))
    assert cli(directory_db, "import", "targets", str(good)).code == 0
    rows = targets(30_000, seed=3)  # more than one batch, so some rows reach the database first
    rows[25_000]["risk"] = "E"
    rows[29_999]["region"] = "44010"
    bad = write(tmp_path / "bad.csv", "targets", rows)
    before = snapshot(directory_db)
    result = cli(directory_db, "import", "targets", str(bad))
    assert result.code == 1
    assert "line 25002, column" in result.err and "(risk)" in result.err
    assert "line 30001" in result.err and "(region)" in result.err
    assert "nothing imported" in result.err
    assert snapshot(directory_db) == before


def test_skip_bad_rows_imports_the_rest_and_reports_the_bad_ones(cli, directory_db, tmp_path):
    rows = targets(40, seed=4)
    rows[4]["code"] = (
        rows[4]["code"][:-1] + ("0" if rows[4]["code"][-1] != "0" else "1")
        if rows[4]["kind"] in ("enterprise", "individual")
        else "bad\tcode"
    )
    rows[9]["departments"] = "NOPE"
    path = write(tmp_path / "t.csv", "targets", rows)
    bad_file = tmp_path / "bad-rows.csv"
    result = cli(directory_db, "import", "targets", str(path), "--skip-bad-rows", str(bad_file))
    assert result.code == 3, result.err  # imported, with rows skipped
    assert "38 good, 2 bad" in result.out and "imported, 2 rows skipped" in result.out
    bad = read_csv(bad_file)
    assert [r[-2] for r in bad[1:]] == ["6", "11"]
    assert "known department" in bad[2][-1]
    export = tmp_path / "out.csv"
    cli(directory_db, "export", "targets", str(export))
    assert len(read_csv(export)) == 1 + 38


def test_dry_run_changes_nothing(cli, directory_db, tmp_path):
    path = write(tmp_path / "t.csv", "targets", targets(25))
    before = snapshot(directory_db)
    result = cli(directory_db, "import", "targets", str(path), "--dry-run")
    assert result.code == 0 and "dry run" in result.out and "25 good" in result.out
    assert snapshot(directory_db) == before


def test_deregistration_keeps_the_row(cli, directory_db, tmp_path):
    rows = targets(10, seed=5)
    cli(directory_db, "import", "targets", str(write(tmp_path / "a.csv", "targets", rows)))
    rows[3]["status"] = "deregistered"
    result = cli(directory_db, "import", "targets", str(write(tmp_path / "b.csv", "targets", rows)))
    assert "1 rows written" in result.out
    export = tmp_path / "out.csv"
    cli(directory_db, "export", "targets", str(export))
    exported = {r[0]: r for r in read_csv(export)[1:]}
    assert len(exported) == 10 and exported[rows[3]["code"]][8] == "deregistered"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_export_import(cli, directory_db, tmp_path, suffix):
    rows = targets(120, seed=6)
    cli(directory_db, "import", "targets", str(write(tmp_path / "in.csv", "targets", rows)))
    out = tmp_path / f"out{suffix}"
    assert cli(directory_db, "export", "targets", str(out)).code == 0
    result = cli(directory_db, "import", "targets", str(out))
    assert result.code == 0 and "120 good" in result.out and "0 rows written" in result.out
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out, read_only=True).worksheets[0]
        assert sum(1 for _ in sheet.iter_rows()) == 121


def test_inspectors_with_conflicts_and_items_with_versions(cli, directory_db, tmp_path):
    inspectors = [
        {
            "cert_no": "44010001",
            "name": "张三",
            "department": "SAMR",
            "kind": "enforcement",
            "skills": "食品",
            "region": "440106",
            "conflicts": "91440111FYK02U002Q",
        },
        {"cert_no": "44010002", "name": "李四", "department": "TAX", "kind": "expert", "skills": "", "region": "", "conflicts": ""},
    ]
    assert cli(directory_db, "import", "inspectors", str(write(tmp_path / "i.csv", "inspectors", inspectors))).code == 0
    out = tmp_path / "i-out.csv"
    cli(directory_db, "export", "inspectors", str(out))
    assert read_csv(out)[1][-1] == "91440111FYK02U002Q"

    item = {
        "code": "SAMR-001",
        "department": "SAMR",
        "name": "食品生产检查",
        "category": "general",
        "basis": "《食品安全法》",
        "subject": "市场监管局",
        "content": "生产许可",
        "method": "onsite",
        "object_kind": "enterprise",
        "ratio_cap": 50,
    }
    assert cli(directory_db, "import", "items", str(write(tmp_path / "a.csv", "items", [item]))).code == 0
    assert "0 rows written" in cli(directory_db, "import", "items", str(write(tmp_path / "b.csv", "items", [item]))).out
    item["ratio_cap"] = 80
    assert "1 rows written" in cli(directory_db, "import", "items", str(write(tmp_path / "c.csv", "items", [item]))).out
    out = tmp_path / "items-out.csv"
    cli(directory_db, "export", "items", str(out))
    exported = read_csv(out)
    assert len(exported) == 2 and exported[1][-1] == "80"  # only the current version is exported


def test_unknown_and_missing_columns_are_listed_at_once(cli, directory_db, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,名称,colour,weight\n91350100M000100Y43,x,red,1\n", encoding="utf-8")
    result = cli(directory_db, "import", "targets", str(path))
    assert result.code == 1
    assert "colour" in result.err and "weight" in result.err and "kind" in result.err and "region" in result.err


@pytest.fixture
def in_worker(monkeypatch):
    """Validate in the worker process whatever the file's size (big files do so by default)."""
    from jointcheck.core.services import directory_import

    monkeypatch.setattr(directory_import, "WORKER_THRESHOLD_BYTES", 0)


def test_worker_process_imports_the_same(cli, directory_db, tmp_path, in_worker):
    rows = targets(25_000, seed=8)
    path = write(tmp_path / "t.csv", "targets", rows)
    result = cli(directory_db, "import", "targets", str(path))
    assert result.code == 0, result.err
    assert "25000 good, 0 bad" in result.out and "25000 rows written" in result.out
    export = tmp_path / "out.csv"
    cli(directory_db, "export", "targets", str(export))
    assert sorted(r[0] for r in read_csv(export)[1:]) == sorted(r["code"] for r in rows)


def test_worker_process_reports_bad_rows_and_imports_nothing(cli, directory_db, tmp_path, in_worker):
    rows = targets(25_000, seed=9)
    rows[21_000]["risk"] = "Z"
    before = snapshot(directory_db)
    result = cli(directory_db, "import", "targets", str(write(tmp_path / "bad.csv", "targets", rows)))
    assert result.code == 1 and "line 21002" in result.err and "(risk)" in result.err
    assert snapshot(directory_db) == before
    header = tmp_path / "header.csv"
    header.write_text("code,colour\n", encoding="utf-8")
    result = cli(directory_db, "import", "targets", str(header))
    assert result.code == 1 and "colour" in result.err and result.err.count("\n") == 1


def test_only_the_operator_imports_and_exports(cli, directory_db, tmp_path):
    code = cli(directory_db, "admin", "invite", "--role", "officer", "--department", "TAX").out.splitlines()[0]
    officer = re.search(r"user (\d+)", cli(directory_db, "admin", "redeem", code, "--name", "税务").out).group(1)
    path = write(tmp_path / "t.csv", "targets", targets(5))
    before = snapshot(directory_db)
    refused = cli(directory_db, "import", "targets", str(path), "--as", officer)
    assert refused.code == 1 and "not allowed: directory.import" in refused.err
    assert cli(directory_db, "export", "targets", str(tmp_path / "o.csv"), "--as", officer).code == 1
    assert snapshot(directory_db) == before


def test_a_file_without_a_column_leaves_that_column_alone(cli, directory_db, tmp_path):
    rows = targets(6, seed=12)
    rows[2]["status"], rows[2]["tags"] = "deregistered", "食品"
    cli(directory_db, "import", "targets", str(write(tmp_path / "a.csv", "targets", rows)))
    partial = tmp_path / "b.csv"
    with open(partial, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "kind", "region", "risk", "departments"])
        for r in rows:
            writer.writerow([r["code"], r["name"] + "（更名）", r["kind"], r["region"], r["risk"], r["departments"]])
    result = cli(directory_db, "import", "targets", str(partial))
    assert result.code == 0 and "6 rows written" in result.out
    export = tmp_path / "out.csv"
    cli(directory_db, "export", "targets", str(export))
    row = {r[0]: r for r in read_csv(export)[1:]}[rows[2]["code"]]
    assert row[1].endswith("（更名）") and row[7] == "食品" and row[8] == "deregistered"


def test_backslash_n_is_text_not_null(cli, directory_db, tmp_path):
    rows = targets(3, seed=13)
    rows[1]["address"] = "\\N"
    assert cli(directory_db, "import", "targets", str(write(tmp_path / "a.csv", "targets", rows))).code == 0
    export = tmp_path / "out.csv"
    cli(directory_db, "export", "targets", str(export))
    assert {r[0]: r for r in read_csv(export)[1:]}[rows[1]["code"]][9] == "\\N"


def test_reimporting_inspectors_keeps_recusals_added_by_hand(cli, directory_db, tmp_path):
    from jointcheck.core.authz import Actor, Grant
    from jointcheck.core.db import make_engine, make_sessionmaker
    from jointcheck.core.models import Role
    from jointcheck.core.services.conflicts import add_conflict
    from jointcheck.core.uow import UnitOfWork
    from tests.conftest import run_in_thread

    inspector = {
        "cert_no": "S-1",
        "name": "张三",
        "department": "SAMR",
        "kind": "enforcement",
        "skills": "",
        "region": "",
        "conflicts": "CODE-A",
    }
    path = write(tmp_path / "i.csv", "inspectors", [inspector])
    assert cli(directory_db, "import", "inspectors", str(path)).code == 0

    async def by_hand():
        engine = make_engine(directory_db)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                samr = await uow.departments.by_code("SAMR")
                await add_conflict(uow, Actor("o", (Grant(Role.OFFICER, department_id=samr.id),)), "S-1", "CODE-B", "亲属")
                await uow.commit()
        finally:
            await engine.dispose()

    run_in_thread(by_hand())
    inspector["conflicts"] = "CODE-C"
    result = cli(directory_db, "import", "inspectors", str(write(tmp_path / "j.csv", "inspectors", [inspector])))
    assert result.code == 0 and "0 rows written" in result.out  # the inspector's own fields did not change
    out = tmp_path / "o.csv"
    cli(directory_db, "export", "inspectors", str(out))
    assert read_csv(out)[1][-1] == "CODE-B;CODE-C"
