"""Blank import templates (`jointcheck template KIND FILE.xlsx`) for offices that start a register.

The first sheet has the columns in Chinese, each code-like column formatted as text (so Excel never
turns a credit code into 9.14690062012665E+17), a drop-down list on each column with fixed values,
and a comment on each header saying what goes in it; the second sheet explains the columns.
"""

from __future__ import annotations

import os

from jointcheck.core.directory_io.schemas import CATEGORIES, INSPECTOR_KINDS, TARGET_KINDS, get_schema

__all__ = ["write_template"]

# Columns whose cells are text even when they look like numbers.
TEXT_COLUMNS = frozenset({"code", "reg_no", "region", "industry", "cert_no", "conflicts", "departments", "department", "tags"})
# Drop-down lists: (kind, column) -> the Chinese spellings offered.
CHOICES = {
    ("targets", "kind"): [spellings[0] for spellings in TARGET_KINDS.values()],
    ("targets", "risk"): ["A", "B", "C", "D"],
    ("targets", "status"): ["存续", "注销", "吊销", "迁出"],
    ("inspectors", "kind"): [spellings[0] for spellings in INSPECTOR_KINDS.values()],
    ("inspectors", "status"): ["白名单", "黑名单"],
    ("items", "category"): [spellings[0] for spellings in CATEGORIES.values()],
}
_NOTES = {
    "code": "填文本，勿让 Excel 转成数字",
    "reg_no": "无统一社会信用代码时填 15 位注册号",
    "region": "6 位行政区划代码或名称，如 440106 或 天河区",
    "departments": "部门代码、名称或别名，多个用 ; 分隔",
    "method": "现场检查、书面检查、网络检查、抽样检测、专业机构核查，可多选，用 、 分隔",
}


def write_template(path: str | os.PathLike, kind: str) -> None:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    schema = get_schema(kind)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "导入"
    sheet.freeze_panes = "A2"
    for index, column in enumerate(schema.columns, 1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.zh)
        cell.font = Font(bold=True)
        cell.comment = Comment(_NOTES.get(column.key, column.description), "jointcheck")
        sheet.column_dimensions[letter].width = max(12, len(column.zh) * 2 + 4)
        if column.key in TEXT_COLUMNS:
            # A column's style applies to the cells people type into, not only to row 1.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
        choices = CHOICES.get((schema.kind, column.key))
        if choices:
            validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            validation.error = "请从下拉列表中选择"
            validation.add(f"{letter}2:{letter}100000")
            sheet.add_data_validation(validation)
    notes = book.create_sheet("填写说明")
    notes.append(["列", "必填", "说明"])
    for column in schema.columns:
        notes.append([column.zh, "是" if column.required else "否", column.description])
    notes.append([])
    notes.append(
        ["代码列已设为文本格式：请粘贴为“值”，不要让 Excel 把统一社会信用代码存成数字（如 9.14690062012665E+17），否则导入会被拒绝。"]
    )
    notes.append(["标题行、说明行、两行表头、合并单元格都可以保留；导入时会说明如何理解了表格。"])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["C"].width = 80
    book.save(path)
