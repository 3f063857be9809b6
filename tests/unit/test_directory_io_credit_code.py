"""GB 32100-2015 unified social credit codes: check digit, structure, error messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jointcheck.core.directory_io.credit_code import (
    ALPHABET,
    WEIGHTS,
    _fast_check_digit,
    check_digit,
    credit_code_error,
    is_valid_credit_code,
    make_credit_code,
)

# Both verified by hand below and by the algorithm.
VALID = ["91350100M000100Y43", "91110000600037341L"]


def test_hand_computed_check_digits():
    # 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4, weighted:
    # 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 = 1640
    # 1640 mod 31 = 28, 31 - 28 = 3 -> '3'
    assert sum(ALPHABET.index(c) * w for c, w in zip("91350100M000100Y4", WEIGHTS)) == 1640
    assert check_digit("91350100M000100Y4") == "3"
    # 9 1 1 1 0 0 0 0 6 0 0 0 3 7 3 4 1 -> 538; 538 mod 31 = 11; 31 - 11 = 20 -> ALPHABET[20] = 'L'
    assert sum(ALPHABET.index(c) * w for c, w in zip("91110000600037341", WEIGHTS)) == 538
    assert ALPHABET[20] == "L"
    assert check_digit("91110000600037341") == "L"


@pytest.mark.parametrize("code", VALID)
def test_known_valid_codes(code):
    assert is_valid_credit_code(code)
    assert credit_code_error(code) is None
    assert is_valid_credit_code(code.lower())
    assert is_valid_credit_code(f"  {code} ")


def test_weights_are_powers_of_three_mod_31():
    assert list(WEIGHTS) == [pow(3, i, 31) for i in range(17)]
    assert len(ALPHABET) == 31 and not set("IOZSV") & set(ALPHABET)


def test_check_digit_31_is_written_zero():
    # A prefix whose weighted sum is 0 mod 31 gets check digit '0' (31 -> 0), not an index error:
    # 9*1 + 1*3 + 1*19 (the 5th character) = 31.
    prefix = "91" + "001000" + "000000000"
    assert check_digit(prefix) == "0"
    assert is_valid_credit_code(prefix + "0")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "is empty"),
        ("91350100M000100Y4", "has 17 characters, a credit code has 18"),
        ("91350100M000100Y433", "has 19 characters, a credit code has 18"),
        ("91350100M000100Y44", "check digit should be 3"),
        ("91110000600037341A", "check digit should be L"),
        ("9135010OM000100Y43", "character 8 is 'O': credit codes never use I, O, Z, S or V"),
        ("91350100M0001-0Y43", "character 14 '-' is not allowed in a credit code"),
        ("01350100M000100Y43", "character 1 '0' is not a registration authority code (1-9, A, N, Y)"),
        ("9A350100M000100Y43", "character 2 'A' is not an entity type code (1-9)"),
        ("9135A100M000100Y43", "characters 3-8 (region code) must be digits"),
    ],
)
def test_error_reasons(code, reason):
    assert not is_valid_credit_code(code)
    assert credit_code_error(code) == reason


def test_make_credit_code():
    assert make_credit_code("91350100M000100Y4") == "91350100M000100Y43"
    assert make_credit_code("91110000600037341") == "91110000600037341L"
    with pytest.raises(ValueError):
        make_credit_code("9135")
    with pytest.raises(ValueError):
        make_credit_code("9135010OM000100Y4")


prefixes = st.builds(
    lambda a, t, region, org: a + t + region + org,
    st.sampled_from("123456789ANY"),
    st.sampled_from("123456789"),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(ALPHABET, min_size=9, max_size=9),
)


def _reference_check_digit(prefix: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(prefix, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


@given(prefixes)
def test_fast_check_agrees_with_the_textbook_formula(prefix):
    code = prefix + _reference_check_digit(prefix)
    assert make_credit_code(prefix) == code
    assert _fast_check_digit(prefix) == code[17]
    assert is_valid_credit_code(code)
    for wrong in ALPHABET:
        if wrong != code[17]:
            assert not is_valid_credit_code(code[:17] + wrong)


@given(prefixes, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_every_single_character_substitution_is_rejected(prefix, position, replacement):
    code = make_credit_code(prefix)
    if replacement == code[position]:
        replacement = ALPHABET[(ALPHABET.index(replacement) + 1) % 31]
    corrupted = code[:position] + replacement + code[position + 1 :]
    assert corrupted != code
    assert not is_valid_credit_code(corrupted)
    assert credit_code_error(corrupted) is not None


@given(prefixes, st.integers(0, 15))
def test_adjacent_transpositions_in_the_first_17_are_rejected(prefix, position):
    code = make_credit_code(prefix)
    a, b = code[position], code[position + 1]
    swapped = code[:position] + b + a + code[position + 2 :]
    if a == b:
        assert is_valid_credit_code(swapped)
    else:
        assert not is_valid_credit_code(swapped)
