"""The outbox sender against the emulator: order, exactly-once within a process, blocked users."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from jointcheck.bot.app import create_bot
from jointcheck.config import Settings
from jointcheck.core.models import OutboxMessage
from jointcheck.core.services.rounds import propose_round
from jointcheck.core.uow import UnitOfWork
from jointcheck.scheduler.sender import OutboxSender
from tests.round_world import build_world, proposal

TAX, EPB = 1001, 1002


@pytest.fixture
async def bot(emulator):
    bot = create_bot(Settings(bot_token=SecretStr(emulator.token), bot_api_url=emulator.base_url))
    yield bot
    await bot.session.close()


async def rows(sessionmaker) -> list[OutboxMessage]:
    async with UnitOfWork(sessionmaker) as uow:
        found = list((await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())
        uow.session.expunge_all()  # readable after the session closes
        return found


async def queue(sessionmaker, *messages: tuple[int, str, dict]) -> None:
    async with UnitOfWork(sessionmaker) as uow:
        for chat_id, template, params in messages:
            uow.outbox.add(chat_id, template, params)
        await uow.commit()


async def test_a_blocked_user_is_undeliverable_and_the_next_row_still_goes(emulator, bot, sessionmaker, uow_factory):
    world = await build_world(uow_factory, n_targets=10)
    tax, epb = emulator.user(TAX, "tax"), emulator.user(EPB, "epb")
    tax.block()
    async with uow_factory() as uow:
        await propose_round(uow, world.actors["samr"], proposal())
        await uow.commit()
    sender = OutboxSender(sessionmaker, bot)

    assert await sender.drain() == 1

    first, second = await rows(sessionmaker)
    assert (first.chat_id, first.status) == (TAX, "undeliverable") and "blocked" in first.error
    assert first.telegram_message_id is None and tax.messages == []
    assert (second.chat_id, second.status) == (EPB, "sent") and second.sent_at is not None
    assert second.telegram_message_id == epb.last.message_id
    assert "联合抽查邀请" in epb.last.text and epb.last.buttons == ["加入", "拒绝"]


async def test_rows_go_in_order_once_in_the_recipients_language(emulator, bot, sessionmaker, uow_factory):
    await build_world(uow_factory, n_targets=10)
    async with uow_factory() as uow:
        (await uow.users.by_telegram_id(EPB)).language = "en"
        await uow.commit()
    tax, epb = emulator.user(TAX, "tax"), emulator.user(EPB, "epb")
    await queue(sessionmaker, (TAX, "task_staffed", {"task_id": 1}), (EPB, "task_staffed", {"task_id": 2}),
                (TAX, "task_staffed", {"task_id": 3}), (4242, "task_staffed", {"task_id": 4}))
    emulator.user(4242, "stranger")  # no account: Chinese by default
    sender = OutboxSender(sessionmaker, bot)

    assert await sender.drain(limit=2) == 2
    assert await sender.drain() == 2
    assert await sender.drain() == 0

    assert [m.text for m in tax.messages] == [
        "您已被加入编号 1 的检查任务小组。发送 /tasks 查看。", "您已被加入编号 3 的检查任务小组。发送 /tasks 查看。"]
    assert [m.text for m in epb.messages] == ["You have been added to the team of inspection task no. 2. Send /tasks to see it."]
    assert "编号 4" in emulator.sent_to(4242)[0].text
    assert [m.chat_id for m in emulator.delivered] == [TAX, EPB, TAX, 4242]
    assert all(r.status == "sent" for r in await rows(sessionmaker))
    assert len(emulator.calls_to("sendMessage")) == 4


async def test_an_unknown_template_does_not_block_the_queue(emulator, bot, sessionmaker):
    emulator.user(TAX, "tax")
    await queue(sessionmaker, (TAX, "no_such_template", {}), (TAX, "task_staffed", {"task_id": 5}))

    assert await OutboxSender(sessionmaker, bot).drain() == 1

    broken, fine = await rows(sessionmaker)
    assert broken.status == "undeliverable" and "no_such_template" in broken.error
    assert fine.status == "sent"
