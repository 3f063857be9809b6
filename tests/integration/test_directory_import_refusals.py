"""A bad directory file is refused whole, through the CLI, on both databases: XLSX and GB18030 CSV
with Chinese headers, each bad row named by line, column and reason, and --dry-run writing nothing."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from jointcheck.core.directory_io.credit_code import check_digit
from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.writers import write_table
from jointcheck.core.services import directory_import
from tests.db_snapshot import snapshot
from tests.integration.test_directory_import import DEPTS, directory_db  # noqa: F401  (a fixture)


def targets(n: int, seed: int) -> list[dict]:
    return list(itertools.islice(iter_synthetic_targets(n, seed, DEPTS), n))


# One generator run, so no two codes collide: 8 targets already in the directory, 10 new ones for
# the bad file, 12 new ones for the good file.
ALL = targets(30, seed=21)
EXISTING, NEW_IN_BAD, NEW_IN_GOOD = ALL[:8], ALL[8:18], ALL[18:]


def export_codes(cli, db_url: str, tmp_path: Path) -> dict[str, str]:
    """code → name of every target in the database, read back through `export`."""
    out = tmp_path / "export.csv"
    assert cli(db_url, "export", "targets", str(out)).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        return {row[0]: row[1] for row in list(csv.reader(fh))[1:]}


# Rows an import validates and writes at a time, here: the bad file spans several batches, and its
# first errors come after two whole batches of good rows were written (in the import's transaction),
# so an import that kept what it wrote before refusing would show.
BATCH = 4


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(directory_import, "BATCH", BATCH)


def bad_rows(existing: list[dict]) -> tuple[list[dict], list[str]]:
    """The existing targets renamed (so a partial write would show), five new ones, and five rows
    wrong in different columns, none in the first two batches; with the error lines the CLI must
    print (header is line 1)."""
    rows = [dict(r, name=r["name"] + "（更名）") for r in existing] + [dict(r) for r in NEW_IN_BAD]
    # rows[i] is on line i + 2
    enterprise = next(i for i in range(len(existing), len(rows)) if rows[i]["kind"] == "enterprise")
    code = rows[enterprise]["code"]
    right = check_digit(code[:17])
    wrong = "0" if right != "0" else "1"
    rows[enterprise]["code"] = code[:17] + wrong
    others = [i for i in range(len(rows)) if i != enterprise]
    region_row, risk_row, dept_row, dup_row = others[-6], others[-4], others[-3], others[-1]
    assert min(enterprise, region_row) >= 2 * BATCH and len(rows) > 4 * BATCH
    rows[region_row]["region"] = "001234"  # no province 00
    rows[risk_row]["risk"] = "戊类"
    rows[dept_row]["departments"] = "SAMR;NOPE"
    rows[dup_row]["code"] = rows[0]["code"]
    expected = sorted(
        [
            (
                enterprise + 2,
                f"line {enterprise + 2}, column 统一社会信用代码 (code), value '{code[:17]}{wrong}': check digit should be {right}",
            ),
            (
                region_row + 2,
                f"line {region_row + 2}, column 行政区划 (region), value '001234': must be a 6-digit region code (GB/T 2260), e.g. 440106",
            ),
            (risk_row + 2, f"line {risk_row + 2}, column 信用风险分类 (risk), value '戊类': must be a credit-risk class A, B, C or D"),
            (dept_row + 2, f"line {dept_row + 2}, column 监管部门 (departments), value 'SAMR;NOPE': 'NOPE' is not a known department code"),
            (dup_row + 2, f"line {dup_row + 2}, column 统一社会信用代码 (code), value '{rows[0]['code']}': duplicate of line 2"),
        ]
    )
    return rows, [line for _, line in expected]


def write_bad(tmp_path: Path, fmt: str, rows: list[dict]) -> Path:
    if fmt == "xlsx":
        path = tmp_path / "bad.xlsx"
        write_table(path, "targets", rows, language="zh")
        return path
    utf8 = tmp_path / "bad-utf8.csv"
    write_table(utf8, "targets", rows, language="zh")
    path = tmp_path / "bad.csv"
    path.write_bytes(utf8.read_text(encoding="utf-8-sig").encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GB18030, not UTF-8 under another name
    assert path.read_bytes().decode("gb18030").startswith("统一社会信用代码,名称,")
    return path


@pytest.fixture
def seeded(cli, directory_db, tmp_path):
    """Eight targets already in the directory, which a bad file must leave untouched."""
    existing = [dict(r) for r in EXISTING]
    path = tmp_path / "existing.csv"
    write_table(path, "targets", existing)
    assert cli(directory_db, "import", "targets", str(path)).code == 0
    return existing


@pytest.mark.parametrize("fmt", ["xlsx", "gb18030-csv"])
def test_bad_file_with_chinese_headers_names_every_bad_row_and_changes_nothing(cli, directory_db, seeded, tmp_path, fmt):
    rows, expected = bad_rows(seeded)
    path = write_bad(tmp_path, fmt, rows)
    before = snapshot(directory_db)
    result = cli(directory_db, "import", "targets", str(path))
    assert result.code == 1
    err_lines = result.err.splitlines()
    assert err_lines[:-1] == expected
    assert err_lines[-1].startswith(f"nothing imported: {len(rows)} rows read, {len(rows) - 5} good, 5 bad")
    assert "imported targets" not in result.out
    assert snapshot(directory_db) == before
    assert export_codes(cli, directory_db, tmp_path) == {r["code"]: r["name"] for r in seeded}


def test_dry_run_of_a_bad_file_reports_the_errors_exits_1_and_writes_nothing(cli, directory_db, seeded, tmp_path):
    rows, expected = bad_rows(seeded)
    path = write_bad(tmp_path, "gb18030-csv", rows)
    before = snapshot(directory_db)
    result = cli(directory_db, "import", "targets", str(path), "--dry-run")
    assert result.code == 1
    assert result.err.splitlines() == expected
    assert result.out.startswith(f"dry run: {len(rows)} rows read, {len(rows) - 5} good, 5 bad")
    assert result.out.rstrip().endswith("nothing changed")
    assert snapshot(directory_db) == before


def test_dry_run_of_a_good_file_reports_the_counts_and_writes_nothing(cli, directory_db, seeded, tmp_path):
    rows = [dict(r, name=r["name"] + "（更名）") for r in seeded] + [dict(r) for r in NEW_IN_GOOD]
    path = tmp_path / "good.xlsx"
    write_table(path, "targets", rows, language="zh")
    before = snapshot(directory_db)
    result = cli(directory_db, "import", "targets", str(path), "--dry-run")
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.startswith("dry run: 20 rows read, 20 good, 0 bad")
    assert "rows written" not in result.out
    assert snapshot(directory_db) == before
    # the same file imported for real does write: the dry run validated what an import would write
    real = cli(directory_db, "import", "targets", str(path))
    assert real.code == 0 and "20 good, 0 bad" in real.out and "20 rows written" in real.out
    assert export_codes(cli, directory_db, tmp_path) == {r["code"]: r["name"] for r in rows}
