"""Typed values as people type them: full-width digits, spaces of any width, % and ‰, several date
spellings; and each refusal carries the code the bot and the console explain."""

from __future__ import annotations

import datetime as dt

import pytest

from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.errors import InvalidInput
from jointcheck.core.regions import region_code_for, region_label
from jointcheck.core.services.rounds import seed_digits
from jointcheck.core.typed_input import parse_date, parse_moment, parse_ratio, percent, words


@pytest.mark.parametrize(
    ("typed", "permille"),
    [("3%", 30), ("３％", 30), ("2.5%", 25), ("30‰", 30), ("30", 30), ("０", 0), ("100%", 1000), (" 12 % ", 120)],
)
def test_ratios_in_percent_or_per_mille(typed, permille):
    assert parse_ratio(typed, "A") == permille


@pytest.mark.parametrize(
    ("typed", "code"),
    [("三", "ratio.unreadable"), ("2.55%", "ratio.too_fine"), ("101%", "ratio.out_of_range"), ("-3%", "ratio.unreadable")],
)
def test_a_ratio_that_cannot_be_taken_says_why(typed, code):
    with pytest.raises(InvalidInput) as refused:
        parse_ratio(typed, "B")
    assert refused.value.code == code and refused.value.params["risk"] == "B"


def test_percent_shows_per_mille_as_people_read_it():
    assert [percent(n) for n in (30, 35, 0, 1000, 5)] == ["3%", "3.5%", "0%", "100%", "0.5%"]


def test_words_split_on_spaces_of_any_width_and_either_scripts_commas():
    assert words("１０％　20%，30% ;  40%") == ["10%", "20%", "30%", "40%"]


def test_seed_full_width_and_ideographic_spaces_are_its_ascii_digits():
    assert seed_digits("８４２９\u3000１７３５ 0062 4918 7730") == "84291735006249187730"


@pytest.mark.parametrize(
    ("typed", "code", "params"),
    [
        ("8429 1735", "seed.too_short", {"count": 8, "min": 20}),
        ("8429 17x5 0062 4918 7730", "seed.not_digit", {"char": "x", "min": 20}),
        ("1" * 201, "seed.too_long", {"count": 201, "max": 200}),
    ],
)
def test_a_seed_refused_says_why(typed, code, params):
    with pytest.raises(InvalidInput) as refused:
        seed_digits(typed)
    assert (refused.value.code, refused.value.params) == (code, params)


def test_dates_and_times_in_the_spellings_people_use():
    assert parse_date("２０２７年３月１日") == parse_date("2027/3/1") == parse_date("2027-03-01") == dt.date(2027, 3, 1)
    moment = dt.datetime(2027, 3, 1, 10, 0, tzinfo=DOMAIN_TZ)
    assert parse_moment("２０２７－０３－０１　１０：００", DOMAIN_TZ) == moment
    assert parse_moment("2027/3/1 10:00", DOMAIN_TZ) == moment
    for typed, code in (("明天上午", "draw_at.unreadable"), ("2027-03-01 10:00", "draw_at.no_zone")):
        with pytest.raises(InvalidInput) as refused:
            parse_moment(typed)
        assert refused.value.code == code
    with pytest.raises(InvalidInput) as refused:
        parse_date("月底", code="due.unreadable")
    assert refused.value.code == "due.unreadable"


def test_regions_by_name_where_the_lookup_knows_them():
    assert region_code_for("广州市") == region_code_for("广州") == region_code_for("440100") == "440100"
    assert region_code_for("海珠区") == "440105" and region_code_for("不存在区") is None
    assert region_label("440100") == "广州市 (440100)" and region_label("659999") == "659999"
