"""Time-driven work through the core services: timed draws, reminders, escalation, unanswered
invitations and publication deadlines counted in China's working days. Each runs twice to show a
repeated sweep queues nothing new."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from jointcheck.core.models import AuditEvent, OutboxMessage, Round, Task
from jointcheck.core.services.deadlines import (
    DeadlinePolicy,
    chase_invitations,
    escalate_overdue,
    remind_due_soon,
    run_due_draw,
    warn_publication,
)
from jointcheck.core.services.results import publish_results, record_result, review_results, submit_results, task_detail
from jointcheck.core.services.rounds import approve_round, enter_seed, propose_round, respond_to_round, schedule_draw
from tests.integration.test_results import a_full_task, bind_inspectors, item_id
from tests.integration.test_round_lifecycle import SEED, TODAY, drawn_round
from tests.round_world import build_world, proposal, step

POLICY = DeadlinePolicy()


def china(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


def at(uow_factory, moment: dt.datetime):
    return lambda: uow_factory(lambda: moment)


async def notices(sessionmaker, template: str) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id))).scalars()
        )


async def test_a_timed_draw_runs_once_when_due_and_seeded(sessionmaker, uow_factory, world):
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=None))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await step(uow_factory, approve_round, world.actors["convener"], round_.id, TODAY)
    now = dt.datetime.now(dt.UTC)
    await step(uow_factory, schedule_draw, world.actors["convener"], round_.id, now + dt.timedelta(hours=1))
    later = now + dt.timedelta(hours=2)
    assert await step(at(uow_factory, later), run_due_draw, round_.id) is None  # no seed yet: not drawn
    await step(uow_factory, enter_seed, world.actors["convener"], round_.id, SEED)
    assert await step(uow_factory, run_due_draw, round_.id) is None  # seeded, but its time has not come
    report = await step(at(uow_factory, later), run_due_draw, round_.id)
    assert report is not None and report.selected > 0
    assert await step(at(uow_factory, later), run_due_draw, round_.id) is None  # drawn once, ever
    async with sessionmaker() as session:
        drawn = (await session.execute(select(AuditEvent).where(AuditEvent.action == "round.drawn"))).scalars().all()
        assert [e.actor for e in drawn] == ["system:scheduler"]
        assert (await session.get(Round, round_.id)).status == "drawn"


async def test_reminders_before_the_due_date_and_escalation_after_it(sessionmaker, uow_factory, world):
    round_id = await drawn_round(uow_factory, world)  # due 2026-12-31
    await step(at(uow_factory, china(2026, 12, 27, 9)), remind_due_soon, POLICY)
    assert await notices(sessionmaker, "tasks_due_soon") == []  # four days before: not yet
    queued = await step(at(uow_factory, china(2026, 12, 28, 9)), remind_due_soon, POLICY)
    reminded = await notices(sessionmaker, "tasks_due_soon")
    assert queued == len(reminded) == 1 and reminded[0].chat_id == 1005  # the one inspector with an account
    assert json.loads(reminded[0].params) == {
        "round_id": round_id,
        "due_date": "2026-12-31",
        "tasks": json.loads(reminded[0].params)["tasks"],
    }
    assert await step(at(uow_factory, china(2026, 12, 29, 9)), remind_due_soon, POLICY) == 0

    assert await step(at(uow_factory, china(2026, 12, 31, 23)), escalate_overdue) == 0  # due today: not overdue
    assert await step(at(uow_factory, china(2027, 1, 1, 8)), escalate_overdue) == 2
    assert sorted(n.chat_id for n in await notices(sessionmaker, "tasks_overdue")) == [1000, 1001]
    assert await step(at(uow_factory, china(2027, 1, 2, 8)), escalate_overdue) == 0


async def test_an_unanswered_invitation_is_chased_after_three_working_days(sessionmaker, uow_factory, world):
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=None, due_date=None))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    async with sessionmaker() as session:  # invited on Wednesday 30 September, before National Day
        await session.execute(update(Round).where(Round.id == round_.id).values(created_at=china(2026, 9, 30, 10)))
        await session.commit()
    # three working days: 8, 9 and (make-up) Saturday 10 October
    assert await step(at(uow_factory, china(2026, 10, 10, 20)), chase_invitations, POLICY) == 0
    assert await step(at(uow_factory, china(2026, 10, 11, 9)), chase_invitations, POLICY) == 2
    assert [n.chat_id for n in await notices(sessionmaker, "invitation_reminder")] == [1002]  # EPB, who did not answer
    lead = await notices(sessionmaker, "invitation_unanswered")
    assert [n.chat_id for n in lead] == [1000] and json.loads(lead[0].params)["department"] == "EPB"
    assert await step(at(uow_factory, china(2026, 10, 12, 9)), chase_invitations, POLICY) == 0


async def test_publication_is_due_20_working_days_after_completion(sessionmaker, uow_factory, world):
    round_id = await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    task_id, team = await a_full_task(sessionmaker, uow_factory, actors)
    detail = await step(uow_factory, task_detail, actors["SAMR-00"], task_id)
    completed = at(uow_factory, china(2026, 9, 25, 16))  # a Friday before National Day
    for cert, department, codes in (("SAMR-00", "SAMR", ("SAMR-001", "SAMR-K01")), (team["TAX"][0], "TAX", ("TAX-001",))):
        for code in codes:
            await step(completed, record_result, actors[cert], task_id, item_id(detail, code), "1")
        await step(completed, submit_results, actors[cert], task_id)
        await step(completed, review_results, world.actors[department.lower()], task_id, department, accept=True)
    async with sessionmaker() as session:
        assert (await session.get(Task, task_id)).completed_at == china(2026, 9, 25, 16)

    # the deadline is 29 October (weekdays alone would say 23 October); the warning comes 5 working days before
    assert await step(at(uow_factory, china(2026, 10, 21, 9)), warn_publication, POLICY) == 0  # 6 left
    assert await step(at(uow_factory, china(2026, 10, 22, 9)), warn_publication, POLICY) == 2  # SAMR and TAX
    due = await notices(sessionmaker, "publication_due")
    assert {json.loads(n.params)["deadline"] for n in due} == {"2026-10-29"}
    assert {json.loads(n.params)["working_days_left"] for n in due} == {5}
    assert await step(at(uow_factory, china(2026, 10, 23, 9)), warn_publication, POLICY) == 0
    await step(uow_factory, publish_results, world.actors["tax"], round_id, "TAX")
    assert await step(at(uow_factory, china(2026, 10, 30, 9)), warn_publication, POLICY) == 1  # SAMR's, overdue
    overdue = (await notices(sessionmaker, "publication_due"))[-1]
    assert overdue.chat_id == 1000 and json.loads(overdue.params)["overdue"] is True
