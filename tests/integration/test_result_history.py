"""Nothing an inspector typed is lost: notes accumulate, a returned result's first finding stays in
its history, and the audit trail holds each note's digest with the id of its stored copy."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from jointcheck.core.errors import InvalidInput, NotFound
from jointcheck.core.models import AuditEvent, ResultEntry
from jointcheck.core.services.results import (
    add_note,
    list_my_tasks,
    record_result,
    result_history,
    review_results,
    submit_results,
    task_detail,
)
from tests.integration.test_results import item_id
from tests.integration.test_round_lifecycle import drawn_round
from tests.round_world import build_world, step


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def test_two_notes_both_kept_and_a_returned_finding_stays_in_the_history(sessionmaker, uow_factory, world):
    await drawn_round(uow_factory, world)
    me, officer = world.actors["inspector"], world.actors["samr"]
    tasks, _ = await step(uow_factory, list_my_tasks, me)
    task_id = tasks[0].task_id
    detail = await step(uow_factory, task_detail, me, task_id)
    item = item_id(detail, "SAMR-001")
    await step(uow_factory, record_result, me, task_id, item_id(detail, "SAMR-K01"), "1")

    await step(uow_factory, record_result, me, task_id, item, "A", "order_correction")
    await step(uow_factory, add_note, me, task_id, item, "后门消防通道堵塞，")
    await step(uow_factory, add_note, me, task_id, item, "已当场责令清理")  # the same note, typed as two messages
    with pytest.raises(InvalidInput) as empty:
        await step(uow_factory, add_note, me, task_id, item, "   ")
    assert empty.value.code == "note.empty"
    mine = next(i for i in (await step(uow_factory, task_detail, me, task_id)).items if i.item_id == item)
    assert mine.note == "后门消防通道堵塞，\n已当场责令清理"

    await step(uow_factory, submit_results, me, task_id)
    await step(uow_factory, review_results, officer, task_id, "SAMR", accept=False, reason="类别应为B")
    await step(uow_factory, record_result, me, task_id, item, "B")  # the correction
    await step(uow_factory, add_note, me, task_id, item, "复查后改为B")

    history = [e for e in await step(uow_factory, result_history, officer, task_id) if e.item_code == "SAMR-001"]
    assert [(e.kind, e.category, e.follow_up, e.text) for e in history] == [
        ("finding", "A", "order_correction", ""),
        ("note", "", "", "后门消防通道堵塞，"),
        ("note", "", "", "已当场责令清理"),
        ("returned", "", "", "类别应为B"),
        ("finding", "B", "none", ""),
        ("note", "", "", "复查后改为B"),
    ]
    # the officer returned it, the inspector recorded it
    assert history[0].author and history[3].author and history[3].author != history[0].author

    # the audit event names the stored copy and the text's digest, not the text (the bundle is public)
    async with uow_factory() as uow:
        noted = [
            json.loads(e.payload)
            for e in (await uow.session.execute(select(AuditEvent).where(AuditEvent.action == "result.noted"))).scalars()
        ]
        entries = {e.id: e.text for e in (await uow.session.execute(select(ResultEntry))).scalars()}
    assert len(noted) == 3
    for payload in noted:
        stored = entries[payload["entry"]]
        assert hashlib.sha256(stored.encode()).hexdigest() == payload["note_sha256"]
        assert stored not in json.dumps(payload, ensure_ascii=False)


async def test_the_history_is_hidden_from_whoever_cannot_see_the_task(uow_factory, world):
    await drawn_round(uow_factory, world)
    tasks, _ = await step(uow_factory, list_my_tasks, world.actors["inspector"])
    with pytest.raises(NotFound):
        await step(uow_factory, result_history, world.actors["epb"], tasks[0].task_id)
