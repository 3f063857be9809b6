"""draw-v1 selection at sizes where it cuts buckets by a sampled bound rather than by sorting."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointcheck.core import public_proof as pp
from tests.unit.test_public_proof_draw import naive_select

STRATA = ("A", "B", "C", "D/440106", "E")


def population(n: int) -> list[tuple[str, str]]:
    # Strata of very different sizes, so that k is a small and a large share of its stratum.
    return [(f"9144{i * 7919 % 10**9:09d}", STRATA[min(i % 16, 4)]) for i in range(n)]


def ks_of(rows, permille: dict[str, int]) -> dict[str, int]:
    counts = {s: sum(1 for _, r in rows if r == s) for s in STRATA}
    return {s: pp.k_for(n, permille[s]) for s, n in counts.items()}


PERMILLE = {"A": 30, "B": 600, "C": 1000, "D/440106": 0, "E": 400}


@pytest.mark.parametrize("chunk", [pp._CHUNK, 1_000])
def test_large_population_matches_naive_selection(monkeypatch, chunk):
    rows = population(60_000)
    ks = ks_of(rows, PERMILLE)
    key = hashlib.sha256(b"large").digest()
    expected = naive_select(key, rows, ks)
    bounds = []
    real_bound = pp._bound
    monkeypatch.setattr(pp, "_bound", lambda bucket, k: bounds.append(real_bound(bucket, k)) or bounds[-1])
    monkeypatch.setattr(pp, "_CHUNK", chunk)
    assert pp.select(key, rows, ks) == expected
    assert pp.select_population(key, pp.population_tsv(rows), ks) == expected
    assert any(bound is not None for bound in bounds)  # the sampled cut, not only the exact one, ran


def naive_counts(rows) -> Counter:
    return Counter(stratum for _, stratum in rows)


@pytest.mark.parametrize("block_size", [1, 64, 1000, 4096])
def test_the_block_reader_over_many_blocks_matches_the_naive_twin(block_size):
    # Blocks of a few lines: every line is some block's first, last, or both, where a reader that
    # lost or doubled a line at a block's edge would show it.
    rows = population(6_000)
    data = pp.population_tsv(rows)
    assert len(data) // max(block_size, 16) > 20  # many blocks, not one
    ks = ks_of(rows, PERMILLE)
    key = hashlib.sha256(b"blocks").digest()
    assert pp.population_counts(data, block_size=block_size) == naive_counts(rows)
    assert pp.select_population(key, data, ks, block_size=block_size) == naive_select(key, rows, ks)


def test_a_real_multi_mebibyte_population_is_read_in_its_real_blocks():
    rows = population(200_000)
    data = pp.population_tsv(rows)
    assert len(data) > 3 * pp._BLOCK  # the reader's own block size, three times over and a part
    ks = ks_of(rows, PERMILLE)
    key = hashlib.sha256(b"mebibytes").digest()
    assert pp.population_counts(data) == naive_counts(rows)
    assert pp.select_population(key, data, ks) == naive_select(key, rows, ks)


def test_a_misleading_sample_falls_back_to_the_exact_cut(monkeypatch):
    rows = population(30_000)
    ks = ks_of(rows, PERMILLE)
    key = hashlib.sha256(b"misled").digest()
    expected = naive_select(key, rows, ks)
    # A bound far too low keeps fewer than k entries: the cut must notice and sort instead.
    monkeypatch.setattr(pp, "_bound", lambda bucket, k: min(bucket, default=b""))
    monkeypatch.setattr(pp, "_CHUNK", 500)
    assert pp.select(key, rows, ks) == expected


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 3_000),
    st.dictionaries(st.sampled_from(STRATA), st.integers(0, 1000)),
    st.binary(min_size=32, max_size=32),
    st.sampled_from([2, 4, 16]),
    st.sampled_from([1, 7, 100]),
    st.sampled_from([1, 50, 1 << 20]),
)
def test_sampled_cuts_never_change_the_result(n, permille, key, sample, chunk, block_size):
    rows = population(n)
    ks = ks_of(rows, {s: permille.get(s, 500) for s in STRATA})
    expected = naive_select(key, rows, ks)
    saved = pp._SAMPLE, pp._CHUNK
    pp._SAMPLE, pp._CHUNK = sample, chunk  # cuts by sample at these sizes, and often
    try:
        assert pp.select(key, rows, ks) == expected
        data = pp.population_tsv(rows)
        assert pp.select_population(key, data, ks, block_size=block_size) == expected
        assert pp.population_counts(data, block_size=block_size) == naive_counts(rows)
    finally:
        pp._SAMPLE, pp._CHUNK = saved


@pytest.mark.parametrize(
    "data",
    [
        b"a\tA\nb\tA\n",
        b"a\tA\nb\tA\tB\n",  # a second TAB
        b"a\tA\nbA\n",  # no TAB
        b"a\tA\nb\tA\n\n",  # an empty line
        b"a\tA\n\tA\n",  # an empty id
        b"a\t\nb\tA\n",  # an empty stratum
        b"\ta\tA\n",
        b"b\tA\na\tA\n",  # out of order
        b"a\tA\nb\tA",  # no final LF
        b"a\tA\r\nb\tA\n",
        "é\tA\n".encode("latin-1"),  # not UTF-8
    ],
)
def test_block_reader_accepts_exactly_what_the_parser_accepts(data):
    try:
        expected = sorted(pp.parse_population_tsv(data))
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            pp.population_counts(data)
        assert str(raised.value) == str(exc)
    else:
        assert pp.population_counts(data) == {"A": len(expected)}
