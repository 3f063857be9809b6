"""Rounds in chat end to end: /rounds and /round for those entitled (and "not found" for anyone
else), and the convener's Approve, Enter seed and Draw now, through the real bot polling the emulator.

Telegram ids are the ones tests/round_world.py binds: 1000 samr, 1001 tax, 1002 epb, 1003
convener, 1004 other_convener, 1005 inspector.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from jointcheck.core.models import Draw, OutboxMessage, Round
from jointcheck.core.services.audit_heads import published_heads
from jointcheck.core.services.rounds import propose_round, respond_to_round
from jointcheck.core.uow import UnitOfWork
from tests.round_world import build_world, proposal, step

SAMR, TAX, EPB, CONVENER, OTHER_CONVENER, INSPECTOR = 1000, 1001, 1002, 1003, 1004, 1005
SEED = "3141 5926 5358 9793 2384 6264"
TITLE = "2026年食品联合抽查"


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def proposed_and_confirmed(uow_factory, world) -> int:
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal())
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    return round_.id


async def round_state(sessionmaker, round_id: int) -> tuple[str, Draw | None, int]:
    async with UnitOfWork(sessionmaker) as uow:
        round_ = (await uow.session.execute(select(Round).where(Round.id == round_id))).scalar_one()
        draw = await uow.rounds.draw_of(round_id)
        tasks = await uow.rounds.task_count(round_id)
        uow.session.expunge_all()
        return round_.status, draw, tasks


async def draw_file(sessionmaker, round_id: int, name: str) -> bytes:
    async with UnitOfWork(sessionmaker) as uow:
        return await uow.rounds.file((await uow.rounds.draw_of(round_id)).id, name)


async def outbox_templates(sessionmaker) -> list[str]:
    async with UnitOfWork(sessionmaker) as uow:
        return list((await uow.session.execute(select(OutboxMessage.template).order_by(OutboxMessage.id))).scalars())


def has_buttons(*labels: str):
    def test(message) -> bool:
        return message.buttons == list(labels)

    test.__name__ = f"buttons {labels}"
    return test


async def test_the_convener_approves_seeds_and_draws_in_chat(emulator, sessionmaker, uow_factory, world, running, deliver):
    round_id = await proposed_and_confirmed(uow_factory, world)
    convener = emulator.user(CONVENER, "convener")
    samr = emulator.user(SAMR, "samr")
    other = emulator.user(OTHER_CONVENER, "other")
    tax, inspector = emulator.user(TAX, "tax"), emulator.user(INSPECTOR, "inspector")
    emulator.user(EPB, "epb")

    # /rounds: one line per round, with a button opening it
    await convener.send("/rounds")
    listing = await convener.wait_for("您的联合抽查")
    assert f"编号 {round_id} · 已发起，等待批准 · {TITLE}" in listing.text
    assert listing.buttons == [f"{round_id} · {TITLE}"]
    assert all(len(b["callback_data"].encode()) <= 64 for row in listing.inline_keyboard for b in row)

    await convener.press(f"{round_id} · {TITLE}")
    view = await convener.wait_for(has_buttons("批准"))
    await convener.wait_for_answer()
    assert TITLE in view.text and "已发起，等待批准" in view.text and "市场监管局" in view.text
    assert "税务局 (TAX): 已加入" in view.text and "TAX-001" in view.text
    assert "生态环境局 (EPB): 已邀请，尚未答复" in view.text and "任务数：0" in view.text
    approve_data = view.button("批准")["callback_data"]

    # an officer sees the round, without the convener's button; a forged Approve changes nothing
    await samr.send(f"/round {round_id}")
    officer_view = await samr.wait_for(TITLE)
    assert officer_view.buttons == []
    forged = await samr.press_data(officer_view.message_id, approve_data)
    assert "无权" in (await samr.wait_for_answer(forged)).text
    assert (await round_state(sessionmaker, round_id))[0] == "proposed"

    # a convener of another region: the round does not exist for them
    await other.send(f"/round {round_id}")
    assert "未找到" in (await other.wait_for("抱歉")).text
    await other.send("/rounds")
    assert TITLE not in (await other.wait_for("没有")).text
    await other.send(f"/round {round_id + 1000}")
    await other.wait_for("未找到")
    await other.send("/round abc")
    await other.wait_for("/round 7")

    # Approve: the commitment in chat; the button goes, the next step comes
    await convener.press("批准")
    approved = await convener.wait_for("承诺值")
    assert (await convener.wait_for_answer()).text == "批准"
    status, draw, _ = await round_state(sessionmaker, round_id)
    assert status == "approved" and draw.commitment in approved.text
    assert approved.buttons == ["录入随机种子", "设定抽取时间"]
    assert view.buttons == []
    replay = await convener.press_data(view.message_id, approve_data)
    assert "当前状态" in (await convener.wait_for_answer(replay)).text
    assert "round_commitment" in await outbox_templates(sessionmaker)

    # Enter seed, /cancel, Enter seed again, a bad seed (stays), the seed with spaces
    await convener.press("录入随机种子")
    await convener.wait_for("下一条消息")
    await convener.wait_for_answer()
    await convener.send("/cancel")
    await convener.wait_for("已取消")
    await convener.send(SEED)
    await convener.wait_for("只能识别")  # not waiting for a seed any more
    assert (await round_state(sessionmaker, round_id))[0] == "approved"
    await convener.press("录入随机种子")
    await convener.wait_for("下一条消息")
    await convener.send("3141 59x6")
    await convener.wait_for("随机种子只能包含数字和空格，“x”两者都不是。请至少发送 20 位数字。")
    await convener.send("3141 5926")
    await convener.wait_for("随机种子只有 8 位数字，至少需要 20 位。请重新发送完整的种子。")
    assert (await round_state(sessionmaker, round_id))[0] == "approved"
    # typed with a Chinese input method: full-width digits and an ideographic space read as ASCII
    await convener.send(SEED.replace("3141 5926", "３１４１\u3000５９２６"))
    seeded = await convener.wait_for("随机种子已录入")
    status, draw, _ = await round_state(sessionmaker, round_id)
    assert status == "seeded" and draw.seed_digits == SEED.replace(" ", "")
    assert seeded.buttons == ["立即抽取", "设定抽取时间"]

    # Set draw time: a past time and a typo are refused and asked again; China's time is meant
    await convener.press("设定抽取时间")
    await convener.wait_for("北京时间")
    await convener.send("2020-01-01 10:00")
    await convener.wait_for("抽取时间 2020-01-01 10:00 已经过去")
    await convener.send("明天上午")
    await convener.wait_for("无法识别“明天上午”的日期时间")
    await convener.send("2026-12-30 10:00")
    scheduled = await convener.wait_for("将于 2026-12-30 10:00")
    assert scheduled.buttons == ["立即抽取", "设定抽取时间"]
    async with UnitOfWork(sessionmaker) as uow:
        when = (await uow.rounds.get(round_id)).draw_at
    assert when == dt.datetime(2026, 12, 30, 2, 0, tzinfo=dt.UTC)
    assert "round_draw_scheduled" in await outbox_templates(sessionmaker)

    # Draw now, pressed twice: one draw, the second press refused politely
    draw_data = seeded.button("立即抽取")["callback_data"]
    first = await convener.press_data(seeded.message_id, draw_data)
    second = await convener.press_data(seeded.message_id, draw_data)
    drawn = await convener.wait_for("已完成抽取")
    answers = {(await convener.wait_for_answer(first)).text, (await convener.wait_for_answer(second)).text}
    assert "立即抽取" in answers and any("当前状态" in a for a in answers)
    assert "45" in drawn.text and "所有检查小组均已配齐" in drawn.text
    await asyncio.sleep(0.2)
    assert sum("已完成抽取" in (m.text or "") for m in convener.messages) == 1
    status, draw, tasks = await round_state(sessionmaker, round_id)
    assert (status, tasks) == ("drawn", 45)

    # the round's view now shows the commitment, the seed and the tasks
    await samr.send(f"/round {round_id}")
    final = await samr.wait_for("任务数：45")
    assert draw.commitment in final.text and draw.seed_digits in final.text and "已抽取" in final.text

    # the outbox delivers what the steps queued: the participants hear of the draw
    await deliver()
    for officer in (samr, tax):
        notice = await officer.wait_for(f"（编号 {round_id}）已完成抽取")
        # the summary carries the proof: commitment, seed and both fingerprints, and how to check them
        files = {name: await draw_file(sessionmaker, round_id, name) for name in ("selected.tsv", "assignments.tsv", "seed.txt")}
        assert draw.commitment in notice.text and files["seed.txt"].decode().strip() in notice.text
        assert all(hashlib.sha256(files[n]).hexdigest() in notice.text for n in ("selected.tsv", "assignments.tsv"))
        assert f"jointcheck round archive {round_id}" in notice.text and "public_proof.py" in notice.text
        # and the audit chain's head with the draw in it, as published
        async with UnitOfWork(sessionmaker) as uow:
            drawn_head = next(h for h in await published_heads(uow) if h.occasion == "round.drawn")
        assert "审计日志的链头" in notice.text and drawn_head.anchor in notice.text
        # and the seed reached each participant before the result did
        texts = [m.text or "" for m in officer.messages]
        seeded_at = next(i for i, t in enumerate(texts) if "随机种子已录入，随后进行抽取" in t)
        assert seeded_at < texts.index(notice.text)
    await inspector.wait_for("/tasks")
    assert {"round_commitment", "round_seed", "round_drawn", "tasks_assigned"} <= set(await outbox_templates(sessionmaker))
    assert emulator.unanswered_callbacks() == []


async def test_the_convener_lists_rounds_waiting_and_english_works(emulator, sessionmaker, uow_factory, world, running):
    round_id = await proposed_and_confirmed(uow_factory, world)
    async with uow_factory() as uow:
        (await uow.users.by_telegram_id(CONVENER)).language = "en"
        await uow.commit()
    convener = emulator.user(CONVENER, "convener", language_code="en")
    inspector = emulator.user(INSPECTOR, "inspector")

    await convener.send("/pending")
    pending = await convener.wait_for("awaiting your approval")
    assert f"No. {round_id} · proposed, awaiting approval" in pending.text
    await convener.press(f"{round_id} · {TITLE}")
    view = await convener.wait_for(has_buttons("Approve"))
    assert "Status: proposed, awaiting approval" in view.text

    # an inspector not on any team sees no round at all
    await inspector.send(f"/round {round_id}")
    await inspector.wait_for("未找到")
    await inspector.send("/pending")
    await inspector.wait_for("不能使用")  # not for their role
