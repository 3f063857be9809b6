"""A drawn round with published results full of planted personal data, for the site's tests."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select, update

from jointcheck.core.filestore import FileStore
from jointcheck.core.models import Target, Task
from jointcheck.core.services.cases import open_case
from jointcheck.core.services.results import (
    add_note,
    attach,
    list_my_tasks,
    publish_results,
    record_result,
    review_results,
    submit_results,
    task_detail,
)
from tests.integration.test_results import bind_inspectors, team_of
from tests.integration.test_round_lifecycle import drawn_round, proposed_and_confirmed
from tests.round_world import build_world, step

# What must never appear on a public page or feed.
PERSON = "张三丰"
PHONE = "13812345678"
ID_CARD = "11010519491231002X"
BANK = "6222020200112233445"
OWNER = "王大锤"
NOTE = f"经营者{OWNER}在场，电话{PHONE}，身份证{ID_CARD}，收款账户{BANK}，检查员{{inspector}}陪同。"
INTERNAL_NOTE = "内部备注：不得公开"
EVIDENCE = b"\xff\xd8 a photo of the premises"
# A case's complaint stays with the department: never on the site.
COMPLAINT = "举报人赵六反映后厨卫生问题"
CASE_INSPECTOR = "SAMR检查员0"  # SAMR-00, named in the case's public note


@dataclass
class SiteWorld:
    world: object
    round_id: int
    unapproved_round_id: int
    published_task: int
    individual_code: str
    company_code: str
    unpublished_code: str
    inspector_names: list[str]
    case_round_id: int | None = None


async def build_site_world(uow_factory, sessionmaker) -> SiteWorld:
    world = await build_world(uow_factory)
    round_id = await drawn_round(uow_factory, world)
    unapproved = await proposed_and_confirmed(uow_factory, world, title="未批准的轮次")
    actors = await bind_inspectors(uow_factory, world)
    me = actors["SAMR-00"]
    tasks, _ = await step(uow_factory, list_my_tasks, me, limit=50)
    tasks = [t for t in tasks if t.round_id == round_id]
    first, second, third = tasks[0], tasks[1], tasks[2]
    async with sessionmaker() as session:
        # the first target is an individual business named after its operator
        await session.execute(update(Target).where(Target.code == first.target_code).values(kind="individual", name=PERSON))
        # the second is of class B whatever the draw picked, so its published problem raises its class
        await session.execute(update(Target).where(Target.code == second.target_code).values(risk="B"))
        await session.commit()
    team = await team_of(sessionmaker, first.task_id)
    inspector_names = [f"{cert.split('-')[0]}检查员{int(cert.split('-')[1])}" for certs in team.values() for cert in certs]
    for summary, note, public in (
        (first, NOTE.format(inspector=inspector_names[0]), True),
        (second, INTERNAL_NOTE, False),
        (third, NOTE, True),
    ):
        detail = await step(uow_factory, task_detail, me, summary.task_id)
        for item in detail.items:
            if item.mine:
                await step(uow_factory, record_result, me, summary.task_id, item.item_id, "A" if item.item_code == "SAMR-K01" else "1")
                await step(uow_factory, add_note, me, summary.task_id, item.item_id, note.replace("{inspector}", inspector_names[0]))
                if summary is first and item.item_code == "SAMR-K01":
                    digest = FileStore(os.environ["JOINTCHECK_FILES_DIR"]).put(EVIDENCE)
                    await step(
                        uow_factory,
                        attach,
                        me,
                        summary.task_id,
                        item.item_id,
                        "photo",
                        "tg-photo-1",
                        f"{PERSON}身份证.jpg",
                        sha256=digest,
                        size=len(EVIDENCE),
                    )
        await step(uow_factory, submit_results, me, summary.task_id)
        if summary is not third:  # the third stays submitted, never published
            await step(uow_factory, review_results, world.actors["samr"], summary.task_id, "SAMR", accept=True, note_public=public)
    await step(uow_factory, publish_results, world.actors["samr"], round_id, "SAMR")
    async with sessionmaker() as session:
        drawn = (await session.execute(select(Task.id).where(Task.round_id == round_id))).scalars().all()
    assert len(drawn) > 3
    return SiteWorld(world, round_id, unapproved, first.task_id, first.target_code, second.target_code, third.target_code, inspector_names)


async def published_case(uow_factory, data) -> int:
    """A SAMR case on the company, published: a finding of false disclosure (C) and a public note
    full of personal data; returns the case's round."""
    world = data.world
    view = await step(uow_factory, open_case, world.actors["samr"], "SAMR", data.company_code, "complaint", ("SAMR-00",), summary=COMPLAINT)
    inspector = world.actors["inspector"]
    detail = await step(uow_factory, task_detail, inspector, view.task_id)
    for item in detail.items:
        await step(uow_factory, record_result, inspector, view.task_id, item.item_id, "C" if item.item_code == "SAMR-001" else "1")
        await step(uow_factory, add_note, inspector, view.task_id, item.item_id, NOTE.format(inspector=CASE_INSPECTOR))
    await step(uow_factory, submit_results, inspector, view.task_id)
    await step(uow_factory, review_results, world.actors["samr"], view.task_id, "SAMR", accept=True, note_public=True)
    await step(uow_factory, publish_results, world.actors["samr"], view.round_id, "SAMR")
    return view.round_id
