"""Results through the core services (SPEC capability 6): record, note, attach, submit, review,
publish, and every refusal on the way."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from jointcheck.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from jointcheck.core.models import OutboxMessage, Result, Task, TeamMember
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.core.services.results import (
    add_note,
    attach,
    awaiting_review,
    list_my_tasks,
    publish_results,
    publishable,
    record_result,
    review_results,
    submit_results,
    task_detail,
)
from tests.integration.test_round_lifecycle import drawn_round
from tests.round_world import OPERATOR, POOLS, build_world, step


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def bind_inspectors(uow_factory, world) -> dict[str, object]:
    """Every enforcement inspector of the world gets an account; SAMR-00 is the world's 'inspector'."""
    actors = {"SAMR-00": world.actors["inspector"]}
    telegram_id = 2000
    for department, size in POOLS.items():
        for k in range(size):
            cert = f"{department}-{k:02d}"
            if cert in actors:
                continue
            async with uow_factory() as uow:
                issued = await issue_invite(uow, OPERATOR, "inspector", inspector=cert)
                user, _ = await redeem_invite(uow, issued.code, telegram_id, cert)
                actors[cert] = await uow.users.actor_for(user)
                await uow.commit()
            telegram_id += 1
    return actors


async def team_of(sessionmaker, task_id: int) -> dict[str, list[str]]:
    from jointcheck.core.models import Department, Inspector

    async with sessionmaker() as session:
        rows = await session.execute(
            select(Department.code, Inspector.cert_no)
            .join(TeamMember, TeamMember.inspector_id == Inspector.id)
            .join(Department, Department.id == TeamMember.department_id)
            .where(TeamMember.task_id == task_id)
        )
        team: dict[str, list[str]] = {}
        for department, cert in rows:
            team.setdefault(department, []).append(cert)
        return team


async def a_full_task(sessionmaker, uow_factory, actors) -> tuple[int, dict[str, list[str]]]:
    """A task of SAMR-00 whose team also has a TAX inspector."""
    tasks, _ = await step(uow_factory, list_my_tasks, actors["SAMR-00"], limit=50)
    for summary in tasks:
        team = await team_of(sessionmaker, summary.task_id)
        if team.get("TAX") and len(team.get("SAMR", [])) == 2:
            return summary.task_id, team
    raise AssertionError("no task of SAMR-00 with a full team")


async def outbox(sessionmaker, template: str) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id))).scalars()
        )


def item_id(detail, code: str) -> int:
    return next(i.item_id for i in detail.items if i.item_code == code)


def by_code(detail) -> dict[str, object]:
    return {i.item_code: i for i in detail.items}


async def test_an_inspector_lists_own_tasks_a_page_at_a_time(sessionmaker, uow_factory, world):
    await drawn_round(uow_factory, world)
    actor = world.actors["inspector"]
    async with sessionmaker() as session:
        expected = set(
            (
                await session.execute(select(TeamMember.task_id).where(TeamMember.inspector_id == next(iter(actor.inspector_ids()))))
            ).scalars()
        )
    assert expected, "the world's inspector is on no team; the draw changed?"
    first, total = await step(uow_factory, list_my_tasks, actor, limit=3)
    rest, _ = await step(uow_factory, list_my_tasks, actor, offset=3, limit=50)
    assert total == len(expected)
    assert {t.task_id for t in first} | {t.task_id for t in rest} == expected
    assert not {t.task_id for t in first} & {t.task_id for t in rest}
    assert all(t.round_title == "2026年食品联合抽查" for t in first)
    for who in ("samr", "convener"):
        with pytest.raises(PermissionDenied):
            await step(uow_factory, list_my_tasks, world.actors[who])


async def test_record_submit_return_resubmit_accept_complete_publish(sessionmaker, uow_factory, world):
    round_id = await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    task_id, team = await a_full_task(sessionmaker, uow_factory, actors)
    me = actors["SAMR-00"]
    detail = await step(uow_factory, task_detail, me, task_id)
    assert [i.item_code for i in detail.items if i.mine] == ["SAMR-001", "SAMR-K01"]
    assert not by_code(detail)["TAX-001"].mine
    assert {m.department_code for m in detail.team} == {"SAMR", "TAX"}

    # categories, a note and a photo; another department's item is not mine to record
    await step(uow_factory, record_result, me, task_id, item_id(detail, "SAMR-001"), "1")
    with pytest.raises(InvalidInput, match="SAMR-K01"):
        await step(uow_factory, submit_results, me, task_id)
    await step(uow_factory, record_result, me, task_id, item_id(detail, "SAMR-K01"), "A", "order_correction")
    await step(uow_factory, add_note, me, task_id, item_id(detail, "SAMR-K01"), "  后门消防通道堵塞  ")
    await step(uow_factory, attach, me, task_id, item_id(detail, "SAMR-K01"), "photo", "AgAC-photo-1")
    with pytest.raises(PermissionDenied, match="TAX-001"):
        await step(uow_factory, record_result, me, task_id, item_id(detail, "TAX-001"), "1")
    with pytest.raises(InvalidInput):
        await step(uow_factory, record_result, me, task_id, item_id(detail, "SAMR-001"), "Z")
    with pytest.raises(InvalidInput):
        await step(uow_factory, record_result, me, task_id, item_id(detail, "SAMR-001"), "1", "shrug")

    submitted = await step(uow_factory, submit_results, me, task_id)
    assert len(submitted) == 2
    with pytest.raises(Conflict):
        await step(uow_factory, record_result, me, task_id, item_id(detail, "SAMR-001"), "B")
    with pytest.raises(Conflict):
        await step(uow_factory, submit_results, me, task_id)

    # the team sees the submission; the teammates and SAMR's officer are told
    tax_inspector = actors[team["TAX"][0]]
    seen = by_code(await step(uow_factory, task_detail, tax_inspector, task_id))
    assert (seen["SAMR-K01"].status, seen["SAMR-K01"].category, seen["SAMR-K01"].follow_up) == ("submitted", "A", "order_correction")
    assert seen["SAMR-K01"].note == "后门消防通道堵塞" and seen["SAMR-K01"].attachments == 1
    told = await outbox(sessionmaker, "results_submitted")
    assert len(told) == len(team["SAMR"]) - 1 + len(team["TAX"])
    assert json.loads(told[0].params)["items"] == ["SAMR-001", "SAMR-K01"]
    assert [m.chat_id for m in await outbox(sessionmaker, "results_to_review")] == [1000]

    # review: only SAMR's officer, a return needs a reason and reopens the results
    queue = await step(uow_factory, awaiting_review, world.actors["samr"])
    assert [(e.summary.task_id, e.department_code, e.submitted) for e in queue] == [(task_id, "SAMR", 2)]
    assert await step(uow_factory, awaiting_review, world.actors["tax"]) == []
    with pytest.raises(PermissionDenied):
        await step(uow_factory, review_results, world.actors["tax"], task_id, "SAMR", accept=True)
    with pytest.raises(InvalidInput):
        await step(uow_factory, review_results, world.actors["samr"], task_id, "SAMR", accept=False, reason=" ")
    await step(uow_factory, review_results, world.actors["samr"], task_id, "SAMR", accept=False, reason="请补充照片")
    returned = await outbox(sessionmaker, "results_returned")
    assert len(returned) == len(team["SAMR"]) and 1005 in {m.chat_id for m in returned}
    assert json.loads(returned[0].params)["reason"] == "请补充照片"
    again = by_code(await step(uow_factory, task_detail, me, task_id))
    assert again["SAMR-K01"].status == "returned" and again["SAMR-K01"].review_reason == "请补充照片"
    await step(uow_factory, attach, me, task_id, item_id(detail, "SAMR-K01"), "document", "BQAC-doc-1", "整改通知书.pdf")
    await step(uow_factory, submit_results, me, task_id)
    assert len(await outbox(sessionmaker, "results_to_review")) == 2  # a second submission is told again
    await step(uow_factory, review_results, world.actors["samr"], task_id, "SAMR", accept=True)
    with pytest.raises(Conflict):
        await step(uow_factory, review_results, world.actors["samr"], task_id, "SAMR", accept=True)

    # the task completes only when TAX's item is accepted too
    async with sessionmaker() as session:
        assert (await session.get(Task, task_id)).completed_at is None
    await step(uow_factory, record_result, tax_inspector, task_id, item_id(detail, "TAX-001"), "B")
    await step(uow_factory, submit_results, tax_inspector, task_id)
    await step(uow_factory, review_results, world.actors["tax"], task_id, "TAX", accept=True)
    async with sessionmaker() as session:
        task = await session.get(Task, task_id)
        assert task.completed_at is not None and task.status == "completed"

    # publication: each department its own accepted results, once
    assert [(p.round_id, p.department_code, p.accepted) for p in await step(uow_factory, publishable, world.actors["samr"])] == [
        (round_id, "SAMR", 2)
    ]
    with pytest.raises(PermissionDenied):
        await step(uow_factory, publish_results, world.actors["tax"], round_id, "SAMR")
    assert await step(uow_factory, publish_results, world.actors["samr"], round_id, "SAMR") == 2
    with pytest.raises(Conflict):
        await step(uow_factory, publish_results, world.actors["samr"], round_id, "SAMR")
    assert await step(uow_factory, publish_results, world.actors["tax"], round_id, "TAX") == 1
    async with sessionmaker() as session:
        statuses = set((await session.execute(select(Result.status).where(Result.task_id == task_id))).scalars())
    assert statuses == {"published"}


async def test_a_task_is_invisible_to_whoever_is_not_entitled(sessionmaker, uow_factory, world):
    await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    task_id, team = await a_full_task(sessionmaker, uow_factory, actors)
    detail = await step(uow_factory, task_detail, world.actors["samr"], task_id)  # an officer of a participant sees it
    assert not any(i.mine for i in detail.items)
    outsider = next(actors[c] for c in actors if c.startswith("SAMR") and c not in team["SAMR"])
    for who in (outsider, world.actors["epb"], world.actors["other_convener"]):
        with pytest.raises(NotFound):
            await step(uow_factory, task_detail, who, task_id)
    with pytest.raises(NotFound):
        await step(uow_factory, record_result, outsider, task_id, item_id(detail, "SAMR-001"), "1")
    with pytest.raises(NotFound):
        await step(uow_factory, task_detail, world.actors["samr"], 999_999)
    # an officer sees the task but records nothing
    with pytest.raises(PermissionDenied):
        await step(uow_factory, record_result, world.actors["samr"], task_id, item_id(detail, "SAMR-001"), "1")


async def test_notes_and_attachments_need_a_category_and_stay_in_bounds(sessionmaker, uow_factory, world):
    await drawn_round(uow_factory, world)
    me = world.actors["inspector"]
    tasks, _ = await step(uow_factory, list_my_tasks, me)
    detail = await step(uow_factory, task_detail, me, tasks[0].task_id)
    item = item_id(detail, "SAMR-001")
    with pytest.raises(InvalidInput, match="category"):
        await step(uow_factory, add_note, me, detail.summary.task_id, item, "note")
    with pytest.raises(InvalidInput, match="category"):
        await step(uow_factory, attach, me, detail.summary.task_id, item, "photo", "file")
    await step(uow_factory, record_result, me, detail.summary.task_id, item, "F")
    with pytest.raises(InvalidInput, match="2000"):
        await step(uow_factory, add_note, me, detail.summary.task_id, item, "x" * 2001)
    with pytest.raises(InvalidInput):
        await step(uow_factory, attach, me, detail.summary.task_id, item, "video", "file")
    async with sessionmaker() as session:
        result = (await session.execute(select(Result).where(Result.task_id == detail.summary.task_id))).scalar_one()
    assert (result.category, result.note, result.status) == ("F", "", "draft")
