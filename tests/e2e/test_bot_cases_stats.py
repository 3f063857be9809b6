"""/case, /cases, /credit and /stats end to end, through the real bot polling the emulator.

Telegram ids are the ones tests/round_world.py binds: 1000 samr, 1001 tax, 1003 convener,
1004 other_convener, 1005 inspector (SAMR-00).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jointcheck.core.models import Case, Task
from jointcheck.core.uow import UnitOfWork
from tests.round_world import build_world

SAMR, TAX, CONVENER, OTHER_CONVENER, INSPECTOR = 1000, 1001, 1003, 1004, 1005


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def cases(sessionmaker) -> list[tuple[str, str, str, int | None]]:
    async with UnitOfWork(sessionmaker) as uow:
        rows = await uow.session.execute(select(Case.target_code, Case.source, Case.status, Case.task_id).order_by(Case.id))
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_officer_records_a_case_in_one_line_and_the_inspector_is_told(emulator, sessionmaker, world, running, deliver):
    samr, inspector = emulator.user(SAMR, "samr"), emulator.user(INSPECTOR, "inspector")
    convener = emulator.user(CONVENER, "convener")

    await samr.send("/case")
    usage = await samr.wait_for("一行登记个案线索")
    assert "投诉举报" in usage.text and await cases(sessionmaker) == []

    # a refusal: SAMR-99 is nobody; nothing is recorded
    await samr.send("/case T0005 投诉 SAMR-99 销售过期食品")
    await samr.wait_for(lambda m: m.seq > usage.seq and "登记" not in (m.text or ""))
    assert await cases(sessionmaker) == []

    await samr.send("/case T0005 投诉 SAMR-00,SAMR-01 销售过期食品")
    opened = await samr.wait_for("已登记第 1 号个案")
    recorded = await cases(sessionmaker)
    assert [(code, source, status) for code, source, status, _ in recorded] == [("T0005", "complaint", "open")]
    task_id = recorded[0][3]
    assert f"第 {task_id} 号检查任务已发给 SAMR-00, SAMR-01" in opened.text
    async with UnitOfWork(sessionmaker) as uow:
        assert (await uow.session.get(Task, task_id)).source == "case"

    assert await deliver() == 1  # SAMR-00's account; SAMR-01 has none
    await inspector.wait_for(f"您已被加入编号 {task_id} 的检查任务小组")

    await convener.send("/cases")
    listing = await convener.wait_for("未结个案")
    assert "T0005" in listing.text and "投诉举报" in listing.text and "销售过期食品" in listing.text

    # an inspector may not record cases: the command is refused with a reason, and nothing changes
    await inspector.send("/case T0006 投诉 SAMR-00")
    await inspector.wait_for("您的角色不能使用此命令")
    assert len(await cases(sessionmaker)) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_stats_answers_with_text_and_a_chart_and_credit_shows_a_history(emulator, sessionmaker, uow_factory, world, running):
    from jointcheck.core.services.cases import open_case
    from tests.round_world import step

    await step(uow_factory, open_case, world.actors["samr"], "SAMR", "T0005", "monitoring", ("SAMR-00",))
    convener, other = emulator.user(CONVENER, "convener"), emulator.user(OTHER_CONVENER, "other")

    await convener.send("/stats")
    summary = await convener.wait_for("抽查统计")
    assert "市场监管局：2 项中已检查 0 项" in summary.text  # the case's task checks both SAMR items
    photo = await convener.wait_for(lambda m: m.kind == "photo")
    png = emulator.state.files[photo.file_id].content
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000

    await convener.send("/stats twenty")
    await convener.wait_for("/stats 2026")

    await convener.send("/credit T0005")
    history = await convener.wait_for("当前信用风险等级：B")
    assert "公示结果尚未改变其等级" in history.text
    # a convener of another region: the target does not exist for them
    await other.send("/credit T0005")
    refusal = await other.wait_for("未找到该内容")
    assert "信用风险等级" not in refusal.text
