"""A refused proposal names every problem at once, each with its code and the step to change;
a draw time that has passed and a due date before the draw are refused, by propose_round and by
schedule_draw alike."""

from __future__ import annotations

import datetime as dt

import pytest

from jointcheck.core.errors import InvalidInput, Problems
from jointcheck.core.services.rounds import RoundScope, propose_round, schedule_draw
from tests.round_world import build_world, proposal, step


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def test_every_problem_of_a_proposal_at_once_with_the_step_to_change(uow_factory, world):
    past = dt.datetime(2020, 12, 1, 2, 0, tzinfo=dt.UTC)
    wrong = proposal(
        title=" ",
        ratios={"A": 500, "B": 0, "C": 0, "D": 0},
        invited={"TAX": 1, "NOPE": 1},
        scope=RoundScope(regions=("310104",), industries=("f5x",)),
        draw_at=past,
        due_date=dt.date(2020, 11, 30),
    )
    with pytest.raises(Problems) as refused:
        await step(uow_factory, propose_round, world.actors["samr"], wrong)
    found = {(p.code, p.fields) for p in refused.value.problems}
    assert found == {
        ("title.empty", ("title",)),
        ("department.unknown", ("invited",)),
        ("scope.region_outside", ("subregions",)),
        ("scope.industry_unreadable", ("industries",)),
        ("ratio.above_cap", ("ratios", "items")),
        ("draw_at.past", ("draw_at",)),
        ("due.before_draw", ("due", "draw_at")),
    }
    cap = next(p for p in refused.value.problems if p.code == "ratio.above_cap")
    assert (cap.params["ratio_percent"], cap.params["cap_percent"], cap.params["item"]) == ("50%", "40%", "SAMR-001")
    outside = next(p for p in refused.value.problems if p.code == "scope.region_outside")
    assert (outside.params["subregion_name"], outside.params["region_name"]) == ("徐汇区 (310104)", "广州市 (440100)")
    # the console prints the same problems, each in a sentence
    assert "has passed" in str(refused.value) and "no department with code NOPE" in str(refused.value)


async def test_one_problem_is_raised_as_itself(uow_factory, world):
    with pytest.raises(InvalidInput) as refused:
        await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    assert not isinstance(refused.value, Problems) and refused.value.code == "draw_at.past"
    assert refused.value.params["draw_at"] == "2020-01-01 08:00"  # Beijing time


async def test_a_draw_time_cannot_be_scheduled_in_the_past_or_after_the_due_date(uow_factory, world):
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=None))
    for when, code in (
        (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "draw_at.past"),
        (dt.datetime.combine(round_.due_date + dt.timedelta(days=2), dt.time(2), dt.UTC), "due.before_draw"),
    ):
        with pytest.raises(InvalidInput) as refused:
            await step(uow_factory, schedule_draw, world.actors["convener"], round_.id, when)
        assert refused.value.code == code
