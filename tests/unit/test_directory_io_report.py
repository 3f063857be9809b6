"""The text error report and the bad-rows CSV."""

from __future__ import annotations

import codecs
import csv
import io

from jointcheck.core.directory_io import bad_rows_csv_bytes, format_row_error, render_errors, validate_rows, write_bad_rows_csv
from jointcheck.core.directory_io.errors import RowError
from jointcheck.core.directory_io.report import BAD_ROWS_EXTRA_COLUMNS


def test_format_row_error_names_the_column_in_both_languages():
    error = RowError(12, "code", "91350100M000100Y44", "check digit should be 3")
    assert (
        format_row_error(error, "targets") == "line 12, column 统一社会信用代码 (code), value '91350100M000100Y44': check digit should be 3"
    )
    assert format_row_error(error) == "line 12, column code, value '91350100M000100Y44': check digit should be 3"


def test_long_and_multiline_values_are_shortened():
    error = RowError(3, "name", "x" * 100 + "\n", "is too long")
    line = format_row_error(error, "targets")
    assert "'" + "x" * 39 + "…'" in line
    assert "\n" not in format_row_error(RowError(3, "name", "a\nb", "contains a line break"), "targets")


def test_row_level_errors():
    assert format_row_error(RowError(7, "", "stray", "has 11 cells"), "targets") == "line 7, value 'stray': has 11 cells"


def test_render_errors_limit_and_total():
    errors = [RowError(i, "risk", "E", "must be a credit-risk class A, B, C or D") for i in range(2, 12)]
    lines = render_errors(errors, "inspectors", limit=3, total=25)
    assert len(lines) == 4
    assert lines[0].startswith("line 2, column risk,")  # not an inspectors column: the key is shown
    assert lines[-1] == "… and 22 more errors"
    assert len(render_errors(errors, "targets")) == 10


def _bad_validation():
    header = ["code", "名称", "kind", "region", "risk", "departments"]
    rows = [
        (2, ["91350100M000100Y43", "好", "enterprise", "350102", "A", "SAMR"]),
        (3, ["91350100M000100Y44", '坏, "引号"', "enterprise", "3501", "A", "SAMR"]),
        (5, ["CP-1", "产品", "product", "350102", "Q", "SAMR"]),
    ]
    validation = validate_rows("targets", header, rows, {"SAMR"})
    assert len(list(validation)) == 1
    return header, validation


def test_bad_rows_csv(tmp_path):
    header, validation = _bad_validation()
    path = tmp_path / "bad.csv"
    assert write_bad_rows_csv(path, validation.header, validation.bad_rows, kind="targets") == 2
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == header + list(BAD_ROWS_EXTRA_COLUMNS)
    assert rows[1][:6] == ["91350100M000100Y44", '坏, "引号"', "enterprise", "3501", "A", "SAMR"]
    assert rows[1][6] == "3"
    assert (
        rows[1][7]
        == "统一社会信用代码 (code): check digit should be 3; 行政区划 (region): must be a 6-digit region code (GB/T 2260), e.g. 440106"
    )
    assert rows[2][6:] == ["5", "信用风险分类 (risk): must be a credit-risk class A, B, C or D"]
    assert bad_rows_csv_bytes(validation.header, validation.bad_rows, kind="targets") == data
