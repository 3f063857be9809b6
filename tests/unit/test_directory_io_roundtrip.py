"""Writers -> readers -> validation gives back the same records (CSV and XLSX, both languages)."""

from __future__ import annotations

import codecs
import io

import openpyxl
import pytest

from jointcheck.core.directory_io import iter_synthetic_targets, read_rows, validate_file, write_csv, write_table, write_xlsx
from jointcheck.core.directory_io.credit_code import is_valid_credit_code
from jointcheck.core.directory_io.generate import synthetic_credit_code
from jointcheck.core.directory_io.schemas import get_schema

DEPARTMENTS = ["SAMR", "TAX", "HEALTH"]

INSPECTORS = [
    {
        "cert_no": "35010012345",
        "name": "张三",
        "department": "SAMR",
        "kind": "enforcement",
        "skills": "特种设备;食品",
        "region": "350102",
        "conflicts": "91350100M000100Y43;CP-1",
        "status": "active",
    },
    {
        "cert_no": "E-001",
        "name": 'O\'Brien, "Pat"',
        "department": "HEALTH",
        "kind": "expert",
        "skills": "",
        "region": "",
        "conflicts": "",
        "status": "excluded",
    },
]
ITEMS = [
    {
        "code": "SAMR-001",
        "department": "SAMR",
        "group": "一般检查事项",
        "name": "食品生产企业监督检查",
        "category": "general",
        "basis": "《食品安全法》\n第一百一十条",
        "subject": "市场监管局",
        "content": "=生产环境, 条件",
        "method": "documentary;onsite",
        "object_kind": "enterprise",
        "ratio_cap": 30,
    },
    {
        "code": "TAX-9",
        "department": "TAX",
        "group": "",
        "name": "发票检查",
        "category": "key",
        "basis": "税收征管法",
        "subject": "",
        "content": "",
        "method": "online",
        "object_kind": "individual",
        "ratio_cap": None,
    },
]


def _targets():
    records = list(iter_synthetic_targets(300, seed=3, departments=DEPARTMENTS))
    records[0] = {**records[0], "name": '=HYPERLINK("x")', "address": '广州, "天河" 二号楼'}
    return records


def _validated(path, kind):
    validation = validate_file(kind, path, DEPARTMENTS)
    records = list(validation)
    assert validation.errors == []
    return records


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(("kind", "make"), [("targets", _targets), ("inspectors", lambda: INSPECTORS), ("items", lambda: ITEMS)])
def test_round_trip(tmp_path, suffix, language, kind, make):
    records = make()
    path = tmp_path / f"{kind}{suffix}"
    assert write_table(path, kind, records, language=language) == len(records)
    assert _validated(path, kind) == records
    header = next(read_rows(path))[1]
    assert header == get_schema(kind).headers(language)


def test_csv_has_bom_and_crlf(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, "inspectors", INSPECTORS)
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8 + b"cert_no,name,department,kind,skills,region,status,conflicts\r\n")


def test_xlsx_cells_are_text(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx(path, "items", ITEMS, language="zh")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.title == "items"
    assert sheet["A1"].value == "事项编码"
    content = sheet.cell(row=2, column=8)
    assert content.value == "=生产环境, 条件" and content.data_type == "s"  # never a formula
    cap = sheet.cell(row=2, column=11)
    assert cap.value == "30" and cap.data_type == "s"


def test_write_to_streams():
    text = io.StringIO(newline="")
    assert write_csv(text, "items", ITEMS) == 2
    assert text.getvalue().splitlines()[0] == "code,department,group,name,category,basis,subject,content,method,object_kind,ratio_cap"
    binary = io.BytesIO()
    write_xlsx(binary, "items", ITEMS)
    binary.seek(0)
    assert [row[0] for _, row in read_rows(binary, filename="x.xlsx")] == ["code", "SAMR-001", "TAX-9"]


def test_synthetic_targets_are_deterministic_valid_and_varied():
    first = list(iter_synthetic_targets(2000, seed=11, departments=DEPARTMENTS))
    assert first == list(iter_synthetic_targets(2000, seed=11, departments=DEPARTMENTS))
    assert first != list(iter_synthetic_targets(2000, seed=12, departments=DEPARTMENTS))
    assert len({r["code"] for r in first}) == 2000
    assert {r["kind"] for r in first} == {"enterprise", "individual", "product", "project", "behaviour"}
    assert {r["risk"] for r in first} == {"A", "B", "C", "D"}
    assert len({r["region"] for r in first}) > 10 and len({r["industry"] for r in first}) > 10
    for record in first:
        if record["kind"] in ("enterprise", "individual"):
            assert is_valid_credit_code(record["code"])
            assert record["code"][:2] == ("91" if record["kind"] == "enterprise" else "92")
            assert record["code"][2:8] == record["region"]


def test_synthetic_credit_codes_are_unique():
    codes = {synthetic_credit_code(i, "440106") for i in range(50_000)}
    assert len(codes) == 50_000
