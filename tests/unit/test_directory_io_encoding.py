"""CSV encoding detection: UTF-8 with/without BOM, GB18030, and the refusals."""

from __future__ import annotations

import codecs
import io

import pytest

from jointcheck.core.directory_io import encoding
from jointcheck.core.directory_io.encoding import detect_encoding, detect_encoding_of_stream
from jointcheck.core.directory_io.errors import EncodingError

TEXT = "code,name\n91350100M000100Y43,福州测试有限公司\n"


def _write(tmp_path, data: bytes):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def test_utf8_with_bom(tmp_path):
    assert detect_encoding(_write(tmp_path, codecs.BOM_UTF8 + TEXT.encode())) == "utf-8-sig"


def test_utf8_without_bom(tmp_path):
    assert detect_encoding(_write(tmp_path, TEXT.encode())) == "utf-8"


def test_pure_ascii_is_utf8(tmp_path):
    assert detect_encoding(_write(tmp_path, b"a,b\n1,2\n")) == "utf-8"


def test_gb18030(tmp_path):
    data = TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert detect_encoding(_write(tmp_path, data)) == "gb18030"


def test_gb18030_byte_late_in_an_ascii_file(tmp_path, monkeypatch):
    # The sample is all ASCII, so the whole file is checked, chunk by chunk.
    monkeypatch.setattr(encoding, "SAMPLE", 64)
    monkeypatch.setattr(encoding, "CHUNK", 64)  # many chunks, and characters split across two
    data = b"a,b\n" + b"x,y\n" * 100 + "z,广州\n".encode("gb18030")
    for pad in range(4):  # shift the two-byte characters across chunk boundaries
        assert detect_encoding(_write(tmp_path, b"#" * pad + data)) == "gb18030"


def test_a_non_ascii_sample_decides(tmp_path, monkeypatch):
    monkeypatch.setattr(encoding, "SAMPLE", 64)
    utf8_then_gb = "名称,地址\n".encode() + b"x,y\n" * 100 + "广州".encode("gb18030")
    path = _write(tmp_path, utf8_then_gb)
    assert detect_encoding(path) == "utf-8"  # the rest is left to the strict reader
    # A sample that cuts a character in two is not an error.
    assert detect_encoding(_write(tmp_path, b"abc" + "中文".encode() * 40)) == "utf-8"
    assert detect_encoding(_write(tmp_path, b"abcd" + "中文".encode("gb18030") * 40)) == "gb18030"


def test_utf8_multibyte_character_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(encoding, "CHUNK", 7)
    assert detect_encoding(_write(tmp_path, ("名称" * 50).encode()), whole_file=True) == "utf-8"


@pytest.mark.parametrize("sample", [16, 1 << 20])
def test_undecodable_bytes_name_offset_and_line(tmp_path, monkeypatch, sample):
    monkeypatch.setattr(encoding, "CHUNK", 16)
    monkeypatch.setattr(encoding, "SAMPLE", sample)
    data = b"a,b\n1,2\n3,4\n" + b"x" * 40 + b"\n5,\xff\xff\n"
    with pytest.raises(EncodingError) as caught:
        detect_encoding(_write(tmp_path, data))
    bad = data.index(b"\xff")
    assert caught.value.offset == bad
    assert caught.value.line == 5
    assert f"byte {bad} (line 5)" in str(caught.value)


def test_bom_but_not_utf8_is_refused(tmp_path):
    data = codecs.BOM_UTF8 + "a,广州\n".encode("gb18030")
    with pytest.raises(EncodingError, match="UTF-8 BOM") as caught:
        detect_encoding(_write(tmp_path, data))
    assert caught.value.offset == 5  # the BOM is counted: BOM(3) + 'a,'


def test_utf16_is_refused_with_a_hint(tmp_path):
    with pytest.raises(EncodingError, match="UTF-16"):
        detect_encoding(_write(tmp_path, TEXT.encode("utf-16")))


def test_stream_is_rewound_to_where_it_was():
    stream = io.BytesIO(b"junk" + TEXT.encode("gb18030"))
    stream.seek(4)
    assert detect_encoding_of_stream(stream) == "gb18030"
    assert stream.tell() == 4
