"""Column specs and cell checkers, called directly."""

from __future__ import annotations

import pytest

from jointcheck.core.directory_io.errors import HeaderError
from jointcheck.core.directory_io.schemas import (
    KINDS,
    Invalid,
    check_industry,
    check_ratio_cap,
    department_checker,
    get_schema,
    list_checker,
    text_checker,
)


def test_the_three_kinds_have_the_spec_columns_in_order():
    assert KINDS == ("targets", "inspectors", "items", "joint_items")
    assert get_schema("targets").fields == (
        "code",
        "name",
        "kind",
        "region",
        "industry",
        "risk",
        "departments",
        "tags",
        "status",
        "address",
    )
    assert get_schema("inspectors").fields == ("cert_no", "name", "department", "kind", "skills", "region", "status", "conflicts")
    assert get_schema("items").fields == (
        "code",
        "department",
        "group",
        "name",
        "category",
        "basis",
        "subject",
        "content",
        "method",
        "object_kind",
        "ratio_cap",
    )
    assert get_schema("targets").headers("zh")[:3] == ["统一社会信用代码", "名称", "类型"]
    assert get_schema("items").column("ratio_cap").label == "比例上限 (ratio_cap)"
    with pytest.raises(ValueError):
        get_schema("cases")


def test_match_header_maps_each_cell():
    keys = get_schema("inspectors").match_header([" CERT_NO", "姓名", "", "Department", "  "])
    assert keys == ["cert_no", "name", None, "department", None]


def test_match_header_names_every_problem():
    with pytest.raises(HeaderError) as caught:
        get_schema("items").match_header(["code", "部门", "事项名称", "department", "colour"])
    assert caught.value.unknown == ["colour"]
    assert caught.value.duplicated == ["部门 (department)"]
    assert caught.value.missing == ["抽查方式 (method)"]


def test_department_codes_match_case_insensitively_unless_ambiguous():
    check = department_checker({"SAMR", "Tax", "TAX"})
    assert check("samr") == "SAMR"
    assert check("TAX") == "TAX" and check("Tax") == "Tax"
    assert check("tax") == Invalid("is not a known department code")


def test_text_checker_multiline():
    single = text_checker(required=False, max_len=10)
    multi = text_checker(required=False, max_len=10, multiline=True)
    assert single("a\nb") == Invalid("contains a line break")
    assert multi("a\nb") == "a\nb"
    assert multi("a\x07b") == Invalid("contains the control character U+0007")
    assert single("  ") == ""


def test_list_checker_sorts_and_dedups():
    check = list_checker(text_checker(required=True, max_len=5), required=True, what="things")
    assert check("b; a ；b;;") == "a;b"
    assert check(" ; ") == Invalid("is required (one or more things, separated by ;)")
    assert check("ok;toolong") == Invalid("'toolong' is 7 characters long, at most 5 allowed")


@pytest.mark.parametrize(
    ("raw", "value"),
    [("", None), (" 30 ", 30), ("30‰", 30), ("3%", 30), ("0.5%", 5), ("3％", 30), ("1000", 1000), ("0", 0)],
)
def test_ratio_cap_values(raw, value):
    assert check_ratio_cap(raw) == value


@pytest.mark.parametrize("raw", ["-1", "1001", "0.04%", "x", "NaN", "Infinity", "30 per mille"])
def test_ratio_cap_refusals(raw):
    assert isinstance(check_ratio_cap(raw), Invalid)


@pytest.mark.parametrize(("raw", "value"), [("a0111", "A0111"), ("C", "C"), ("c13", "C13"), ("131", "C131"), ("T98", "T98"), ("", "")])
def test_industry_values(raw, value):
    assert check_industry(raw) == value


@pytest.mark.parametrize("raw", ["U", "C1", "C13111", "A06", "99", "13a"])
def test_industry_refusals(raw):
    assert isinstance(check_industry(raw), Invalid)


def test_identifiers_that_went_through_a_number():
    from jointcheck.core.directory_io.schemas import EXCEL_NUMBER, NumberText, check_cert_no, check_credit_code, check_registration_number

    passing = "914401483435261000"  # its check digit passes: still refused, it was a number
    assert check_credit_code(passing) == passing
    assert check_credit_code(NumberText(passing)) == Invalid(EXCEL_NUMBER)
    assert check_credit_code("9.14690062012665E+17") == Invalid(EXCEL_NUMBER)
    assert check_registration_number(NumberText("440106000012344")) == "440106000012344"
    assert check_registration_number("440106000012345") == Invalid("check digit of the registration number should be {digit}", digit="4")
    assert check_cert_no(NumberText("44010012345")) == "44010012345"
    assert check_cert_no(NumberText("4401001234567890")) == Invalid(EXCEL_NUMBER)
