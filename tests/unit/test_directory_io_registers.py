"""Values as registers write them: regions by name or address, company types, statuses, sectors, layout."""

from __future__ import annotations

import pytest

from jointcheck.core.directory_io.region_names import region_names
from jointcheck.core.directory_io.schemas import TARGETS, ColumnMapping, Invalid, check_industry, check_risk, get_schema, region_by_name

CHECK = TARGETS.checkers({"SCJG": "SCJG", "市场监督管理局": "SCJG"})


@pytest.mark.parametrize(
    "text, code",
    [
        ("天河区", "440106"),
        ("广州市天河区", "440106"),
        ("广东省广州市天河区", "440106"),
        ("广州天河区", "440106"),
        ("东莞市", "441900"),
        ("广东省", "440000"),
    ],
)
def test_region_names(text, code):
    assert CHECK["region"](text) == code


def test_a_name_two_regions_share_asks_for_the_code():
    found = region_by_name("朝阳区")
    assert isinstance(found, Invalid) and "110105" in found.reason and "220104" in found.reason
    assert region_by_name("北京市朝阳区") == "110105"


def test_region_from_an_address():
    assert region_by_name("广东省广州市越秀区中山五路1号", whole=False) == "440104"
    assert region_by_name("深圳市南山区科技园", whole=False) == "440305"
    assert isinstance(region_by_name("珠江新城华夏路", whole=False), Invalid)
    assert len([c for c in region_names().names if c.startswith("44")]) > 150  # all of Guangdong


@pytest.mark.parametrize(
    "name, kind",
    [
        ("有限责任公司(自然人投资或控股)", "enterprise"),
        ("股份有限公司(上市、国有控股)", "enterprise"),
        ("个人独资企业", "enterprise"),
        ("普通合伙企业", "enterprise"),
        ("个体工商户", "individual"),
        ("个体户", "individual"),
        ("农民专业合作社", "cooperative"),
        ("农民专业合作社分社", "cooperative"),
        ("外国(地区)企业常驻代表机构", "enterprise"),
    ],
)
def test_company_type_names_map_to_kinds(name, kind):
    assert CHECK["kind"](name) == kind


@pytest.mark.parametrize(
    "text, status",
    [
        ("正常", "active"),
        ("存续", "active"),
        ("在营", "active"),
        ("开业", "active"),
        ("注销", "deregistered"),
        ("吊销", "deregistered"),
        ("迁出", "deregistered"),
        ("吊销，未注销", "deregistered"),
    ],
)
def test_status_names(text, status):
    assert CHECK["status"](text) == status


def test_sectors_by_name_risk_optional_departments_by_name():
    assert check_industry("制造业") == "C" and check_industry("批发和零售业") == "F"
    assert check_risk("") == "U" and check_risk("B类") == "B"
    assert CHECK["departments"]("市场监督管理局；SCJG") == "SCJG" and CHECK["departments"]("") == ""


def test_synonyms_personal_columns_and_the_operators_map():
    mapping = ColumnMapping(names={"QYMC": "name"}, ignore_unknown=True)
    keys = get_schema("targets").match_header(
        ["QYMC", "TYXYDM", "注册号", "企业类型名称", "住所", "法定代表人", "联系电话", "行政区划", "颜色"], mapping
    )
    assert keys == ["name", "code", "reg_no", "kind", "address", None, None, "region", None]
    assert mapping.ignored == ["法定代表人", "联系电话", "颜色"]
