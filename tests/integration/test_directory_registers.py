"""Importing registers as platform teams keep them (issue 16): sheets generated here in the shapes of
the real ones (title rows, two-row headers, merged cells, codes Excel stored as numbers, .xls,
GB18030 CSV), each imported as given, through the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from jointcheck.core.directory_io.credit_code import make_credit_code
from tests.db_snapshot import snapshot

EXCEL_CAUSE = "Excel stored this code as a number and lost digits; format the column as text at the source and export again"
GOOD_CODE = "91350100M000100Y43"
# 18 digits ending in 000 whose check digit passes: Excel's 15 significant digits keep it "valid".
PASSING_NUMBER = 914401483435261000
FAILING_NUMBER = 9.14690062012665e17
REG_NO = 440106000012344  # 15 digits, ISO 7064 MOD 11,10 check digit right
REG_NO_2 = 440106000056780


@pytest.fixture
def registers_db(cli, db_url):
    assert cli(db_url, "admin", "department", "add", "SCJG", "市场监督管理局").code == 0
    assert cli(db_url, "admin", "department", "add", "JYT", "教育厅").code == 0
    assert cli(db_url, "admin", "department", "alias", "JYT", "省教育厅").code == 0
    return db_url


def registration_export(path: Path, rows: list[list]) -> Path:
    """An entity sheet as a registration system exports it: a title row merged across, personal
    columns, no region, risk class or department, codes sometimes stored as numbers, a note row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某县市场主体名录（2026年11月导出）"])
    sheet.merge_cells("A1:I1")
    sheet.append(["序号", "企业名称", "注册号", "TYXYDM", "企业类型名称", "法定代表人", "经营地址", "创建日期", "ZT"])
    for i, row in enumerate(rows, 1):
        sheet.append([i, *row])
    sheet.append(["注：本表由登记系统导出，仅供内部使用。"])
    sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=9)
    book.save(path)
    return path


def entity(name, reg_no, code, kind="有限责任公司(自然人投资或控股)", address="广州市天河区天河路1号", status="正常"):
    return [name, reg_no, code, kind, "张三", address, "2020-01-02", status]


def import_targets(cli, db, path, *extra):
    return cli(db, "import", "targets", str(path), "--set", "行政区划=440106", "--ignore-unknown", *extra)


def test_excel_numbers_are_refused_with_their_cause_and_nothing_is_imported(cli, registers_db, tmp_path):
    path = registration_export(
        tmp_path / "entities.xlsx",
        [
            entity("甲公司", None, GOOD_CODE),
            entity("乙公司", None, PASSING_NUMBER),  # passes the check digit by chance
            entity("丙公司", None, FAILING_NUMBER),
            entity("丁公司", REG_NO_2, PASSING_NUMBER),  # a 注册号 does not save a code Excel mangled
            entity("张记小吃店", REG_NO, None, kind="个体工商户"),  # a 注册号 stored as a number is exact
            entity("无号店", None, None, kind="个体工商户"),
        ],
    )
    before = snapshot(registers_db)
    result = import_targets(cli, registers_db, path)
    assert result.code == 1
    assert f"line 4, column 统一社会信用代码 (code), value '{PASSING_NUMBER}': {EXCEL_CAUSE}" in result.err
    assert "line 5, column 统一社会信用代码 (code), value '914690062012665000': " + EXCEL_CAUSE in result.err
    assert f"line 6, column 统一社会信用代码 (code), value '{PASSING_NUMBER}': {EXCEL_CAUSE}" in result.err
    assert "line 8, column 统一社会信用代码 (code), value '': is empty and there is no registration number (注册号) either" in result.err
    assert "line 7" not in result.err and "line 3," not in result.err
    assert "row(s) 1 taken as a title or notes" in result.out and "row(s) 9 under the table taken as notes" in result.out
    assert snapshot(registers_db) == before  # nothing half-imported


def test_skip_bad_rows_exits_3_and_the_fixed_bad_rows_file_imports_as_it_is(cli, registers_db, tmp_path):
    path = registration_export(
        tmp_path / "entities.xlsx",
        [entity("甲公司", None, GOOD_CODE), entity("丙公司", None, FAILING_NUMBER), entity("张记小吃店", REG_NO, None, kind="个体工商户")],
    )
    bad = tmp_path / "bad.csv"
    result = import_targets(cli, registers_db, path, "--skip-bad-rows", str(bad))
    assert result.code == 3, result.err
    assert "imported, 1 rows skipped" in result.out
    rows = list(csv.reader(bad.open(encoding="utf-8-sig")))
    assert rows[0][:3] == ["序号", "企业名称", "注册号"] and rows[0][-1] == "错误原因 (errors)"
    assert rows[1][1] == "丙公司" and EXCEL_CAUSE in rows[1][-1]
    rows[1][3] = make_credit_code("91440106MA59TQ8F4")  # fixed at the source: the code as text
    with bad.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    again = import_targets(cli, registers_db, bad)
    assert again.code == 0, again.err
    assert "1 good, 0 bad" in again.out
    export = tmp_path / "out.csv"
    assert cli(registers_db, "export", "targets", str(export)).code == 0
    exported = {r[0]: r for r in csv.reader(export.open(encoding="utf-8-sig"))}
    assert set(exported) == {"code", GOOD_CODE, str(REG_NO), rows[1][3]}
    assert exported[str(REG_NO)][2] == "individual" and exported[GOOD_CODE][2] == "enterprise"
    assert exported[GOOD_CODE][5] == "U"  # no risk class: unclassified
    assert exported[GOOD_CODE][8] == "active"  # 正常


def test_region_from_address_and_chinese_messages(cli, registers_db, tmp_path, monkeypatch):
    path = registration_export(
        tmp_path / "entities.xlsx",
        [
            entity("甲公司", None, GOOD_CODE, address="广东省广州市越秀区中山五路1号"),
            entity("乙公司", None, FAILING_NUMBER, address="朝阳区某路"),
        ],
    )
    monkeypatch.setenv("JOINTCHECK_LANGUAGE", "zh")
    result = cli(registers_db, "import", "targets", str(path), "--ignore-unknown", "--region-from-address", "--dry-run")
    assert result.code == 1
    assert "Excel 将此代码存为数字并丢失了位数" in result.err
    assert "第 4 行" in result.err and "110105" in result.err and "220104" in result.err  # 朝阳区 is in Beijing and in Changchun
    assert "试运行" in result.out
    monkeypatch.setenv("JOINTCHECK_LANGUAGE", "en")
    report = tmp_path / "report.csv"
    result = cli(
        registers_db, "import", "targets", str(path), "--ignore-unknown", "--region-from-address", "--dry-run", "--report", str(report)
    )
    lines = list(csv.reader(report.open(encoding="utf-8-sig")))
    assert [line[0] for line in lines[1:]] == ["4", "4"] and EXCEL_CAUSE in lines[1][3]


def test_show_mapping_names_each_column_and_changes_nothing(cli, registers_db, tmp_path):
    path = registration_export(tmp_path / "entities.xlsx", [entity("甲公司", None, GOOD_CODE)])
    before = snapshot(registers_db)
    map_file = tmp_path / "map.txt"
    map_file.write_text("# the registration system's spellings\n创建日期=-\n", encoding="utf-8")
    result = cli(registers_db, "import", "targets", str(path), "--show-mapping", "--map-file", str(map_file), "--set", "行政区划=440106")
    assert result.code == 0, result.err
    assert "TYXYDM -> 统一社会信用代码 (code)" in result.out
    assert "企业类型名称 -> 类型 (kind)" in result.out
    assert "法定代表人 -> left out" in result.out and "创建日期 -> left out" in result.out
    assert snapshot(registers_db) == before


def test_item_list_with_title_two_row_header_and_merged_cells(cli, registers_db, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["省教育厅随机抽查事项清单"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "抽查项目", None, "检查对象", "检查方式", "检查依据", "部门"])
    sheet.append([None, "抽查类别", "抽查事项", None, None, None, None])
    for column in "ADEFG":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("B2:C2")
    long_name = "学校安全管理检查\n" + "包括消防、食品、校车等" * 100
    sheet.append([1, "重点检查事项", long_name, "中小学校", "现场检查、网络检查", "《教育法》\n《义务教育法》", "省教育厅"])
    sheet.append([2, None, "招生收费检查", "企业、个体工商户", "抽样检测、专业机构核查", "《教育法》", "JYT"])
    sheet.merge_cells("B4:B5")
    path = tmp_path / "items.xlsx"
    book.save(path)
    result = cli(registers_db, "import", "items", str(path))
    assert result.code == 0, result.err
    assert "header on rows 2–3" in result.out and "1 merged ranges filled down" in result.out
    export = tmp_path / "items.csv"
    assert cli(registers_db, "export", "items", str(export)).code == 0
    items = list(csv.DictReader(export.open(encoding="utf-8-sig")))
    assert len(items) == 2 and all(item["code"].startswith("JYT-") for item in items)
    assert all(f"code {item['code']} given to " in result.out for item in items)  # each generated code is printed
    by_name = {item["name"]: item for item in items}
    assert by_name[long_name]["method"] == "online;onsite" and by_name[long_name]["object_kind"] == "中小学校"
    assert by_name["招生收费检查"]["group"] == "重点检查事项"  # filled down from the merged cell
    assert by_name["招生收费检查"]["method"] == "expert;sampling" and by_name["招生收费检查"]["ratio_cap"] == ""
    again = cli(registers_db, "import", "items", str(path))
    assert again.code == 0 and "0 rows written" in again.out  # the generated codes are stable


def test_inspector_roster_xls_black_list_and_region_by_name(cli, registers_db, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("执法人员")
    sheet.write_merge(0, 0, 0, 5, "说明：请勿修改表头")
    sheet.write_merge(1, 1, 0, 5, "执法人员名录")
    for i, name in enumerate(["执法姓名", "执法编号", "执法类别", "执法区域", "证件类型", "黑白名单"]):
        sheet.write(2, i, name)
    sheet.write(3, 0, "张三")
    sheet.write(3, 1, "44010012345")
    sheet.write(3, 2, "市场监管")
    sheet.write(3, 3, "天河区")
    sheet.write(3, 4, "执法证")
    sheet.write(3, 5, "白名单")
    for i, value in enumerate(["李四", "44010012346", "市场监管", "广州市越秀区", "执法证", "黑名单"]):
        sheet.write(4, i, value)
    path = tmp_path / "roster.xls"
    book.save(str(path))
    result = cli(registers_db, "import", "inspectors", str(path), "--set", "部门=市场监督管理局")
    assert result.code == 0, result.err
    assert "row(s) 1, 2 taken as a title or notes" in result.out and "证件类型" in result.out
    export = tmp_path / "inspectors.csv"
    assert cli(registers_db, "export", "inspectors", str(export)).code == 0
    rows = {r["cert_no"]: r for r in csv.DictReader(export.open(encoding="utf-8-sig"))}
    assert rows["44010012345"]["region"] == "440106" and rows["44010012345"]["status"] == "active"
    assert rows["44010012346"]["region"] == "440104" and rows["44010012346"]["status"] == "excluded"
    assert rows["44010012345"]["department"] == "SCJG"


def test_gb18030_csv_with_real_status_and_type_names(cli, registers_db, tmp_path):
    text = (
        "企业名称,统一社会信用代码,企业类型名称,住所,登记状态,行政区划\n"
        f"甲公司,{GOOD_CODE},股份有限公司(上市),广州市天河区,存续,天河区\n"
        "乙合作社,93440106MA5D5X1U9L,农民专业合作社,广州市天河区,吊销,440106\n"
        "丙公司,9.14690062012665E+17,有限责任公司(自然人独资),广州市天河区,迁出,440106\n"
    )
    path = tmp_path / "gb.csv"
    path.write_bytes(text.encode("gb18030"))
    result = cli(registers_db, "import", "targets", str(path))
    assert result.code == 1
    assert "line 2" not in result.err
    assert f"line 4, column 统一社会信用代码 (code), value '9.14690062012665E+17': {EXCEL_CAUSE}" in result.err


def ods(path: Path, rows: list[list]) -> Path:
    """A minimal OpenDocument spreadsheet written by hand: numbers as float cells, text as strings."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(value) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{value!r}"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="名录">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)
    return path


def test_ods_numbers_are_told_from_text(cli, registers_db, tmp_path):
    path = ods(
        tmp_path / "entities.ods",
        [
            ["企业名称", "统一社会信用代码", "注册号", "主体类型", "行政区划", "监管部门"],
            ["甲公司", GOOD_CODE, None, "企业", "440106", "市场监督管理局"],
            ["乙公司", float(PASSING_NUMBER), None, "企业", "440106", "SCJG"],
            ["丙店", None, float(REG_NO), "个体工商户", "440106", ""],
        ],
    )
    result = cli(registers_db, "import", "targets", str(path), "--dry-run")
    assert result.code == 1
    assert result.err.strip() == f"line 3, column 统一社会信用代码 (code), value '{PASSING_NUMBER}': {EXCEL_CAUSE}"
    assert "2 good, 1 bad" in result.out


def test_joint_item_list_xls_imports_and_a_round_is_proposed_from_an_entry(cli, registers_db, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("联合抽查事项清单")
    sheet.write_merge(0, 0, 0, 4, "附件2")
    sheet.write_merge(1, 1, 0, 4, "某省部门联合抽查事项清单")
    for i, name in enumerate(["抽查领域", "抽查事项", "检查对象", "发起部门", "配合部门"]):
        sheet.write(2, i, name)
    for i, value in enumerate(["教育", "校外培训机构检查", "培训机构", "教育部门", "市场监管部门、消防部门"]):
        sheet.write(3, i, value)
    sheet.write_merge(4, 4, 0, 4, "注：配合部门可根据实际增减。")
    path = tmp_path / "joint.xls"
    book.save(str(path))
    result = cli(registers_db, "import", "joint-items", str(path))
    assert result.code == 0, result.err
    assert "row(s) 1, 2 taken as a title or notes" in result.out and "row(s) 5 under the table taken as notes" in result.out
    export = tmp_path / "joint.csv"
    assert cli(registers_db, "export", "joint-items", str(export)).code == 0
    (entry,) = list(csv.DictReader(export.open(encoding="utf-8-sig")))
    assert entry["partners"] == "市场监管部门;消防部门" and entry["code"].startswith("JOINT-")

    assert cli(registers_db, "admin", "department", "add", "XF", "消防救援支队").code == 0
    officer = cli(registers_db, "admin", "invite", "--role", "officer", "--department", "JYT").out.splitlines()[0]
    user = cli(registers_db, "admin", "redeem", officer, "--name", "教育厅科员").out.split()[1]
    propose = ["round", "propose", "--as", user, "--lead", "JYT", "--region", "440100", "--items", "X", "--ratio", "A=10"]
    refused = cli(registers_db, *propose, "--joint-item", entry["code"])
    assert refused.code == 1 and "not known here: 市场监管部门, 教育部门, 消防部门" in refused.err
    for code, alias in (("JYT", "教育部门"), ("SCJG", "市场监管部门"), ("XF", "消防部门")):
        assert cli(registers_db, "admin", "department", "alias", code, alias).code == 0
    items = tmp_path / "jyt.csv"
    items.write_text("事项编码,部门,事项名称,抽查方式\nX,教育厅,校外培训机构检查,现场检查\n", encoding="utf-8")
    assert cli(registers_db, "import", "items", str(items)).code == 0
    proposed = cli(registers_db, *propose, "--joint-item", entry["code"])
    assert proposed.code == 0, proposed.err
    shown = cli(registers_db, "round", "show", "1", "--as", user).out
    assert '"title": "校外培训机构检查"' in shown and "SCJG" in shown and "XF" in shown


@pytest.mark.parametrize("kind", ["targets", "inspectors", "items", "joint-items"])
def test_templates_have_chinese_text_columns_lists_and_instructions(cli, tmp_path, kind):
    path = tmp_path / f"{kind}.xlsx"
    result = cli("sqlite+aiosqlite:///unused.db", "template", kind, str(path))
    assert result.code == 0, result.err
    book = openpyxl.load_workbook(path)
    sheet, notes = book.worksheets
    assert notes.title == "填写说明" and notes["A1"].value == "列"
    header = [cell.value for cell in sheet[1]]
    assert all(not name.isascii() for name in header)
    if kind == "targets":
        assert header[:2] == ["统一社会信用代码", "名称"] and sheet["A2"].number_format == "@"
        lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
        assert '"存续,注销,吊销,迁出"' in lists.values() and '"A,B,C,D"' in lists.values()


def test_a_filled_in_template_imports(cli, registers_db, tmp_path):
    path = tmp_path / "targets.xlsx"
    assert cli(registers_db, "template", "targets", str(path)).code == 0
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    values = {"统一社会信用代码": GOOD_CODE, "名称": "甲公司", "类型": "企业", "行政区划": "440106", "状态": "存续", "监管部门": "SCJG"}
    for index, cell in enumerate(sheet[1], 1):
        sheet.cell(row=2, column=index, value=values.get(cell.value))
    book.save(path)
    result = cli(registers_db, "import", "targets", str(path))
    assert result.code == 0, result.err
    assert "1 good, 0 bad" in result.out


def test_unknown_columns_are_named_in_the_operators_language(cli, registers_db, tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("企业名称,TYXYDM,企业类型名称,颜色\n甲公司,91350100M000100Y43,企业,红\n", encoding="utf-8")
    monkeypatch.setenv("JOINTCHECK_LANGUAGE", "zh")
    result = cli(registers_db, "import", "targets", str(path))
    assert result.code == 1
    assert "错误：targets 中有无法识别的列：'颜色'" in result.err and "缺少必需的列：行政区划 (region)" in result.err
    monkeypatch.setenv("JOINTCHECK_LANGUAGE", "en")
    result = cli(registers_db, "import", "targets", str(path), "--ignore-unknown", "--set", "行政区划=440106")
    assert result.code == 0 and "columns left out: 颜色" in result.out
