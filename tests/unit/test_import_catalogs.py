"""Every message an import can show (refusal reasons, layout notes, console lines) is in both catalogs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from jointcheck.core.directory_io.errors import RowError
from jointcheck.core.directory_io.report import format_row_error
from jointcheck.core.directory_io.schemas import EXCEL_NUMBER
from jointcheck.i18n import LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2] / "jointcheck"
SOURCES = [*sorted((ROOT / "core" / "directory_io").glob("*.py")), ROOT / "cli" / "directory.py"]
CALLS = {"Invalid", "translate", "_say"}


def import_messages() -> set[str]:
    """First string arguments of Invalid(), translate() and _say(), and (sentence, {fields}) pairs."""
    found = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in CALLS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
                elif isinstance(first, ast.Name) and first.id == "EXCEL_NUMBER":
                    found.add(EXCEL_NUMBER)
            if isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[1], ast.Dict):
                first = node.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    found.discard("{entries}")  # a list's entries, each already a sentence
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_import_message_is_translated(language):
    with open(LOCALES_DIR / language / "LC_MESSAGES" / "jointcheck.po", "rb") as fh:
        catalog = read_po(fh)
    messages = import_messages()
    assert len(messages) > 40
    missing = sorted(m for m in messages if m not in catalog or not catalog[m].string)
    assert missing == []


def test_a_refusal_reads_in_chinese_and_in_english():
    error = RowError(4, "code", "914401483435261000", EXCEL_NUMBER, EXCEL_NUMBER)
    assert format_row_error(error, "targets") == f"line 4, column 统一社会信用代码 (code), value '914401483435261000': {EXCEL_NUMBER}"
    chinese = format_row_error(error, "targets", "zh_CN")
    assert chinese.startswith("第 4 行，列 统一社会信用代码 (code)，值 '914401483435261000'：")
    assert "Excel 将此代码存为数字并丢失了位数" in chinese
