"""Round invitations end to end: the outbox sender delivers them, the invited officers answer with
the buttons (Decline; Join, choose items, Confirm), through the real bot polling the emulator.

Telegram ids are the ones tests/round_world.py binds: 1000 samr, 1001 tax, 1002 epb, 1003
convener, 1004 other_convener, 1005 inspector.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from jointcheck.core.models import CheckItem, OutboxMessage, RoundItem, RoundParticipant
from jointcheck.core.services.rounds import propose_round
from jointcheck.core.uow import UnitOfWork
from tests.round_world import build_world, proposal

SAMR, TAX, EPB, CONVENER = 1000, 1001, 1002, 1003


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory, n_targets=20)


async def propose(uow_factory, world) -> int:
    async with uow_factory() as uow:
        round_ = await propose_round(uow, world.actors["samr"], proposal())
        await uow.commit()
        return round_.id


async def participants(sessionmaker, round_id: int) -> dict[int, str]:
    async with UnitOfWork(sessionmaker) as uow:
        rows = await uow.session.execute(select(RoundParticipant).where(RoundParticipant.round_id == round_id))
        return {p.department_id: p.status for p in rows.scalars()}


async def round_items(sessionmaker, round_id: int, department_id: int) -> list[str]:
    async with UnitOfWork(sessionmaker) as uow:
        query = (
            select(CheckItem.code)
            .join(RoundItem, RoundItem.item_id == CheckItem.id)
            .where(RoundItem.round_id == round_id, RoundItem.department_id == department_id)
        )
        return sorted((await uow.session.execute(query)).scalars())


async def outbox_rows(sessionmaker) -> list[OutboxMessage]:
    async with UnitOfWork(sessionmaker) as uow:
        found = list((await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())
        uow.session.expunge_all()  # readable after the session closes
        return found


async def test_invited_officers_decline_or_join_with_their_items(emulator, sessionmaker, uow_factory, world, running, deliver):
    samr, tax, epb = emulator.user(SAMR, "samr"), emulator.user(TAX, "tax"), emulator.user(EPB, "epb")
    round_id = await propose(uow_factory, world)
    assert await deliver() == 2  # TAX's and EPB's invitations
    invitation = await tax.wait_for("联合抽查邀请")
    assert "市场监管局" in invitation.text and "2026年食品联合抽查" in invitation.text
    assert invitation.buttons == ["加入", "拒绝"]
    assert all(len(b["callback_data"].encode()) <= 64 for row in invitation.inline_keyboard for b in row)
    epb_invitation = await epb.wait_for("联合抽查邀请")
    assert samr.messages == []  # the lead is not invited
    rows = await outbox_rows(sessionmaker)
    assert [(r.template, r.status) for r in rows] == [("round_invitation", "sent")] * 2
    assert {r.telegram_message_id for r in rows} == {invitation.message_id, epb_invitation.message_id}
    assert await deliver() == 0  # nothing is sent twice

    # EPB declines
    decline_data = epb_invitation.button("拒绝")["callback_data"]
    await epb.press("拒绝")
    declined = await epb.wait_for("已拒绝")
    await epb.wait_for_answer()
    assert declined is epb_invitation and declined.buttons == []
    assert (await participants(sessionmaker, round_id))[world.department_ids["EPB"]] == "declined"

    # the replayed Decline is refused politely and changes nothing
    replay = await epb.press_data(epb_invitation.message_id, decline_data)
    answer = await epb.wait_for_answer(replay)
    assert "当前状态" in answer.text and answer.show_alert
    assert len(epb_invitation.history) == 1
    assert (await participants(sessionmaker, round_id))[world.department_ids["EPB"]] == "declined"

    # EPB's officer cannot answer for TAX either
    forged = await epb.press_data(epb_invitation.message_id, invitation.button("加入")["callback_data"])
    assert "无权" in (await epb.wait_for_answer(forged)).text
    assert (await participants(sessionmaker, round_id))[world.department_ids["TAX"]] == "invited"

    # TAX joins: the checklist, a Confirm with nothing chosen, a toggle, Confirm
    await tax.press("加入")
    checklist = await tax.wait_for("请选择")
    await tax.wait_for_answer()
    assert checklist is invitation and checklist.buttons == ["☐ TAX-001 发票使用检查", "确认"]
    await tax.press("确认")
    assert "请先至少选择" in (await tax.wait_for_answer()).text
    assert (await participants(sessionmaker, round_id))[world.department_ids["TAX"]] == "invited"
    await tax.press("☐ TAX-001 发票使用检查")
    await tax.wait_for(lambda m: m.buttons[:1] == ["☑ TAX-001 发票使用检查"])
    await tax.wait_for_answer()
    await tax.press("确认")
    confirmed = await tax.wait_for("已加入")
    await tax.wait_for_answer()
    assert "TAX-001" in confirmed.text and confirmed.buttons == []
    statuses = await participants(sessionmaker, round_id)
    assert statuses[world.department_ids["TAX"]] == "confirmed"
    assert await round_items(sessionmaker, round_id, world.department_ids["TAX"]) == ["TAX-001"]

    # the lead officer hears both answers at the next drain
    assert await deliver() == 2
    await samr.wait_for("生态环境局 已拒绝")
    await samr.wait_for("税务局 已加入")
    responses = [r for r in await outbox_rows(sessionmaker) if r.template == "round_response"]
    assert [r.chat_id for r in responses] == [SAMR, SAMR]
    assert [json.loads(r.params)["accepted"] for r in responses] == [False, True]
    assert all(r.status == "sent" for r in responses)
    assert emulator.unanswered_callbacks() == []


async def test_an_officer_with_english_gets_english_and_the_checklist_replays_are_refused(
    emulator, sessionmaker, uow_factory, world, running, deliver
):
    async with uow_factory() as uow:
        (await uow.users.by_telegram_id(TAX)).language = "en"
        await uow.commit()
    tax = emulator.user(TAX, "tax", language_code="en")
    emulator.user(EPB, "epb")
    round_id = await propose(uow_factory, world)
    await deliver()

    invitation = await tax.wait_for("Invitation to a joint round")
    assert invitation.buttons == ["Join", "Decline"]
    await tax.press("Join")
    await tax.wait_for("Choose the items")
    toggle_data = invitation.button("☐ TAX-001 发票使用检查")["callback_data"]
    await tax.press("☐ TAX-001 发票使用检查")
    await tax.wait_for(lambda m: m.buttons[:1] == ["☑ TAX-001 发票使用检查"])
    await tax.press("Confirm")
    await tax.wait_for("has joined")
    assert (await participants(sessionmaker, round_id))[world.department_ids["TAX"]] == "confirmed"

    # a toggle from the old checklist after the answer: refused, nothing edited
    versions = len(invitation.history)
    replay = await tax.press_data(invitation.message_id, toggle_data)
    answer = await tax.wait_for_answer(replay)
    assert "current state" in answer.text
    assert len(invitation.history) == versions
    assert await round_items(sessionmaker, round_id, world.department_ids["TAX"]) == ["TAX-001"]
