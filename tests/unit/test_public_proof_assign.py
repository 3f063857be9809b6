"""assign-v1 (SPEC section 4): team matching from the same KEY."""

from __future__ import annotations

import hashlib
from collections import Counter, deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointcheck.core import public_proof as pp

KEY = bytes.fromhex("cb1c8f6587c6e65291170e1296706cf17dbc954c6cbff51c2995b35be7c7c0f8")  # the draw test's frozen KEY
VISIT = ["91440101MA00000001", "91440101MA00000010", "食品-003", "X-2", "91440101MA00000003", "91440101MA00000011"]
POOLS = {"SCJG": ["INS-01", "INS-02", "INS-03"], "YJJ": ["检查员-甲", "检查员-乙"], "ZJJ": ["Z-1"]}
TEAMS = {"SCJG": 2, "YJJ": 1, "ZJJ": 0, "AAA": 1}  # ZJJ sends no one; AAA has no pool at all
CONFLICTS = {
    ("INS-02", "91440101MA00000010"),
    ("检查员-乙", "食品-003"),
    ("检查员-甲", "食品-003"),  # YJJ has no one left for 食品-003
    ("INS-01", "X-2"),
}


def naive_assign(key, visit, pools, teams, conflicts):
    """assign-v1 read literally as a scan over the (lazily extended) concatenation of all cycles,
    with a consumed flag per entry, restarting every scan from the beginning."""

    def cycle(d, c):
        def order(i):
            h = hashlib.sha256(key + b"\x02" + d.encode() + b"\x00" + str(c).encode() + b"\x00" + i.encode())
            return (h.digest(), i.encode())

        return sorted(pools.get(d, []), key=order)

    entries = {d: [] for d in teams}
    cycles = dict.fromkeys(teams, 0)
    out, unstaffed = [], []
    for t in visit:
        for d in sorted(teams, key=lambda code: code.encode()):
            n = teams[d]
            eligible = [i for i in pools.get(d, []) if (i, t) not in conflicts]
            if len(eligible) < n:
                unstaffed.append((t, d))
                continue
            taken, pos = [], 0
            while len(taken) < n:
                if pos == len(entries[d]):
                    entries[d] += [[i, False] for i in cycle(d, cycles[d])]
                    cycles[d] += 1
                entry = entries[d][pos]
                if not entry[1] and entry[0] in eligible and entry[0] not in taken:
                    entry[1] = True
                    taken.append(entry[0])
                pos += 1
            out += [(t, d, i) for i in taken]
    return out, unstaffed


# Traced by hand from the cycles (hashes checked with sha256sum):
#   SCJG c0 = 02 01 03, c1 = 02 03 01, c2 = 03 01 02, c3 = 01 02 03;  YJJ c0 = 甲 乙, c1 = 乙 甲, c2 = 乙 甲.
# SCJG: t1 takes 02 01 (Q: 03); t2 (02 barred) takes 03, appends c1, skips 02 (barred) and 03 (taken),
# takes 01 (Q: 02 03); t3 takes 02 03; t4 (01 barred) appends c2, takes 03, skips 01, takes 02 (Q: 01);
# t5 takes 01, appends c3, skips 01 (taken), takes 02 (Q: 01 03); t6 takes 01 03.
FROZEN_ASSIGNMENTS = [
    ("91440101MA00000001", "SCJG", "INS-02"),
    ("91440101MA00000001", "SCJG", "INS-01"),
    ("91440101MA00000001", "YJJ", "检查员-甲"),
    ("91440101MA00000010", "SCJG", "INS-03"),
    ("91440101MA00000010", "SCJG", "INS-01"),
    ("91440101MA00000010", "YJJ", "检查员-乙"),
    ("食品-003", "SCJG", "INS-02"),
    ("食品-003", "SCJG", "INS-03"),
    ("X-2", "SCJG", "INS-03"),
    ("X-2", "SCJG", "INS-02"),
    ("X-2", "YJJ", "检查员-乙"),
    ("91440101MA00000003", "SCJG", "INS-01"),
    ("91440101MA00000003", "SCJG", "INS-02"),
    ("91440101MA00000003", "YJJ", "检查员-甲"),
    ("91440101MA00000011", "SCJG", "INS-01"),
    ("91440101MA00000011", "SCJG", "INS-03"),
    ("91440101MA00000011", "YJJ", "检查员-乙"),
]
FROZEN_UNSTAFFED = [(t, "AAA") for t in VISIT[:3]] + [("食品-003", "YJJ")] + [(t, "AAA") for t in VISIT[3:]]


def test_frozen_cycles():
    assert [pp.assign_cycle(KEY, "SCJG", c, POOLS["SCJG"]) for c in range(4)] == [
        ["INS-02", "INS-01", "INS-03"],
        ["INS-02", "INS-03", "INS-01"],
        ["INS-03", "INS-01", "INS-02"],
        ["INS-01", "INS-02", "INS-03"],
    ]
    assert pp.assign_cycle(KEY, "YJJ", 1, POOLS["YJJ"]) == ["检查员-乙", "检查员-甲"]


def test_frozen_assignment_vector():
    assignments, unstaffed = pp.assign(KEY, VISIT, POOLS, TEAMS, CONFLICTS)
    assert assignments == FROZEN_ASSIGNMENTS
    assert unstaffed == FROZEN_UNSTAFFED
    assert pp.assignments_tsv(assignments).splitlines()[0] == b"91440101MA00000001\tSCJG\tINS-02"


def test_frozen_vector_agrees_with_naive():
    assert naive_assign(KEY, VISIT, POOLS, TEAMS, CONFLICTS) == (FROZEN_ASSIGNMENTS, FROZEN_UNSTAFFED)


def test_conflicted_inspector_is_never_assigned():
    assignments, _ = pp.assign(KEY, VISIT, POOLS, TEAMS, CONFLICTS)
    assert not {(i, t) for t, _, i in assignments} & CONFLICTS


def test_unstaffed_when_pool_too_small_after_conflicts():
    pools = {"D": ["a", "b", "c"]}
    conflicts = {("a", "t2"), ("b", "t2")}
    assignments, unstaffed = pp.assign(KEY, ["t1", "t2", "t3"], pools, {"D": 2}, conflicts)
    assert unstaffed == [("t2", "D")]
    assert [t for t, _, _ in assignments] == ["t1", "t1", "t3", "t3"]
    # one conflict fewer and t2 is staffed, with the one eligible pair
    assignments, unstaffed = pp.assign(KEY, ["t1", "t2", "t3"], pools, {"D": 2}, {("a", "t2")})
    assert unstaffed == []
    assert sorted(i for t, _, i in assignments if t == "t2") == ["b", "c"]


def test_team_size_zero_and_empty_pools_terminate():
    assert pp.assign(KEY, ["t1", "t2"], {"D": ["a"]}, {"D": 0}, set()) == ([], [])
    assert pp.assign(KEY, ["t1", "t2"], {}, {"D": 0}, set()) == ([], [])
    assert pp.assign(KEY, ["t1", "t2"], {"D": []}, {"D": 1}, set()) == ([], [("t1", "D"), ("t2", "D")])
    assert pp.assign(KEY, [], POOLS, TEAMS, CONFLICTS) == ([], [])


def test_team_as_large_as_the_pool_takes_everyone_every_time():
    assignments, unstaffed = pp.assign(KEY, ["t1", "t2", "t3"], {"D": ["a", "b", "c"]}, {"D": 3}, set())
    assert unstaffed == []
    for t in ("t1", "t2", "t3"):
        assert sorted(i for tt, _, i in assignments if tt == t) == ["a", "b", "c"]


def test_cycles_beyond_the_first(monkeypatch):
    used = []
    real = pp.assign_cycle

    def spy(key, department, cycle, pool):
        used.append((department, cycle))
        return real(key, department, cycle, pool)

    monkeypatch.setattr(pp, "assign_cycle", spy)
    visit = [f"t{i}" for i in range(7)]
    assignments, _ = pp.assign(KEY, visit, {"D": ["a", "b", "c"]}, {"D": 2}, set())
    assert used == [("D", c) for c in range(5)]  # 14 places from a pool of 3: cycles 0..4
    assert sorted(Counter(i for _, _, i in assignments).values()) == [4, 5, 5]
    assert (assignments, []) == naive_assign(KEY, visit, {"D": ["a", "b", "c"]}, {"D": 2}, set())


def test_departments_run_in_ascending_code_bytes():
    pools = {"b": ["x"], "B": ["y"], "食": ["z"], "A1": ["w"]}
    assignments, _ = pp.assign(KEY, ["t"], pools, {"食": 1, "b": 1, "B": 1, "A1": 1}, set())
    assert [d for _, d, _ in assignments] == ["A1", "B", "b", "食"]


def test_each_department_uses_its_own_cycles():
    pool = [f"i{n}" for n in range(8)]
    assignments, _ = pp.assign(KEY, ["t"], {"A": pool, "B": pool}, {"A": 1, "B": 1}, set())
    assert assignments == [
        ("t", "A", pp.assign_cycle(KEY, "A", 0, pool)[0]),
        ("t", "B", pp.assign_cycle(KEY, "B", 0, pool)[0]),
    ]
    assert pp.assign_cycle(KEY, "A", 0, pool) != pp.assign_cycle(KEY, "B", 0, pool)


def test_take_never_loops_forever():
    with pytest.raises(RuntimeError):
        pp._take(deque(), lambda: ["a"], 2, set())
    with pytest.raises(RuntimeError):
        pp._take(deque(), lambda: [], 1, set())
    with pytest.raises(RuntimeError):
        pp._take(deque(["a"]), lambda: ["a", "b"], 1, {"a", "b"})


@pytest.mark.parametrize(
    "pools, teams, visit, message",
    [
        ({"X": ["a"]}, {"D": 1}, ["t"], "without a team size"),
        ({"D": ["a", "a"]}, {"D": 1}, ["t"], "twice"),
        ({"D": ["a"]}, {"D": -1}, ["t"], "non-negative"),
        ({"D": ["a"]}, {"D": 1}, ["t", "t"], "target twice"),
    ],
)
def test_assign_refuses_inconsistent_input(pools, teams, visit, message):
    with pytest.raises(ValueError, match=message):
        pp.assign(KEY, visit, pools, teams, set())


# --- properties ----------------------------------------------------------------------------------


@st.composite
def rounds(draw, with_conflicts: bool):
    departments = draw(st.lists(st.sampled_from(["SCJG", "YJJ", "食药", "A"]), min_size=1, max_size=3, unique=True))
    pools = {d: [f"{d}-{i}" for i in range(draw(st.integers(0, 6)))] for d in departments}
    teams = {d: draw(st.integers(0, 4)) for d in departments}
    visit = [f"T{i}" for i in range(draw(st.integers(0, 25)))]
    conflicts = set()
    if with_conflicts:
        everyone = [i for pool in pools.values() for i in pool]
        if everyone and visit:
            conflicts = draw(st.sets(st.tuples(st.sampled_from(everyone), st.sampled_from(visit)), max_size=30))
    return pools, teams, visit, conflicts


def loads_by_prefix(assignments, visit, department, pool):
    """Each inspector's load after each target in visit order (assign-v1 is online)."""
    load = dict.fromkeys(pool, 0)
    by_target = {}
    for t, d, i in assignments:
        if d == department:
            by_target.setdefault(t, []).append(i)
    for t in visit:
        for i in by_target.get(t, []):
            load[i] += 1
        yield t, dict(load)


@settings(max_examples=150, deadline=None)
@given(rounds(with_conflicts=False), st.binary(min_size=32, max_size=32))
def test_without_conflicts_loads_differ_by_at_most_one(case, key):
    pools, teams, visit, _ = case
    assignments, unstaffed = pp.assign(key, visit, pools, teams, set())
    assert (assignments, unstaffed) == naive_assign(key, visit, pools, teams, set())
    for d, pool in pools.items():
        if not pool:
            continue
        for _, load in loads_by_prefix(assignments, visit, d, pool):
            assert max(load.values()) - min(load.values()) <= 1
        if teams[d] <= len(pool):
            assert all(u[1] != d for u in unstaffed)


@settings(max_examples=200, deadline=None)
@given(rounds(with_conflicts=True), st.binary(min_size=32, max_size=32))
def test_with_conflicts_the_proven_bound_holds(case, key):
    """With conflicts: load(j) - load(i) <= 1 + c_i at every point, for any two inspectors i, j of a
    department, where c_i counts the targets so far that the department staffed while i was in
    conflict with them.

    Proof sketch. Each inspector's entries are consumed in cycle order (a scan takes the first entry
    of i it meets, later ones are skipped as taken), so load(i) is the cycle index of i's next entry.
    Suppose one target's scan takes j but not i. If i was in conflict, c_i grows with the difference.
    Otherwise i was eligible and the scan stopped before reaching i's next entry, so j's next entry
    came earlier in the concatenated cycles, hence load(j) <= load(i) before the scan and
    load(j) <= load(i) + 1 after it. Without conflicts c_i = 0: loads differ by at most one.
    """
    pools, teams, visit, conflicts = case
    assignments, unstaffed = pp.assign(key, visit, pools, teams, conflicts)
    assert (assignments, unstaffed) == naive_assign(key, visit, pools, teams, conflicts)
    assert not {(i, t) for t, _, i in assignments} & conflicts
    teams_of = Counter((t, d) for t, d, _ in assignments)
    for t in visit:
        for d, n in teams.items():
            eligible = [i for i in pools[d] if (i, t) not in conflicts]
            staffed = (t, d) not in unstaffed
            assert staffed == (len(eligible) >= n)
            assert teams_of[(t, d)] == (n if staffed else 0)
            assert len({i for tt, dd, i in assignments if (tt, dd) == (t, d)}) == teams_of[(t, d)]
    for d, pool in pools.items():
        if not pool or teams[d] == 0:
            continue
        barred = dict.fromkeys(pool, 0)
        for t, load in loads_by_prefix(assignments, visit, d, pool):
            if (t, d) not in unstaffed:
                for i in pool:
                    barred[i] += (i, t) in conflicts
            for i in pool:
                assert max(load.values()) - load[i] <= 1 + barred[i]
