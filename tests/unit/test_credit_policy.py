"""The credit policy on hand-made histories: what raises a class, what lowers it, what does nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from jointcheck.core.credit_policy import DEFAULT_POLICY, Inspection, decide, load_policy, parse_policy
from jointcheck.core.errors import InvalidInput

POLICY = load_policy()
DAY0 = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)


def inspections(*entries: tuple[int, str]) -> list[Inspection]:
    """(days after DAY0, categories as one string) → inspections, task ids in order."""
    return [Inspection(n, DAY0 + dt.timedelta(days=days), frozenset(codes)) for n, (days, codes) in enumerate(entries, start=1)]


def test_the_default_policy_is_the_shipped_file_and_reads_as_documented():
    assert POLICY.source == str(DEFAULT_POLICY)
    assert POLICY.classes == ("A", "B", "C", "D")
    assert POLICY.raise_steps == {"A": 1, "B": 1, "C": 2, "E": 1, "6": 1, "8": 2}
    assert POLICY.clean == {"1", "F"} and POLICY.clean_inspections == 2 and POLICY.clean_days == 365
    assert [POLICY.kind_of(c) for c in ("1", "A", "7", "9")] == ["clean", "problem", "neutral", "neutral"]


@pytest.mark.parametrize(
    ("current", "codes", "expected"),
    [
        ("A", "A", "B"),  # one step
        ("B", "1A", "C"),  # a problem among clean items still raises
        ("A", "C", "C"),  # false disclosure: two steps
        ("C", "8", "D"),  # capped at the highest class
        ("B", "AC", "D"),  # the largest step of the inspection counts, not the sum
        ("U", "A", "C"),  # unclassified is taken as B, then raised
    ],
)
def test_a_problem_raises_the_class(current, codes, expected):
    decision = decide(POLICY, current, inspections((0, codes)))
    assert (decision.reason, decision.from_class, decision.to_class) == ("raise", current, expected)
    assert set(decision.categories) == {c for c in codes if c in POLICY.raise_steps}


def test_nothing_changes_at_the_top_or_on_neutral_results():
    assert decide(POLICY, "D", inspections((0, "A"))) is None
    assert decide(POLICY, "C", inspections((0, "7"))) is None
    assert decide(POLICY, "C", inspections((0, "9"))) is None
    assert decide(POLICY, "C", []) is None


def test_a_run_of_clean_results_lowers_the_class_once_it_spans_the_period():
    # two clean inspections a year apart: lowered by one step
    decision = decide(POLICY, "C", inspections((0, "1"), (365, "1F")))
    assert (decision.reason, decision.to_class, decision.categories) == ("lower", "B", ("1", "F"))
    # too soon: the period has not passed
    assert decide(POLICY, "C", inspections((0, "1"), (364, "1"))) is None
    # one clean inspection is not a run, however old
    assert decide(POLICY, "C", inspections((0, "1"))) is None
    # never below the lowest class
    assert decide(POLICY, "A", inspections((0, "1"), (400, "1"))) is None


def test_a_problem_breaks_the_run_and_neutral_results_neither_break_nor_count():
    # the run starts after the problem at day 100: 1 at 200 and 1 at 400 span only 200 days
    assert decide(POLICY, "D", inspections((0, "1"), (100, "A"), (200, "1"), (400, "1"))) is None
    # …and once the run after it is long enough, it lowers
    decision = decide(POLICY, "D", inspections((0, "1"), (100, "A"), (200, "1"), (565, "1")))
    assert decision.to_class == "C"
    # a neutral result in the middle: the run is still 0 and 365
    assert decide(POLICY, "B", inspections((0, "1"), (100, "7"), (365, "1"))).to_class == "A"
    # a neutral result last changes nothing
    assert decide(POLICY, "B", inspections((0, "1"), (365, "1"), (400, "9"))) is None


def test_a_changed_policy_file_changes_the_rule():
    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace("inspections = 2", "inspections = 3").replace('"6" = 1', '"6" = 3')
    policy = parse_policy(text, "mine.toml")
    assert policy.sha256 != POLICY.sha256
    assert decide(policy, "C", inspections((0, "1"), (365, "1"))) is None
    assert decide(policy, "C", inspections((0, "1"), (200, "1"), (365, "1"))).to_class == "B"
    assert decide(policy, "A", inspections((0, "6"))).to_class == "D"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("classes = [", "not valid TOML"),
        ('classes = ["A"]', "at least two"),
        ('classes = ["A", "B"]\n[raise]\nZ = 1', "not a standard result category"),
        ('classes = ["A", "B"]\n[raise]\nA = 0', "1 or more"),
        ('classes = ["A", "B"]\n[raise]\nA = 1\n[lower]\nclean = ["A"]', "both a problem and clean"),
        ('classes = ["A", "B"]\nunclassified_as = "Q"', "unclassified_as"),
    ],
)
def test_a_bad_policy_file_says_what_is_wrong(text, why):
    with pytest.raises(InvalidInput, match=why):
        parse_policy(text, "bad.toml")


def test_the_policy_in_force_follows_the_environment(tmp_path, monkeypatch):
    from jointcheck.core import credit_policy

    mine = tmp_path / "credit.toml"
    mine.write_text('classes = ["A", "B", "C", "D"]\n[raise]\n"A" = 3\n', encoding="utf-8")
    monkeypatch.setenv(credit_policy.POLICY_ENV, str(mine))
    assert credit_policy.active_policy().raise_steps == {"A": 3}
    monkeypatch.delenv(credit_policy.POLICY_ENV)
    assert credit_policy.active_policy().source == str(DEFAULT_POLICY)
