"""Results in chat, through the real bot polling the emulator: an inspector's /tasks, categories,
a note, a photo and a document, review-and-submit; the officer's /review (return with a reason,
accept) and /publish; double taps, stale and forged buttons.

Telegram ids: 1000 samr, 1001 tax, 1005 inspector (SAMR-00); tests/test_results.py binds the other
inspectors from 2000 on.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from jointcheck.bot.callbacks import PublishRound, ResultPick, ReviewDecide, TaskOpen
from jointcheck.core.models import AuditEvent, OutboxMessage, Result, Target, Task
from jointcheck.core.services.results import (
    add_note,
    list_my_tasks,
    publish_results,
    record_result,
    review_results,
    submit_results,
    task_detail,
)
from jointcheck.testing import chat_script as chat
from tests.integration.test_results import a_full_task, bind_inspectors, item_id
from tests.integration.test_round_lifecycle import drawn_round
from tests.round_world import build_world, step

SAMR, TAX, INSPECTOR = 1000, 1001, 1005


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


def telegram_of(actor) -> int:
    return int(actor.label.rsplit("tg:", 1)[1])


async def results_of(sessionmaker, task_id: int) -> dict[int, tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Result.item_id, Result.status, Result.category).where(Result.task_id == task_id))
        return {i: (s, c) for i, s, c in rows}


async def test_an_inspector_records_and_submits_and_the_officer_reviews_and_publishes(
    emulator, sessionmaker, uow_factory, world, running, deliver
):
    round_id = await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    task_id, team = await a_full_task(sessionmaker, uow_factory, actors)
    detail = await step(uow_factory, task_detail, actors["SAMR-00"], task_id)
    inspector, samr, tax = emulator.user(INSPECTOR, "inspector"), emulator.user(SAMR, "samr"), emulator.user(TAX, "tax")
    for telegram_id in [1002, 1003, *range(2000, 2010)]:
        emulator.user(telegram_id, f"u{telegram_id}")

    await chat.open_task(inspector, task_id, detail.summary.target_name)
    view = inspector.messages[-1]
    assert detail.summary.target_code in view.text and "检查组：" in view.text and "TAX-001" in view.text
    assert view.buttons == ["✎ SAMR-001 食品经营许可检查", "✎ SAMR-K01 特种设备重点检查", "全部任务"]
    assert all(len(b["callback_data"].encode()) <= 64 for row in view.inline_keyboard for b in row)

    # SAMR-001: no problem
    await inspector.press("✎ SAMR-001 食品经营许可检查")
    await inspector.wait_for("请选择检查结果类别")
    await inspector.press("1 · 未发现问题")
    assert (await inspector.wait_for_answer()).text == "已保存"
    await inspector.wait_for(lambda m: "☑ SAMR-001 食品经营许可检查" in m.buttons)

    # SAMR-K01: a problem, its follow-up, a note, a photo and a document
    await inspector.press("✎ SAMR-K01 特种设备重点检查")
    await inspector.wait_for("请选择检查结果类别")
    await inspector.press("A · 发现问题待后续处理")
    await inspector.wait_for("请选择后续处置")
    await inspector.press("责令改正")
    await inspector.wait_for(lambda m: "提交" in m.buttons)
    await inspector.press("☑ SAMR-K01 特种设备重点检查")
    await inspector.wait_for("请选择检查结果类别")
    await inspector.press("备注、照片、文件")
    await inspector.wait_for("完成后发送 /done")
    await inspector.send("后门消防通道堵塞，")
    await inspector.wait_for("备注已添加")
    await inspector.send("已责令当场清理")  # one note typed as two messages: both are kept
    await inspector.wait_for("备注已添加")
    await inspector.send_photo(b"\xff\xd8jpeg")
    await inspector.wait_for("照片已附上")
    await inspector.send_document(b"%PDF", "整改通知书.pdf", "application/pdf")
    await inspector.wait_for("文件已附上")
    await inspector.send("/done")
    shown = await inspector.wait_for("后门消防通道堵塞")
    assert "照片和文件：2 个" in shown.text and "后续处置：责令改正" in shown.text
    assert "已责令当场清理" in shown.text

    # review-and-submit, pressed twice: one submission
    await inspector.press("提交")
    confirm = await inspector.wait_for("确认提交")
    data = confirm.button("提交")["callback_data"]
    first, second = await inspector.press_data(confirm.message_id, data), await inspector.press_data(confirm.message_id, data)
    answers = {(await inspector.wait_for_answer(first)).text, (await inspector.wait_for_answer(second)).text}
    assert "提交" in answers and any("当前状态" in a for a in answers)
    assert {s for s, _ in (await results_of(sessionmaker, task_id)).values()} == {"submitted"}
    async with sessionmaker() as session:
        assert (
            await session.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "result.submitted"))
        ).scalar_one() == 1

    # a stale category button (the item view before submission) changes nothing
    stale = ResultPick(task_id=task_id, item_id=item_id(detail, "SAMR-001"), category="B").pack()
    answer = await inspector.press_data(confirm.message_id, stale)
    assert "当前状态" in (await inspector.wait_for_answer(answer)).text
    assert (await results_of(sessionmaker, task_id))[item_id(detail, "SAMR-001")] == ("submitted", "1")

    # the team and the officer hear of it
    await deliver()
    told = await samr.wait_for("待您审核")
    # the notice says where and what was found, without opening the task
    assert detail.summary.target_name in told.text and "SAMR-K01 特种设备重点检查: A 发现问题待后续处理" in told.text
    tax_member = emulator.user(telegram_of(actors[team["TAX"][0]]), "t")
    await tax_member.wait_for("已提交")

    # the officer returns with a reason; the inspector corrects and submits again
    await samr.send("/review")
    queue = await samr.wait_for("待您审核的结果")
    assert queue.buttons == [f"{task_id} · SAMR · {detail.summary.target_name}"]
    await samr.press(queue.buttons[0])
    await samr.wait_for(lambda m: m.buttons == ["通过", "通过并公开备注", "退回"])  # the submission has a note
    # the evidence was kept at submission and comes back to the reviewer from the file store
    photo = await samr.wait_for(lambda m: m.kind == "photo")
    document = await samr.wait_for(lambda m: m.kind == "document")
    for message, content in ((photo, b"\xff\xd8jpeg"), (document, b"%PDF")):
        digest = hashlib.sha256(content).hexdigest()
        assert message.text == f"SAMR-K01 · {digest[:12]}"
        assert (Path(os.environ["JOINTCHECK_FILES_DIR"]) / digest[:2] / digest).read_bytes() == content
    accept_data = samr.find_button("通过")[1]["callback_data"]
    await samr.press("退回")
    await samr.wait_for("退回第")
    await samr.send("请补充整改期限")
    await samr.wait_for("已退回检查组")
    assert {s for s, _ in (await results_of(sessionmaker, task_id)).values()} == {"returned"}
    stale = await samr.press_data(queue.message_id, accept_data)  # the old Accept, after the return
    assert "当前状态" in (await samr.wait_for_answer(stale)).text
    await deliver()
    await inspector.wait_for("请补充整改期限")

    await chat.open_task(inspector, task_id, detail.summary.target_name)
    await inspector.press("☑ SAMR-K01 特种设备重点检查")
    await inspector.wait_for("请选择检查结果类别")
    await inspector.press("E · 发现问题已责令改正")
    await inspector.wait_for("请选择后续处置")
    await inspector.press("责令改正")
    await inspector.wait_for(lambda m: "提交" in m.buttons)
    await inspector.press("提交")
    await inspector.wait_for("确认提交")
    await inspector.press("提交")
    await inspector.wait_for("已提交，待审核")

    # another department's officer cannot accept SAMR's results, even with a forged button
    forged = await tax.press_data(
        queue.message_id, ReviewDecide(task_id=task_id, department_id=world.department_ids["SAMR"], accept=True).pack()
    )
    assert "无权" in (await tax.wait_for_answer(forged)).text
    # the task's own inspector, pressing the officer's Accept, Return and Publish by forged data, is
    # refused and changes nothing
    samr_id = world.department_ids["SAMR"]
    for data in (
        ReviewDecide(task_id=task_id, department_id=samr_id, accept=True).pack(),
        ReviewDecide(task_id=task_id, department_id=samr_id, accept=False).pack(),
        PublishRound(round_id=round_id, department_id=samr_id, confirm=True).pack(),
    ):
        pressed = await inspector.press_data(inspector.messages[-1].message_id, data)
        assert "无权" in (await inspector.wait_for_answer(pressed)).text, data
    # (the forged Return did not leave the chat waiting for a reason: this text is no reason)
    await inspector.send("退回理由")
    await inspector.wait_for("我只能识别命令和按钮")
    assert {s for s, _ in (await results_of(sessionmaker, task_id)).values()} == {"submitted"}
    await samr.send("/review")
    await samr.wait_for("待您审核的结果")
    await samr.press(f"{task_id} · SAMR · {detail.summary.target_name}")
    review = await samr.wait_for(lambda m: m.buttons == ["通过", "通过并公开备注", "退回"])
    # the reviewer sees what came before the correction: the first finding, both notes, the return
    history = review.text.split("历次记录")[1]
    for said in (
        "SAMR-K01: 结果 A 发现问题待后续处理",
        "备注“后门消防通道堵塞，”",
        "备注“已责令当场清理”",
        "退回：请补充整改期限",
        "结果 E",
    ):
        assert said in history, said
    await samr.press("通过")
    await samr.wait_for("已通过审核")
    assert {s for s, c in (await results_of(sessionmaker, task_id)).values()} == {"accepted"}

    # TAX's item done through core; the task completes; SAMR publishes in chat
    tax_inspector = actors[team["TAX"][0]]
    await step(uow_factory, record_result, tax_inspector, task_id, item_id(detail, "TAX-001"), "1")
    await step(uow_factory, submit_results, tax_inspector, task_id)
    await step(uow_factory, review_results, world.actors["tax"], task_id, "TAX", accept=True)
    async with sessionmaker() as session:
        assert (await session.get(Task, task_id)).completed_at is not None
    await samr.send("/publish")
    await samr.wait_for("已通过、尚未公示的结果")
    await samr.press(f"公示 · {round_id} · SAMR · 2")
    asked = await samr.wait_for("公示后即对外公开")
    assert asked.buttons == ["公示", "取消"]
    await samr.press("取消")  # a Cancel on the confirm: nothing is published
    await samr.wait_for("未公示任何结果")
    assert (await results_of(sessionmaker, task_id))[item_id(detail, "SAMR-001")][0] == "accepted"
    await samr.send("/publish")
    await samr.wait_for("已通过、尚未公示的结果")
    await samr.press(f"公示 · {round_id} · SAMR · 2")
    await samr.wait_for("公示后即对外公开")
    await samr.press("公示")
    await samr.wait_for("2 条结果已公示")
    statuses = await results_of(sessionmaker, task_id)
    assert statuses[item_id(detail, "SAMR-001")][0] == statuses[item_id(detail, "SAMR-K01")][0] == "published"
    assert statuses[item_id(detail, "TAX-001")][0] == "accepted"
    # accepted without making it public, the note stays internal
    page = await public_page(sessionmaker, f"/targets/{detail.summary.target_code}")
    assert "SAMR-K01" in page and "后门消防通道堵塞" not in page


async def public_page(sessionmaker, path: str) -> str:
    from aiohttp.test_utils import TestClient, TestServer

    from jointcheck.web.app import create_app

    async with TestClient(TestServer(create_app(sessionmaker))) as client:
        response = await client.get(path)
        assert response.status == 200, path
        return await response.text()


async def test_the_officer_accepts_with_the_note_public_and_it_is_published(emulator, sessionmaker, uow_factory, world, running):
    round_id = await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    me = actors["SAMR-00"]
    tasks, _ = await step(uow_factory, list_my_tasks, me, limit=50)
    noted, plain = [t for t in tasks if t.round_id == round_id][:2]
    for summary, note in ((noted, "后门消防通道堵塞，店主电话13812345678"), (plain, "")):
        detail = await step(uow_factory, task_detail, me, summary.task_id)
        for item in detail.items:
            if item.mine:
                await step(uow_factory, record_result, me, summary.task_id, item.item_id, "A" if item.item_code == "SAMR-K01" else "1")
                if note and item.item_code == "SAMR-K01":
                    await step(uow_factory, add_note, me, summary.task_id, item.item_id, note)
        await step(uow_factory, submit_results, me, summary.task_id)
    samr = emulator.user(SAMR, "samr")
    await samr.send("/review")
    queue = await samr.wait_for("待您审核的结果")
    # no note, nothing to make public: no such button
    await samr.press(next(b for b in queue.buttons if b.startswith(f"{plain.task_id} ·")))
    await samr.wait_for(lambda m: m.buttons == ["通过", "退回"])
    await samr.press("通过")
    await samr.wait_for("已通过审核")
    await samr.send("/review")
    queue = await samr.wait_for(lambda m: "待您审核的结果" in (m.text or "") and m.message_id != queue.message_id)
    await samr.press(next(b for b in queue.buttons if b.startswith(f"{noted.task_id} ·")))
    await samr.wait_for(lambda m: m.buttons == ["通过", "通过并公开备注", "退回"])
    await samr.press("通过并公开备注")
    await samr.wait_for("已通过审核")
    async with sessionmaker() as session:
        flags = (await session.execute(select(Result.note_public).where(Result.task_id == noted.task_id))).scalars().all()
        assert flags and all(flags)
    await step(uow_factory, publish_results, world.actors["samr"], round_id, "SAMR")
    page = await public_page(sessionmaker, f"/targets/{noted.target_code}")
    assert "后门消防通道堵塞" in page and "138****5678" in page and "13812345678" not in page  # public, masked


async def test_tasks_are_the_inspectors_own(emulator, sessionmaker, uow_factory, world, running):
    await drawn_round(uow_factory, world)
    actors = await bind_inspectors(uow_factory, world)
    task_id, team = await a_full_task(sessionmaker, uow_factory, actors)
    detail = await step(uow_factory, task_detail, actors["SAMR-00"], task_id)
    outsider_cert = next(c for c in sorted(actors) if c.startswith("SAMR") and c not in team["SAMR"])
    outsider = emulator.user(telegram_of(actors[outsider_cert]), "outsider")
    inspector, samr = emulator.user(INSPECTOR, "inspector"), emulator.user(SAMR, "samr")

    await inspector.send("/tasks")
    listing = await inspector.wait_for("未完成的检查任务")
    # another inspector's task does not exist for them; nor can they record on it
    opened = await outsider.press_data(listing.message_id, TaskOpen(task_id=task_id).pack())
    assert "未找到" in (await outsider.wait_for_answer(opened)).text
    pick = await outsider.press_data(
        listing.message_id, ResultPick(task_id=task_id, item_id=item_id(detail, "SAMR-001"), category="1").pack()
    )
    assert "未找到" in (await outsider.wait_for_answer(pick)).text
    # the inspector cannot record another department's item, even with a forged button
    forged = await inspector.press_data(
        listing.message_id, ResultPick(task_id=task_id, item_id=item_id(detail, "TAX-001"), category="1").pack()
    )
    assert "无权" in (await inspector.wait_for_answer(forged)).text
    # a button whose data is not ours at all
    junk = await inspector.press_data(listing.message_id, "tres:x:y:z")
    assert (await inspector.wait_for_answer(junk)).text
    await asyncio.sleep(0.1)
    assert await results_of(sessionmaker, task_id) == {}
    # officers have no /tasks; inspectors have no /review
    await samr.send("/tasks")
    await samr.wait_for("不能使用")
    await inspector.send("/review")
    await inspector.wait_for("不能使用")
    async with sessionmaker() as session:
        assert (
            await session.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("results_%")))
        ).scalar_one() == 0


async def test_a_long_task_notice_is_split_and_names_targets_items_and_teammates(
    emulator, sessionmaker, uow_factory, world, running, deliver
):
    round_id = await drawn_round(uow_factory, world, ratios={"A": 300, "B": 300, "C": 300, "D": 300})
    async with sessionmaker() as session:  # real addresses are long: the notice outgrows one message
        await session.execute(update(Target).values(address="广东省广州市天河区珠江新城华夏路" + "十" * 150 + "号"))
        await session.commit()
    inspector = emulator.user(INSPECTOR, "inspector")
    emulator.user(SAMR, "samr"), emulator.user(TAX, "tax")
    await deliver()
    await inspector.wait_for("发送 /tasks 录入检查结果")
    tasks, total = await step(uow_factory, list_my_tasks, world.actors["inspector"], limit=50)
    pieces = [m.text or "" for m in inspector.messages]
    text = "\n".join(pieces)
    assert total == len(tasks) and all(t.target_code in text for t in tasks)
    assert "SAMR-001 食品经营许可检查" in text and "同组检查人员" in text and f"第 {round_id} 号" in pieces[0]
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
