"""The /propose wizard end to end, through the real bot polling the emulator: a lead officer's
answers become a proposed round (core's propose_round), whose invitations leave through the outbox.

Telegram ids are the ones tests/round_world.py binds: 1000 samr, 1001 tax, 1002 epb, 1005 inspector.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from jointcheck.bot.fsm_storage import flat_key
from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.models import CheckItem, FsmState, OutboxMessage, Round
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.core.services.rounds import get_round
from jointcheck.core.uow import UnitOfWork
from jointcheck.testing.emulator import BotAPIEmulator
from jointcheck.testing.harness import PollingBot
from tests.conftest import clear_fsm_keys
from tests.round_world import OPERATOR, build_world

SAMR, TAX, EPB, INSPECTOR, STRANGER = 1000, 1001, 1002, 1005, 4242
TITLE = "2026年食品联合抽查"
# A draw time ahead of the run, as an officer types it (Beijing time), and a due date after it.
DRAW = (dt.datetime.now(DOMAIN_TZ) + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
DRAW_TYPED = DRAW.strftime("%Y-%m-%d %H:%M")
DUE = (DRAW + dt.timedelta(days=30)).date().isoformat()
BUTTON_REFUSED = "此按钮不属于您或已失效"


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory, n_targets=20)


# ---- walking the wizard ------------------------------------------------------------------------


async def run(user, steps) -> object:
    """Each step: send text or press a button, then wait for the bot's next prompt (or, for a
    checklist toggle, for the pressed option's mark to flip in place). Returns the last message."""
    message = None
    for action, arg, expect in steps:
        if action == "send":
            await user.send(arg)
            message = await user.wait_for(expect)
        elif action == "press":
            await user.press(arg)
            message = await user.wait_for(expect)
            await user.wait_for_answer()
        else:
            await user.press(f"☐ {arg}")
            message = await user.wait_for(lambda m, chosen=f"☑ {arg}": chosen in m.buttons)
            await user.wait_for_answer()
    return message


TO_RATIOS = [
    ("send", "/propose", "请发送本次联合抽查的标题"),
    ("send", TITLE, "请选择市场监管局本次要检查的事项"),
    ("toggle", "SAMR-001 食品经营许可检查", None),
    ("toggle", "SAMR-K01 特种设备重点检查", None),
    ("press", "下一步", "请选择要邀请的部门"),
    ("toggle", "税务局 (TAX)", None),
    ("toggle", "生态环境局 (EPB)", None),
    ("press", "下一步", "行政区划代码"),
    ("send", "440100", "范围内要抽取的下级区划代码"),
    ("send", "4401066", "六位数字的区划代码"),  # not a region code: the step is asked again
    ("send", "440106 440111", "检查对象类型"),
    ("toggle", "产品", None),
    ("press", "下一步", "行业代码"),
    ("send", "f51", "须带有的标签"),
    ("press", "跳过", "所属监管部门的名称或代码"),
    ("send", "samr，tax", "抽查比例"),
]
TEAMS_ON = [
    ("press", "2", "生态环境局的检查组人数"),
    ("press", "1", "税务局的检查组人数"),
    ("send", "1", "间隔期"),
]
TO_SUMMARY = [
    ("send", "100 200 300 300", "市场监管局的检查组人数"),
    *TEAMS_ON,
    ("send", "365 180 0 0", "抽取时间"),
    ("send", DRAW_TYPED, "完成期限"),
    ("send", DUE, "请核对"),
]


async def confirm(user) -> int:
    await user.press("确认")
    done = await user.wait_for("已发起")
    await user.wait_for_answer()
    return int(re.search(r"第 (\d+) 号", done.text).group(1))


# ---- reading what was written ------------------------------------------------------------------


async def fsm_rows(sessionmaker, running: PollingBot | None = None) -> dict[str, tuple[str | None, dict]]:
    """The fsm_states table, once the running bot has written back what its last update changed."""
    if running is not None:
        await running.dispatcher.storage.idle()
    async with UnitOfWork(sessionmaker) as uow:
        rows = (await uow.session.execute(select(FsmState))).scalars()
        return {row.key: (row.state, json.loads(row.data)) for row in rows}


async def fsm_data(sessionmaker, running: PollingBot, user_id: int) -> tuple[str | None, dict]:
    await running.dispatcher.storage.idle()
    async with UnitOfWork(sessionmaker) as uow:
        return await uow.fsm_states.get(flat_key(StorageKey(bot_id=running.bot.id, chat_id=user_id, user_id=user_id)))


async def item_id(sessionmaker, code: str) -> int:
    async with UnitOfWork(sessionmaker) as uow:
        return (await uow.session.execute(select(CheckItem.id).where(CheckItem.code == code))).scalar_one()


async def counts(sessionmaker) -> tuple[int, int]:
    """Rounds and outbox rows."""
    async with UnitOfWork(sessionmaker) as uow:
        rounds = (await uow.session.execute(select(func.count()).select_from(Round))).scalar_one()
        outbox = (await uow.session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        return rounds, outbox


async def check_proposed(sessionmaker, world, round_id: int, ratios: dict) -> Round:
    """The round as the lead officer's core service shows it (read, then detached)."""
    async with UnitOfWork(sessionmaker) as uow:
        round_ = await get_round(uow, world.actors["samr"], round_id)
        participants = {d.code: (p.is_lead, p.status, p.team_size) for p, d in await uow.rounds.participants(round_id)}
        items = [i.code for i in await uow.rounds.items(round_id)]
        uow.session.expunge_all()
    assert (round_.title, round_.region, round_.status) == (TITLE, "440100", "proposed")
    assert round_.lead_department_id == world.department_ids["SAMR"]
    assert json.loads(round_.ratios) == ratios
    assert participants == {"SAMR": (True, "confirmed", 2), "EPB": (False, "invited", 1), "TAX": (False, "invited", 1)}
    assert items == ["SAMR-001", "SAMR-K01"]
    scope = json.loads(round_.scope)
    assert (scope["kinds"], scope["industries"], scope["tags"]) == (["product"], ["F51"], [])
    return round_


# ---- the tests ---------------------------------------------------------------------------------


async def test_a_full_run_proposes_the_round_and_invites_the_departments(emulator, sessionmaker, world, running, deliver):
    samr, tax, epb = emulator.user(SAMR, "samr"), emulator.user(TAX, "tax"), emulator.user(EPB, "epb")

    first = await run(samr, TO_RATIOS[:2])
    assert first.buttons == ["☐ SAMR-001 食品经营许可检查", "☐ SAMR-K01 特种设备重点检查", "返回", "下一步", "取消"]
    assert all(len(b["callback_data"].encode()) <= 64 for row in first.inline_keyboard for b in row)
    await samr.press("下一步")  # nothing chosen yet
    assert "请先至少选择一个检查事项" in (await samr.wait_for_answer()).text
    invited = await run(samr, TO_RATIOS[2:5])
    assert invited.buttons == ["☐ 生态环境局 (EPB)", "☐ 税务局 (TAX)", "返回", "下一步", "取消"]
    assert first.buttons == []  # a step left behind keeps its text and loses its buttons
    await run(samr, TO_RATIOS[5:])
    summary = await run(samr, TO_SUMMARY)

    for line in (
        "标题： 2026年食品联合抽查",
        "牵头部门： 市场监管局",
        "• SAMR-001 食品经营许可检查",
        "受邀部门： 生态环境局, 税务局",
        "区域： 广州市 (440100) (下级区划： 天河区 (440106) 白云区 (440111))\n检查对象类型： 产品",
        "行业： F51",
        "标签： 不按标签筛选",
        "监管部门： SAMR TAX",
        "抽查比例： A 10% · B 20% · C 30% · D 30%",
        "• 市场监管局: 小组 2 人",
        "• 税务局: 小组 1 人",
        "间隔期（天）： A 365 · B 180 · C 0 · D 0",
        f"抽取时间： {DRAW_TYPED}",
        f"完成期限： {DUE}",
    ):
        assert line in summary.text, line
    assert summary.buttons == ["确认", "返回", "取消"]
    confirm_data = summary.button("确认")["callback_data"]
    round_id = await confirm(samr)

    round_ = await check_proposed(sessionmaker, world, round_id, {"A": 100, "B": 200, "C": 300, "D": 300})
    assert json.loads(round_.cooling_off) == {"A": 365, "B": 180, "C": 0, "D": 0}
    scope = json.loads(round_.scope)
    assert (scope["regions"], scope["kinds"], scope["industries"], scope["departments"]) == (
        ["440106", "440111"],
        ["product"],
        ["F51"],
        ["SAMR", "TAX"],
    )
    assert round_.draw_at == DRAW  # 10:00 in Beijing
    assert round_.due_date == dt.date.fromisoformat(DUE)
    assert await fsm_rows(sessionmaker, running) == {}  # the finished wizard leaves no state behind

    assert await deliver() == 2
    assert "2026年食品联合抽查" in (await tax.wait_for("联合抽查邀请")).text
    await epb.wait_for("联合抽查邀请")

    # the summary's Confirm pressed again: the wizard is over, nothing is proposed twice
    replay = await samr.press_data(summary.message_id, confirm_data)
    assert BUTTON_REFUSED in (await samr.wait_for_answer(replay)).text
    assert await counts(sessionmaker) == (1, 2)


async def test_cancel_midway_writes_nothing(emulator, sessionmaker, world, running):
    samr = emulator.user(SAMR, "samr")
    invited = await run(samr, TO_RATIOS[:5])
    toggle_data = invited.button("☐ 税务局 (TAX)")["callback_data"]
    await samr.press("取消")
    cancelled = await samr.wait_for("已取消：未发起联合抽查")
    await samr.wait_for_answer()
    assert cancelled is invited and cancelled.buttons == []
    assert await fsm_rows(sessionmaker, running) == {}
    replay = await samr.press_data(invited.message_id, toggle_data)
    assert BUTTON_REFUSED in (await samr.wait_for_answer(replay)).text

    # /cancel at a typed step does the same
    ratios = await run(samr, TO_RATIOS)
    await samr.send("/cancel")
    await samr.wait_for("已取消：未发起联合抽查")
    assert ratios.buttons == []
    assert await fsm_rows(sessionmaker, running) == {}
    assert await counts(sessionmaker) == (0, 0)


async def test_unreadable_input_asks_the_same_step_again_with_the_reason(emulator, sessionmaker, world, running):
    samr = emulator.user(SAMR, "samr")
    await run(samr, [("send", "/propose", "请发送本次联合抽查的标题")])
    again = await run(samr, [("send", "题" * 301, "标题须为 1 至 300 个字符")])
    assert "请发送本次联合抽查的标题" in again.text and again.buttons == ["取消"]
    await run(samr, [("send", TITLE, "请选择市场监管局本次要检查的事项")])
    await run(samr, TO_RATIOS[2:8])
    again = await run(samr, [("send", "4401", "这不是行政区划代码")])
    assert "请发送本次抽查所属辖区" in again.text
    await run(samr, [("send", "440100", "下级区划代码"), ("press", "跳过", "检查对象类型")])
    await run(samr, [("send", "products please", "请用本步骤的按钮作答")])  # a checklist takes buttons only
    await run(samr, TO_RATIOS[11:])
    for wrong, reason in (
        ("30 50 200", "请发送四个比例"),
        ("30 50 200 1200", "D 类的抽查比例 1200 超过了 100%"),
        ("30 50 二百 600", "二百 不是比例：请用百分比（3%）或千分比（30‰）表示"),
        ("3% 5% 2.55% 6%", "2.55% 比最小单位 0.1% 还细"),
    ):
        again = await run(samr, [("send", wrong, reason)])
        assert "请发送 A、B、C、D 各风险等级的抽查比例" in again.text
    await run(samr, [("send", "１０％ ２０％　300‰ 300", "市场监管局的检查组人数")])  # full-width, as an IME types
    team_prompt = samr.last
    two = team_prompt.button("2")["callback_data"]
    await run(samr, [("send", "0", "请发送 1 至 20 的整数")])
    # the team question asked again is a new prompt: the old one's buttons no longer count
    replay = await samr.press_data(team_prompt.message_id, two)
    assert BUTTON_REFUSED in (await samr.wait_for_answer(replay)).text
    await run(samr, TEAMS_ON)
    await run(samr, [("send", "365 180", "请发送四个表示天数的整数"), ("send", "365 180 0 0", "抽取时间")])
    await run(samr, [("send", "明天上午十点", "无法识别“明天上午十点”的日期时间：请按 年-月-日 时:分 的格式填写")])
    past = await run(samr, [("send", "2020-12-01 10:00", "抽取时间 2020-12-01 10:00 已经过去")])  # refused at its own step
    assert "发送抽取时间" in past.text
    await run(samr, [("send", DRAW_TYPED.replace("-", "/"), "完成期限")])
    await run(samr, [("send", "2026-13-01", "无法识别“2026-13-01”的日期")])
    before = (DRAW - dt.timedelta(days=1)).date().isoformat()
    await run(samr, [("send", before, f"完成期限 {before} 早于抽取时间 {DRAW_TYPED}"), ("send", DUE, "请核对")])
    round_id = await confirm(samr)
    await check_proposed(sessionmaker, world, round_id, {"A": 100, "B": 200, "C": 300, "D": 300})


async def test_the_summary_lists_every_problem_offers_its_steps_and_no_confirm(emulator, sessionmaker, world, running):
    samr = emulator.user(SAMR, "samr")
    await run(samr, TO_RATIOS)
    summary = await run(
        samr,
        [
            ("send", "50% 50% 50% 50%", "市场监管局的检查组人数"),
            *TEAMS_ON,
            ("press", "跳过", "抽取时间"),
            ("press", "跳过", "完成期限"),
            ("press", "跳过", "请核对"),
        ],
    )
    # the item and its cap, in the reader's language, once per class; no Confirm while it cannot succeed
    assert "按当前内容无法发起联合抽查" in summary.text
    assert "A 类的抽查比例 50% 超过了检查事项 SAMR-001（食品经营许可检查）的比例上限 40%" in summary.text
    assert "D 类的抽查比例 50%" in summary.text
    assert summary.buttons == ["修改：检查事项", "修改：抽查比例", "返回", "取消"]
    assert await counts(sessionmaker) == (0, 0)

    # the Change button leads to the ratios, and the answer comes straight back to the summary
    await run(samr, [("press", "修改：抽查比例", "抽查比例")])
    fixed = await run(samr, [("send", "10% 20% 30% 30%", "请核对")])
    assert "无法发起" not in fixed.text and fixed.buttons == ["确认", "返回", "取消"]
    round_id = await confirm(samr)
    await check_proposed(sessionmaker, world, round_id, {"A": 100, "B": 200, "C": 300, "D": 300})


async def test_core_refusals_of_the_scope_are_in_the_readers_language_all_at_once(emulator, sessionmaker, world, running):
    samr = emulator.user(SAMR, "samr")
    steps = [("send", "310104", "检查对象类型") if step[1] == "440106 440111" else step for step in TO_RATIOS if step[1] != "4401066"]
    steps = [("send", "TAX NOPE", "抽查比例") if step[1] == "samr，tax" else step for step in steps]
    await run(samr, steps)
    summary = await run(samr, TO_SUMMARY)
    assert "区划 徐汇区 (310104) 不在本轮的辖区 广州市 (440100) 范围内。" in summary.text and "scope region" not in summary.text
    assert "没有代码或名称为 NOPE 的部门。" in summary.text
    assert summary.buttons == ["修改：下级区划", "修改：监管部门", "返回", "取消"]

    await run(samr, [("press", "修改：下级区划", "下级区划代码"), ("send", "海珠区", "请核对")])  # by name
    again = await run(samr, [("press", "修改：监管部门", "所属监管部门"), ("send", "市场监管局，tax", "请核对")])
    assert "监管部门： SAMR TAX" in again.text and again.buttons == ["确认", "返回", "取消"]
    round_id = await confirm(samr)
    async with UnitOfWork(sessionmaker) as uow:
        round_ = await uow.rounds.get(round_id)
        assert json.loads(round_.scope)["regions"] == ["440105"]


async def test_a_proposal_refused_at_confirm_lists_its_problems(emulator, sessionmaker, uow_factory, world, running):
    """Something changed between the summary and Confirm (an item withdrawn): the refusal names it
    and offers the step, without a Confirm."""
    from sqlalchemy import update

    samr = emulator.user(SAMR, "samr")
    await run(samr, TO_RATIOS)
    summary = await run(samr, TO_SUMMARY)
    assert summary.buttons[0] == "确认"
    async with uow_factory() as uow:
        await uow.session.execute(update(CheckItem).where(CheckItem.code == "SAMR-K01").values(is_current=False))
        await uow.commit()
    await samr.press("确认")
    refused = await samr.wait_for("联合抽查未能发起")
    assert "之前选择的市场监管局检查事项已不是现行事项：请重新选择检查事项。" in refused.text
    assert "确认" not in refused.buttons and "修改：检查事项" in refused.buttons
    assert await counts(sessionmaker) == (0, 0)


async def test_inspectors_and_strangers_cannot_start_it(emulator, sessionmaker, world, running):
    for telegram_id in (INSPECTOR, STRANGER):
        user = emulator.user(telegram_id, "someone")
        await user.send("/propose")
        answer = await user.wait_for("您的角色不能使用此命令")
        assert answer.buttons == []
    assert await fsm_rows(sessionmaker, running) == {}


async def test_buttons_of_another_user_or_an_old_step_change_nothing(emulator, sessionmaker, world, running):
    samr, tax = emulator.user(SAMR, "samr"), emulator.user(TAX, "tax")
    samr_items = await run(samr, TO_RATIOS[:3])
    samr_toggle = samr_items.button("☐ SAMR-K01 特种设备重点检查")["callback_data"]
    tax_items = await run(tax, [("send", "/propose", "请发送本次联合抽查的标题"), ("send", "税务专项", "请选择税务局本次要检查的事项")])
    versions = len(tax_items.history)

    # SAMR's button, pressed by TAX's officer on TAX's own checklist
    forged = await tax.press_data(tax_items.message_id, samr_toggle)
    assert BUTTON_REFUSED in (await tax.wait_for_answer(forged)).text
    # TAX's own button naming SAMR's item: not an item TAX's checklist offers
    own = samr_toggle.replace(f":{SAMR}:", f":{TAX}:")
    assert own != samr_toggle
    forged = await tax.press_data(tax_items.message_id, own)
    assert "未找到该内容" in (await tax.wait_for_answer(forged)).text
    assert len(tax_items.history) == versions
    assert (await fsm_data(sessionmaker, running, TAX))[1].get("items", []) == []

    # SAMR moves on; the items checklist left behind no longer counts
    await run(samr, [("press", "下一步", "请选择要邀请的部门")])
    old = await samr.press_data(samr_items.message_id, samr_toggle)
    assert BUTTON_REFUSED in (await samr.wait_for_answer(old)).text
    state, data = await fsm_data(sessionmaker, running, SAMR)
    assert state == "Proposing:invited"
    assert data["items"] == [(await item_id(sessionmaker, "SAMR-001"))]


async def test_an_officer_of_two_departments_chooses_the_lead(emulator, sessionmaker, uow_factory, world, running):
    async with uow_factory() as uow:
        issued = await issue_invite(uow, OPERATOR, "officer", department="TAX")
        await redeem_invite(uow, issued.code, SAMR, "samr")
        await uow.commit()
    samr = emulator.user(SAMR, "samr")
    lead = await run(samr, TO_RATIOS[:1] + [("send", TITLE, "由您的哪个部门牵头")])
    assert lead.buttons == ["市场监管局", "税务局", "返回", "取消"]
    await run(samr, [("press", "税务局", "请选择税务局本次要检查的事项")])
    assert samr.last.buttons[0] == "☐ TAX-001 发票使用检查"
    await run(samr, [("toggle", "TAX-001 发票使用检查", None), ("press", "下一步", "请选择要邀请的部门")])
    assert samr.last.buttons[:2] == ["☐ 生态环境局 (EPB)", "☐ 市场监管局 (SAMR)"]  # the lead is not offered


@pytest.mark.parametrize("backend", ["database", "redis"])
async def test_a_restart_in_the_middle_carries_on_where_it_was(request, backend, sessionmaker, world):
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
        samr = emulator.user(SAMR, "samr")
        bot = PollingBot(sessionmaker, emulator.token, emulator.base_url, redis_url=redis_url)
        await clear_fsm_keys(redis_url, SAMR)
        try:
            await bot.start()
            await run(samr, TO_RATIOS)
            await bot.stop()
            rows = await fsm_rows(sessionmaker)
            if backend == "database":
                assert [state for state, _ in rows.values()] == ["Proposing:ratios"]
            else:  # the state is in Redis, not in the table
                assert rows == {}

            await bot.start()  # a new Bot, Dispatcher and storage, as after a process restart
            await run(samr, TO_SUMMARY)
            round_id = await confirm(samr)
        finally:
            await bot.stop()
            await clear_fsm_keys(redis_url, SAMR)
        assert emulator.unanswered_callbacks() == []
    await check_proposed(sessionmaker, world, round_id, {"A": 100, "B": 200, "C": 300, "D": 300})
