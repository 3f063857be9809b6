"""Validation of targets, inspectors and items files: every rule gives (line, column, reason)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from jointcheck.core.directory_io import HeaderError, validate_file, validate_rows
from jointcheck.core.directory_io.errors import DirectoryFileError
from jointcheck.core.directory_io.schemas import get_schema

DEPARTMENTS = {"SAMR", "TAX", "HEALTH"}
GOOD_TARGET = {
    "code": "91350100M000100Y43",
    "name": "福州测试有限公司",
    "kind": "enterprise",
    "region": "350102",
    "industry": "C1311",
    "risk": "B",
    "departments": "SAMR",
    "tags": "",
    "status": "active",
    "address": "五一路1号",
}


def write_csv(tmp_path, header, rows, encoding="utf-8-sig", name="in.csv"):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(tmp_path, header, rows, name="in.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def run(path, kind="targets"):
    validation = validate_file(kind, path, DEPARTMENTS)
    records = list(validation)
    return records, validation


def target_row(**changes):
    record = {**GOOD_TARGET, **changes}
    return [record[key] for key in get_schema("targets").fields]


TARGET_HEADER = list(get_schema("targets").fields)


def errors_of(tmp_path, **changes):
    _, validation = run(write_csv(tmp_path, TARGET_HEADER, [target_row(**changes)]))
    return [(e.line, e.column, e.reason) for e in validation.errors]


# -- whole files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_good_file_in_both_formats_and_languages(tmp_path, fmt, language):
    header = get_schema("targets").headers(language)
    rows = [
        target_row(),
        target_row(code="CP-0001", kind="产品", name="某品牌奶粉", risk="d", departments="TAX；SAMR", tags="食品;婴幼儿;食品"),
    ]
    path = write_csv(tmp_path, header, rows) if fmt == "csv" else write_xlsx(tmp_path, header, rows)
    records, validation = run(path)
    assert validation.ok and validation.errors == []
    assert records[0] == GOOD_TARGET
    assert records[1]["kind"] == "product"
    assert records[1]["risk"] == "D"
    assert records[1]["departments"] == "SAMR;TAX"
    assert records[1]["tags"] == "婴幼儿;食品"
    assert validation.rows_ok == 2 and validation.rows_read == 2


def test_gb18030_file_with_chinese_names_and_values(tmp_path):
    header = ["统一社会信用代码", "名称", "类型", "行政区划", "信用风险分类", "监管部门", "状态"]
    rows = [["91350100M000100Y43", "福州测试有限公司", "个体工商户", "350102", "A", "SAMR", "吊销"]]
    records, validation = run(write_csv(tmp_path, header, rows, encoding="gb18030"))
    assert validation.ok
    assert records == [{**GOOD_TARGET, "kind": "individual", "risk": "A", "status": "deregistered", "industry": "", "address": ""}]


def test_columns_in_any_order_and_mixed_languages(tmp_path):
    header = ["RISK", " 名称 ", "departments", "Code", "类型", "region"]
    rows = [["c", "某公司", "HEALTH", "91110000600037341l", "enterprise", "110105"]]
    records, validation = run(write_csv(tmp_path, header, rows))
    assert validation.ok
    assert records[0]["code"] == "91110000600037341L"  # upper-cased
    assert records[0]["risk"] == "C" and records[0]["name"] == "某公司"
    assert validation.present == ("code", "name", "kind", "region", "risk", "departments")
    assert records[0]["status"] == "active" and records[0]["tags"] == ""


def test_header_problems_are_listed_at_once():
    header = ["code", "nmae", "kind", "foo", "风险", "Code", "统一社会信用代码"]
    with pytest.raises(HeaderError) as caught:
        validate_rows("targets", header, [], DEPARTMENTS)
    error = caught.value
    assert error.unknown == ["nmae", "foo", "风险"]
    assert error.missing == ["名称 (name)", "行政区划 (region)"]
    assert error.duplicated == ["统一社会信用代码 (code)"]
    message = str(error)
    assert "'nmae' (did you mean '名称 (name)'?)" in message
    assert "'foo'" in message and "missing required columns" in message


def test_header_with_bom_and_bilingual_names():
    header = ["\ufeffcode", "名称 (name)", "类型（kind）", "region", "risk", "departments"]
    validation = validate_rows("targets", header, [(2, target_row()[:2] + ["enterprise", "350102", "B", "SAMR"])], DEPARTMENTS)
    assert list(validation) and validation.ok


def test_bilingual_name_must_agree():
    with pytest.raises(HeaderError) as caught:
        validate_rows("targets", ["code", "名称 (kind)", "kind", "region", "risk", "departments"], [], DEPARTMENTS)
    assert caught.value.unknown == ["名称 (kind)"]


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"\n\n")
    with pytest.raises(DirectoryFileError, match="empty"):
        validate_file("targets", path, DEPARTMENTS)


def test_header_may_follow_blank_lines(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("\n" + ",".join(TARGET_HEADER) + "\n" + ",".join(target_row()) + "\n" + ",".join(target_row(code="bad")) + "\n")
    records, validation = run(path)
    assert validation.header_line == 2
    assert len(records) == 1
    assert [(e.line, e.column) for e in validation.errors] == [(4, "code")]


# -- target rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"code": "91350100M000100Y44"}, "code", "check digit should be 3"),
        ({"code": "91350100M00010"}, "code", "has 14 characters, a credit code has 18"),
        ({"code": ""}, "code", "is empty and there is no registration number (注册号) either: a target needs one of them"),
        ({"code": "", "kind": "product"}, "code", "is required"),
        ({"code": "A" * 65, "kind": "project"}, "code", "is 65 characters long, a code has at most 64"),
        ({"code": "CP\t1", "kind": "product"}, "code", "contains a tab"),
        ({"name": ""}, "name", "is required"),
        ({"name": "第一行\n第二行"}, "name", "contains a line break"),
        ({"name": "名" * 501}, "name", "is 501 characters long, at most 500 allowed"),
        (
            {"kind": "company"},
            "kind",
            "must be one of enterprise, individual, cooperative, product, project, behaviour (or 企业, 个体工商户, 个体户, 农民专业合作社, 合作社, 产品, 项目, 行为)",
        ),
        ({"region": "35010"}, "region", "must be a 6-digit region code (GB/T 2260), e.g. 440106"),
        ({"region": "00ABCD"}, "region", "must be a 6-digit region code (GB/T 2260), e.g. 440106"),
        ({"region": ""}, "region", "is required"),
        ({"industry": "Z1"}, "industry", "must be a GB/T 4754 industry code: a letter A-T, optionally followed by 2-4 digits, e.g. C1311"),
        ({"industry": "F1311"}, "industry", "division 13 belongs to section C, not F"),
        ({"industry": "9999"}, "industry", "division 99 does not exist in GB/T 4754"),
        ({"risk": "E"}, "risk", "must be a credit-risk class A, B, C or D"),
        (
            {"departments": "SAMR;POLICE;ARMY"},
            "departments",
            "'POLICE' is not a known department code; 'ARMY' is not a known department code",
        ),
        ({"tags": "a;" + "t" * 65}, "tags", f"'{'t' * 65}' is 65 characters long, a tag has at most 64"),
        (
            {"status": "closed"},
            "status",
            "must be one of active, deregistered (or 存续, 在营, 开业, 正常, 在业, 在册, 存续(在营、开业、在册), 存续（在营、开业、在册）, 注销, 吊销, 已注销, 已吊销, 撤销, 迁出, 已迁出, 吊销,未注销, 吊销，未注销, 吊销,已注销, 吊销，已注销)",
        ),
        ({"address": "路\x00"}, "address", "contains the control character U+0000"),
    ],
)
def test_each_target_rule(tmp_path, changes, column, reason):
    assert errors_of(tmp_path, **changes) == [(2, column, reason)]


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"kind": "企业"}, "kind", "enterprise"),
        ({"kind": "Individual"}, "kind", "individual"),
        ({"kind": "行为", "code": "XW-1"}, "kind", "behaviour"),
        ({"kind": "behavior", "code": "XW-1"}, "kind", "behaviour"),
        ({"risk": "b类"}, "risk", "B"),
        ({"industry": "c"}, "industry", "C"),
        ({"industry": "5123"}, "industry", "F5123"),
        ({"industry": " f51 "}, "industry", "F51"),
        ({"status": "在营"}, "status", "active"),
        ({"status": "注销"}, "status", "deregistered"),
        ({"status": "Deregistered"}, "status", "deregistered"),
        ({"status": ""}, "status", "active"),
        ({"departments": " health ; SAMR；samr "}, "departments", "HEALTH;SAMR"),
        ({"tags": " 冷链 ;;食品;冷链"}, "tags", "冷链;食品"),
        ({"code": " 91350100m000100y43 "}, "code", "91350100M000100Y43"),
        ({"code": " cp-001 ", "kind": "product"}, "code", "cp-001"),
        ({"name": "  福州　测试  "}, "name", "福州　测试"),
    ],
)
def test_target_normalisation(tmp_path, changes, field, value):
    records, validation = run(write_csv(tmp_path, TARGET_HEADER, [target_row(**changes)]))
    assert validation.errors == []
    assert records[0][field] == value


def test_several_errors_in_one_row_and_good_rows_kept(tmp_path):
    rows = [target_row(), target_row(code="91350100M000100Y44", region="x", risk="Z"), target_row(code="91110000600037341L")]
    records, validation = run(write_csv(tmp_path, TARGET_HEADER, rows))
    assert [r["code"] for r in records] == ["91350100M000100Y43", "91110000600037341L"]
    assert [(e.line, e.column) for e in validation.errors] == [(3, "code"), (3, "region"), (3, "risk")]
    error = validation.errors[0]
    assert (error.line, error.column, error.value, error.reason) == (3, "code", "91350100M000100Y44", "check digit should be 3")
    assert validation.bad_row_count == 1 and validation.error_count == 3 and not validation.ok
    assert validation.bad_rows[0].line == 3 and validation.bad_rows[0].cells[0] == "91350100M000100Y44"


def test_credit_code_is_only_required_for_enterprises_and_individuals(tmp_path):
    assert errors_of(tmp_path, kind="enterprise", code="P-1") == [(2, "code", "has 3 characters, a credit code has 18")]
    assert errors_of(tmp_path, kind="individual", code="P-1") == [(2, "code", "has 3 characters, a credit code has 18")]
    assert errors_of(tmp_path, kind="project", code="P-1") == []


def test_duplicate_codes_name_the_first_line(tmp_path):
    rows = [target_row(), target_row(name="其他"), target_row(code="91110000600037341L"), target_row(code="91350100m000100y43 ", risk="X")]
    records, validation = run(write_csv(tmp_path, TARGET_HEADER, rows))
    assert len(records) == 2
    assert [(e.line, e.column, e.reason) for e in validation.errors] == [
        (3, "code", "duplicate of line 2"),
        (5, "code", "duplicate of line 2"),
        (5, "risk", "must be a credit-risk class A, B, C or D"),
    ]


def test_duplicate_of_a_bad_row_is_still_a_duplicate(tmp_path):
    rows = [target_row(risk="X"), target_row()]
    records, validation = run(write_csv(tmp_path, TARGET_HEADER, rows))
    assert records == []
    assert [(e.line, e.column, e.reason) for e in validation.errors][-1] == (3, "code", "duplicate of line 2")


def test_quoted_multiline_cell_reports_its_starting_line(tmp_path):
    rows = [target_row(address="第一行"), target_row(code="91110000600037341L", name="多\n行"), target_row(code="bad")]
    _, validation = run(write_csv(tmp_path, TARGET_HEADER, rows))
    assert [(e.line, e.column) for e in validation.errors] == [(3, "name"), (5, "code")]


def test_blank_rows_are_skipped_and_short_rows_padded(tmp_path):
    header = ["code", "name", "kind", "region", "risk", "departments", "tags"]
    path = tmp_path / "in.csv"
    path.write_text(",".join(header) + "\n\n,,,,,,\n  , ,\n91350100M000100Y43,甲,enterprise,350102,A,SAMR\n")
    records, validation = run(path)
    assert validation.errors == []
    assert len(records) == 1 and records[0]["tags"] == ""


def test_cells_beyond_the_header_are_an_error_unless_empty(tmp_path):
    path = tmp_path / "in.csv"
    header = ",".join(TARGET_HEADER)
    path.write_text(f"{header}\n{','.join(target_row())},,\n{','.join(target_row(code='91110000600037341L'))},stray\n")
    records, validation = run(path)
    assert len(records) == 1
    assert [(e.line, e.column, e.value) for e in validation.errors] == [(3, "", "stray")]
    assert "header has 10" in validation.errors[0].reason


def test_value_under_an_unnamed_column(tmp_path):
    header = ["code", "", "name", "kind", "region", "risk", "departments"]
    rows = [
        ["91350100M000100Y43", "", "甲", "enterprise", "350102", "A", "SAMR"],
        ["91110000600037341L", "x", "乙", "enterprise", "350102", "A", "SAMR"],
    ]
    records, validation = run(write_csv(tmp_path, header, rows))
    assert len(records) == 1
    assert [(e.line, e.column, e.reason) for e in validation.errors] == [(3, "", "cell 2 has a value but its column has no header")]


def test_bad_xlsx_rows_use_sheet_row_numbers_and_float_cells(tmp_path):
    rows = [target_row(region=350102.0), [], target_row(code="91110000600037341L", region=35010.0)]
    records, validation = run(write_xlsx(tmp_path, TARGET_HEADER, rows))
    assert records[0]["region"] == "350102"
    assert [(e.line, e.column, e.value) for e in validation.errors] == [(4, "region", "35010")]


def test_max_errors_keeps_counting(tmp_path):
    rows = [target_row(code=f"CP-{i}", kind="product", risk="Q") for i in range(10)]
    validation = validate_file("targets", write_csv(tmp_path, TARGET_HEADER, rows), DEPARTMENTS, max_errors=3)
    assert list(validation) == []
    assert len(validation.errors) == 3 and validation.error_count == 10 and validation.truncated


def test_tuples_follow_schema_fields(tmp_path):
    validation = validate_file("targets", write_csv(tmp_path, TARGET_HEADER, [target_row()]), DEPARTMENTS)
    assert list(validation.tuples()) == [tuple(GOOD_TARGET[key] for key in get_schema("targets").fields)]
    with pytest.raises(RuntimeError):
        list(validation)


def test_unknown_departments_use_the_given_set(tmp_path):
    path = write_csv(tmp_path, TARGET_HEADER, [target_row(departments="POLICE")])
    assert list(validate_file("targets", path, {"POLICE"})) != []
    assert list(validate_file("targets", path, DEPARTMENTS)) == []


# -- inspectors ----------------------------------------------------------------------------------

INSPECTOR_HEADER = ["cert_no", "name", "department", "kind", "skills", "region", "conflicts"]


def inspector_errors(tmp_path, row):
    _, validation = run(write_csv(tmp_path, INSPECTOR_HEADER, [row]), kind="inspectors")
    return [(e.line, e.column, e.reason) for e in validation.errors]


def test_good_inspectors_chinese_headers(tmp_path):
    header = ["执法证号", "姓名", "部门", "人员类别", "业务专长", "行政区划", "回避对象"]
    rows = [
        ["35010012345", "张三", "SAMR", "执法人员", "食品；特种设备", "350102", "91350100m000100y43;CP-1"],
        ["E-001", "李四", "HEALTH", "专家", "", "", ""],
        ["35010012346", "王五", "TAX", "", "", "", ""],
    ]
    records, validation = run(write_xlsx(tmp_path, header, rows), kind="inspectors")
    assert validation.ok
    assert records[0] == {
        "cert_no": "35010012345", "name": "张三", "department": "SAMR", "kind": "enforcement",
        "skills": "特种设备;食品", "region": "350102", "conflicts": "91350100M000100Y43;CP-1", "status": "active",
    }  # fmt: skip
    assert records[1]["kind"] == "expert" and records[1]["region"] == ""
    assert records[2]["kind"] == "enforcement"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["3501 0012", "张三", "SAMR", "", "", "", ""], "cert_no", "must not contain spaces"),
        (["X" * 33, "张三", "SAMR", "", "", "", ""], "cert_no", "is 33 characters long, at most 32 allowed"),
        (["", "张三", "SAMR", "", "", "", ""], "cert_no", "is required"),
        (["1", "", "SAMR", "", "", "", ""], "name", "is required"),
        (["1", "张三", "POLICE", "", "", "", ""], "department", "is not a known department code"),
        (["1", "张三", "SAMR;TAX", "", "", "", ""], "department", "must be a single department code"),
        (["1", "张三", "", "", "", "", ""], "department", "is required"),
        (["1", "张三", "SAMR", "volunteer", "", "", ""], "kind", "must be one of enforcement, expert (or 执法人员, 执法, 专家)"),
        (["1", "张三", "SAMR", "", "", "3501", ""], "region", "must be a 6-digit region code (GB/T 2260), e.g. 440106"),
        (["1", "张三", "SAMR", "", "", "", "CP\t1"], "conflicts", "'CP\t1' contains a tab"),
    ],
)
def test_each_inspector_rule(tmp_path, row, column, reason):
    assert inspector_errors(tmp_path, row) == [(2, column, reason)]


def test_duplicate_cert_no(tmp_path):
    rows = [["1", "张三", "SAMR", "", "", "", ""], ["2", "李四", "SAMR", "", "", "", ""], ["1", "王五", "TAX", "", "", "", ""]]
    _, validation = run(write_csv(tmp_path, INSPECTOR_HEADER, rows), kind="inspectors")
    assert [(e.line, e.column, e.reason) for e in validation.errors] == [(4, "cert_no", "duplicate of line 2")]


# -- items ---------------------------------------------------------------------------------------

ITEM_HEADER = list(get_schema("items").fields)


def item(**changes):
    base = {
        "code": "SAMR-001", "department": "SAMR", "group": "", "name": "食品生产企业监督检查", "category": "一般",
        "basis": "《食品安全法》第一百一十条\n《食品生产经营监督检查管理办法》", "subject": "市场监管局",
        "content": "生产环境条件", "method": "实地核查、书面检查", "object_kind": "企业", "ratio_cap": "30",
    }  # fmt: skip
    base.update(changes)
    return [base[key] for key in ITEM_HEADER]


def item_errors(tmp_path, **changes):
    _, validation = run(write_csv(tmp_path, ITEM_HEADER, [item(**changes)]), kind="items")
    return [(e.line, e.column, e.reason) for e in validation.errors]


def test_good_items(tmp_path):
    rows = [
        item(),
        item(code="SAMR-002", category="重点", ratio_cap="", method="online"),
        item(code="TAX-1", department="TAX", ratio_cap="3%"),
    ]
    records, validation = run(write_csv(tmp_path, ITEM_HEADER, rows), kind="items")
    assert validation.ok
    assert records[0]["category"] == "general" and records[0]["ratio_cap"] == 30
    assert records[0]["method"] == "documentary;onsite"
    assert records[0]["object_kind"] == "企业"  # free text, as lists write it
    assert records[0]["basis"].count("\n") == 1  # multi-line basis kept
    assert records[1]["category"] == "key" and records[1]["ratio_cap"] is None
    assert records[2]["ratio_cap"] == 30


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"category": "key"}, "ratio_cap", "must be empty: key items have no ratio cap"),
        ({"ratio_cap": "1001"}, "ratio_cap", "is 1001‰, must be from 0 to 1000"),
        ({"ratio_cap": "2.5"}, "ratio_cap", "must be a whole number of per mille (‰) from 0 to 1000, e.g. 30"),
        ({"ratio_cap": "0.05%"}, "ratio_cap", "must be a whole number of per mille (‰) from 0 to 1000, e.g. 30"),
        ({"ratio_cap": "abc"}, "ratio_cap", "must be a whole number of per mille (‰) from 0 to 1000, e.g. 30"),
        ({"category": "normal"}, "category", "must be one of general, key (or 一般, 一般检查事项, 一般事项, 重点, 重点检查事项, 重点事项)"),
        (
            {"method": "phone"},
            "method",
            "'phone' must be one of onsite, documentary, online, sampling, expert (or 现场检查, 实地核查, 实地检查, 书面检查, 书面审查, 书面核查, 网络检查, 网络监测, 网络核查, 抽样检测, 抽样检验, 抽检, 专业机构核查, 委托专业机构核查)",
        ),
        ({"method": ""}, "method", "is required (one or more methods, separated by ;)"),
        ({"department": "POLICE"}, "department", "is not a known department code"),
    ],
)
def test_each_item_rule(tmp_path, changes, column, reason):
    assert item_errors(tmp_path, **changes) == [(2, column, reason)]


def test_ratio_cap_spellings(tmp_path):
    for text, value in (("30‰", 30), ("0", 0), ("1000", 1000), ("2.5%", 25), ("100%", 1000), ("30.0", 30)):
        records, validation = run(write_csv(tmp_path, ITEM_HEADER, [item(ratio_cap=text)]), kind="items")
        assert validation.errors == [], text
        assert records[0]["ratio_cap"] == value


def test_items_without_ratio_cap_column(tmp_path):
    header = [key for key in ITEM_HEADER if key != "ratio_cap"]
    rows = [
        [v for k, v in zip(ITEM_HEADER, item(category="key")) if k != "ratio_cap"],
        [v for k, v in zip(ITEM_HEADER, item(code="X2")) if k != "ratio_cap"],
    ]
    records, validation = run(write_csv(tmp_path, header, rows), kind="items")
    # A ratio cap is optional (a list gives none): both items go in without one.
    assert [r["code"] for r in records] == ["SAMR-001", "X2"] and [r["ratio_cap"] for r in records] == [None, None]
    assert validation.errors == []
    assert "ratio_cap" not in validation.present


def test_item_with_several_errors_reports_the_cap_rule_too(tmp_path):
    assert item_errors(tmp_path, name="", category="key") == [
        (2, "name", "is required"),
        (2, "ratio_cap", "must be empty: key items have no ratio cap"),
    ]
