"""Masking of personal data before publication: each kind masked, public information left alone."""

from __future__ import annotations

import pytest

from jointcheck.core.masking import id_card_valid, mask_numbers, mask_person_name, mask_target_name, mask_text


def test_person_names_keep_only_the_surname():
    assert mask_person_name("张三") == "张*"
    assert mask_person_name("欧阳娜娜") == "欧***"
    assert mask_person_name("") == ""


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("李四", "individual", "李*"),
        ("李四", "enterprise", "李四"),  # not an individual business: a company's name is public
        ("广州某某食品有限公司", "enterprise", "广州某某食品有限公司"),
        ("经营者：王小明的水果摊", "individual", "经营者：王小明的水果摊".replace("王小明", "王**")),
        ("张记面馆 13812345678", "individual", "张记面馆 138****5678"),
    ],
)
def test_target_names(name, kind, shown):
    assert mask_target_name(name, kind) == shown


def test_id_card_numbers_are_recognised_by_their_check_digit():
    assert id_card_valid("11010519491231002X") and id_card_valid("11010519491231002x")
    assert not id_card_valid("110105194912310021")
    assert mask_numbers("身份证11010519491231002X。") == "身份证110105********002*。"
    # a wrong check digit is still a personal number: masked as a digit run
    assert "19491231" not in mask_numbers("号码110105194912310021")


def test_phone_and_bank_numbers():
    assert mask_numbers("电话13812345678或+86 139-1234-5678") == "电话138****5678或139****5678"
    assert mask_numbers("座机020-87654321") == "座机020-****4321"
    assert mask_numbers("卡号6222020200112233445") == "卡号6222***********3445"
    assert mask_numbers("卡号6222 0202 0011 2233") == "卡号6222********2233"


def test_public_numbers_stay():
    text = "统一社会信用代码91440101MA59ABCD1X，注册号440101000012345，日期2026-12-01，罚款5000元"
    assert mask_numbers(text) == text


def test_notes_mask_labelled_and_known_names():
    note = "负责人张三丰，联系人：李四；检查员王五在场"
    masked = mask_text(note, known_names=["王五"])
    assert "张三丰" not in masked and "李四" not in masked and "王五" not in masked
    assert masked.startswith("负责人张**") and "王*在场" in masked
