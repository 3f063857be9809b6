"""Reading CSV and XLSX rows with the line numbers a person sees."""

from __future__ import annotations

import codecs
import datetime as dt
import io

import openpyxl
import pytest

from jointcheck.core.directory_io.errors import DirectoryFileError
from jointcheck.core.directory_io.readers import file_format, open_table, read_rows, sheet_cell_text


def _csv(tmp_path, text: str, encoding: str = "utf-8", name: str = "f.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_line_numbers_count_physical_lines_of_quoted_cells(tmp_path):
    path = _csv(tmp_path, 'code,name\n1,"first\nsecond\nthird"\n2,plain\n\n3,"a ""quoted"" word"\r\n4,last')
    rows = list(read_rows(path))
    assert rows == [
        (1, ["code", "name"]),
        (2, ["1", "first\nsecond\nthird"]),
        (5, ["2", "plain"]),
        (6, []),
        (7, ["3", 'a "quoted" word']),
        (8, ["4", "last"]),
    ]


def test_csv_in_gb18030_and_with_bom(tmp_path):
    text = "名称,地址\n广州市天河区测试商行,天河路1号\n"
    for encoding, expected in (("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")):
        path = _csv(tmp_path, text, encoding)
        with open_table(path) as table:
            assert table.encoding == expected
            rows = list(table.rows())
        assert rows == [(1, ["名称", "地址"]), (2, ["广州市天河区测试商行", "天河路1号"])]  # no BOM in the header


def test_bad_byte_after_the_sample_stops_the_read_with_its_line(tmp_path, monkeypatch):
    from jointcheck.core.directory_io import encoding
    from jointcheck.core.directory_io.errors import EncodingError

    monkeypatch.setattr(encoding, "SAMPLE", 64)
    data = "名称,地址\n".encode() + b"x,y\n" * 5000 + "z,广州\n".encode("gb18030") + b"w,v\n"
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(EncodingError) as caught:
        list(read_rows(path))
    assert caught.value.line == 5002
    assert caught.value.offset == data.index("广州".encode("gb18030"))
    assert "line 5002" in str(caught.value)


def test_csv_with_an_unclosed_quote_names_the_line(tmp_path):
    path = _csv(tmp_path, 'a,b\n1,2\n3,"never closed\n4,5\n')
    with pytest.raises(DirectoryFileError, match="line 3"):
        list(read_rows(path))


def test_csv_from_a_file_object_needs_a_name():
    data = codecs.BOM_UTF8 + b"a,b\n1,2\n"
    assert list(read_rows(io.BytesIO(data), filename="upload.CSV")) == [(1, ["a", "b"]), (2, ["1", "2"])]
    with pytest.raises(ValueError):
        list(read_rows(io.BytesIO(data)))


@pytest.mark.parametrize(("name", "fmt"), [("a.csv", "csv"), ("B.XLSX", "xlsx"), ("dir.v2/c.Csv", "csv")])
def test_format_from_extension(name, fmt):
    assert file_format(name) == fmt


@pytest.mark.parametrize("name", ["a.et", "a.txt", "a", "a.csv.bak"])
def test_other_extensions_are_refused(name):
    with pytest.raises(DirectoryFileError):
        file_format(name)


def test_xlsx_saved_as_csv_is_explained(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["a"])
    path = tmp_path / "f.csv"
    workbook.save(path)
    with pytest.raises(DirectoryFileError, match="rename it to .xlsx"):
        list(read_rows(path))


def test_garbage_xlsx_is_a_file_error(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"code,name\n1,2\n")
    with pytest.raises(DirectoryFileError, match="XLSX"):
        list(read_rows(path))


def test_xlsx_first_sheet_numbers_and_empty_cells(tmp_path):
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "targets"
    first.append(["code", "region", "risk", "ratio"])
    first.append(["91350100M000100Y43", 440106.0, None, 0.5])
    first.append([])  # an empty row keeps its number
    first.append(["X", 350100, "B", 30.0])
    first.cell(row=6, column=1, value="far")
    workbook.create_sheet("other").append(["ignored"])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    rows = list(read_rows(path))
    assert rows[0] == (1, ["code", "region", "risk", "ratio"])
    assert rows[1] == (2, ["91350100M000100Y43", "440106", "", "0.5"])
    assert rows[3] == (4, ["X", "350100", "B", "30"])
    assert rows[-1][0] == 6 and rows[-1][1][0] == "far"
    assert [line for line, _ in rows] == [1, 2, 3, 4, 5, 6]
    assert all(cell == "" for cell in rows[2][1])


def test_xlsx_from_a_file_object(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["a", 1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    assert list(read_rows(buffer, filename="x.xlsx")) == [(1, ["a", "1"])]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("text", "text"),
        (440106, "440106"),
        (440106.0, "440106"),
        (9.1350100e17, "913501000000000000"),
        (0.25, "0.25"),
        (True, "TRUE"),
        (dt.datetime(2024, 5, 1), "2024-05-01"),
        (dt.datetime(2024, 5, 1, 8, 30), "2024-05-01 08:30:00"),
        (dt.date(2024, 5, 1), "2024-05-01"),
    ],
)
def test_sheet_cell_text(value, text):
    assert sheet_cell_text(value) == text


def test_abandoned_reads_close_cleanly(tmp_path):
    from jointcheck.core.directory_io import validate_file

    path = _csv(
        tmp_path, "code,name,kind,region,risk,departments\n91350100M000100Y43,甲,enterprise,350102,A,SAMR\nCP-1,乙,product,350102,A,SAMR\n"
    )
    validation = validate_file("targets", path, {"SAMR"})
    records = iter(validation)
    assert next(records)["code"] == "91350100M000100Y43"
    validation.close()
    assert not validation.finished and not validation.ok
    stream = open(path, "rb")
    try:
        with validate_file("targets", stream, {"SAMR"}, filename="upload.csv") as validation:
            assert len(list(validation)) == 2 and validation.ok
        assert not stream.closed  # the caller's stream stays the caller's
    finally:
        stream.close()
