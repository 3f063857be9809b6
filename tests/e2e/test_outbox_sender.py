"""The outbox sender against the emulator: order per chat, Telegram's limits, 429s, blocked users,
network errors, two senders at once, and rows left in flight by a sender that stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from jointcheck.bot.app import create_bot
from jointcheck.config import Settings
from jointcheck.core.clock import as_utc
from jointcheck.core.models import OutboxMessage
from jointcheck.core.services.rounds import propose_round
from jointcheck.core.uow import UnitOfWork
from jointcheck.scheduler.sender import IN_FLIGHT_NOTE, OutboxSender, backoff, outbox_id
from jointcheck.testing.emulator import DISCONNECT
from tests.round_world import build_world, proposal

SAMR_OFFICER, TAX, EPB, INSPECTOR = 1000, 1001, 1002, 1005  # build_world's Telegram ids
FAST = {"outbox_rate_per_second": 200, "outbox_rate_per_chat_per_second": 50, "outbox_rate_per_group_per_minute": 3000}


@pytest.fixture
def settings(emulator):
    def make(**limits) -> Settings:
        return Settings(bot_token=SecretStr(emulator.token), bot_api_url=emulator.base_url, **{**FAST, **limits})

    return make


@pytest.fixture
async def bot(settings):
    bot = create_bot(settings())
    yield bot
    await bot.session.close()


async def rows(sessionmaker) -> list[OutboxMessage]:
    async with UnitOfWork(sessionmaker) as uow:
        found = list((await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())
        uow.session.expunge_all()  # readable after the session closes
        return found


async def queue(sessionmaker, *messages: tuple[int, str, dict]) -> list[int]:
    async with UnitOfWork(sessionmaker) as uow:
        added = [uow.outbox.add(chat_id, template, params) for chat_id, template, params in messages]
        await uow.commit()
    return [row.id for row in added]


def staffed(*chats: int) -> list[tuple[int, str, dict]]:
    return [(chat, "task_staffed", {"task_id": n}) for n, chat in enumerate(chats, start=1)]


def ids_in(messages) -> list[int]:
    return [outbox_id(m.text)[0] for m in messages]


def send_times(emulator, chat_id: int | None = None) -> list[float]:
    """When the emulator received each send it accepted (monotonic seconds)."""
    return [c.time for c in emulator.calls_to("sendMessage") if c.ok and chat_id in (None, c.chat_id)]


async def test_a_blocked_officer_is_undeliverable_and_the_next_row_still_goes(emulator, bot, settings, sessionmaker, uow_factory):
    world = await build_world(uow_factory, n_targets=10)
    tax, epb = emulator.user(TAX, "tax"), emulator.user(EPB, "epb")
    tax.block()
    async with uow_factory() as uow:
        await propose_round(uow, world.actors["samr"], proposal())
        await uow.commit()
    sender = OutboxSender(sessionmaker, bot, settings=settings())

    assert await sender.drain() == 1

    first, second = await rows(sessionmaker)  # an officer is no inspector: nobody else is told
    assert (first.chat_id, first.status) == (TAX, "undeliverable") and "blocked" in first.error
    assert first.telegram_message_id is None and tax.messages == []
    assert (second.chat_id, second.status, second.attempts) == (EPB, "sent", 1) and second.sent_at is not None
    assert second.telegram_message_id == epb.last.message_id
    assert "联合抽查邀请" in epb.last.text and epb.last.buttons == ["加入", "拒绝"]
    assert sender.stats.undeliverable == 1 and sender.stats.sent == 1


async def test_rows_go_once_in_the_recipients_language_ending_with_their_outbox_id(emulator, bot, settings, sessionmaker, uow_factory):
    await build_world(uow_factory, n_targets=10)
    async with uow_factory() as uow:
        (await uow.users.by_telegram_id(EPB)).language = "en"
        await uow.commit()
    tax, epb = emulator.user(TAX, "tax"), emulator.user(EPB, "epb")
    ids = await queue(sessionmaker, *staffed(TAX, EPB, TAX, 4242))
    emulator.user(4242, "stranger")  # no account: Chinese by default
    sender = OutboxSender(sessionmaker, bot, settings=settings())

    assert await sender.drain(limit=2) == 2
    assert await sender.drain() == 2
    assert await sender.drain() == 0

    assert [m.text for m in tax.messages] == [
        f"您已被加入编号 1 的检查任务小组。发送 /tasks 查看。\n\n#{ids[0]}",
        f"您已被加入编号 3 的检查任务小组。发送 /tasks 查看。\n\n#{ids[2]}",
    ]
    assert [m.text for m in epb.messages] == [
        f"You have been added to the team of inspection task no. 2. Send /tasks to see it.\n\n#{ids[1]}"
    ]
    assert outbox_id(emulator.sent_to(4242)[0].text) == (ids[3], False)
    assert all(r.status == "sent" for r in await rows(sessionmaker))
    assert len(emulator.calls_to("sendMessage")) == 4


async def test_an_unknown_template_does_not_block_the_queue(emulator, bot, settings, sessionmaker):
    emulator.user(TAX, "tax")
    await queue(sessionmaker, (TAX, "no_such_template", {}), (TAX, "task_staffed", {"task_id": 5}))

    assert await OutboxSender(sessionmaker, bot, settings=settings()).drain() == 1

    broken, fine = await rows(sessionmaker)
    assert broken.status == "undeliverable" and "no_such_template" in broken.error
    assert fine.status == "sent"


async def test_a_chat_keeps_its_order_and_a_slow_chat_holds_up_no_one(emulator, bot, settings, sessionmaker):
    slow, others = 7001, list(range(7100, 7112))
    for chat in (slow, *others):
        emulator.user(chat, f"u{chat}")
    ids = await queue(sessionmaker, *staffed(slow, slow, *others[:6], slow, slow, *others[6:]))

    delivered = await OutboxSender(sessionmaker, bot, settings=settings(outbox_rate_per_chat_per_second=2)).drain()

    assert delivered == 16 and Counter(ids_in(emulator.delivered)) == Counter(ids)
    slow_ids = ids_in(emulator.sent_to(slow))
    assert slow_ids == sorted(slow_ids) == [ids[0], ids[1], ids[8], ids[9]]
    # the slow chat's second message waits for its chat's bucket; everyone else goes meanwhile
    order = [m.chat_id for m in emulator.delivered]
    assert [i for i, chat in enumerate(order) if chat == slow][1] > max(order.index(chat) for chat in others)
    times = send_times(emulator, slow)
    assert min(b - a for a, b in zip(times, times[2:])) >= 0.95  # 2 a second: never 3 in a second


async def test_sends_keep_to_the_limits_overall_and_per_chat(emulator, bot, settings, sessionmaker):
    chats = list(range(7200, 7206))
    for chat in chats:
        emulator.user(chat, f"u{chat}")
    group = emulator.group(-1007300, "检查组")
    await queue(sessionmaker, *staffed(*(chats * 3), group.chat_id, group.chat_id, group.chat_id))
    limits = {"outbox_rate_per_second": 10, "outbox_rate_per_chat_per_second": 2, "outbox_rate_per_group_per_minute": 120}

    assert await OutboxSender(sessionmaker, bot, settings=settings(**limits)).drain() == 21

    # Telegram counts where requests arrive; 5% of a window is left for their jitter on the way.
    times = send_times(emulator)
    assert min(b - a for a, b in zip(times, times[10:])) >= 0.95  # never 11 in a second
    for chat in (*chats, group.chat_id):  # a group's minute is tested on a fake clock (test_rate_limits.py)
        mine = send_times(emulator, chat)
        assert len(mine) == 3 and mine[2] - mine[0] >= 0.95  # never 3 in a second


async def test_a_429_stops_every_chat_for_retry_after_then_the_same_message_goes(emulator, bot, settings, sessionmaker):
    chats = list(range(7400, 7405))
    for chat in chats:
        emulator.user(chat, f"u{chat}")
    ids = await queue(sessionmaker, *staffed(*chats))
    emulator.inject(error=429, method="sendMessage", retry_after=1, times=2)
    sender = OutboxSender(sessionmaker, bot, settings=settings())

    assert await sender.drain() == 5

    assert Counter(ids_in(emulator.delivered)) == Counter(ids)  # nothing lost, nothing twice
    assert sender.stats.rate_limited == 2 and all(r.status == "sent" for r in await rows(sessionmaker))
    calls = emulator.calls_to("sendMessage")
    refused = next(c for c in calls if c.status == 429)
    again = next(c for c in calls if c.ok and c.chat_id == refused.chat_id)
    assert again.time >= refused.time + 1.0
    # every chat waits: only requests already on their way when the 429 came went out meanwhile
    assert [c for c in calls if c.ok and refused.time + 0.05 < c.time < refused.time + 1.0] == []


async def test_the_emulators_own_flood_control_loses_and_repeats_nothing(emulator, bot, settings, sessionmaker):
    chats = list(range(7500, 7512))
    for chat in chats:
        emulator.user(chat, f"u{chat}")
    ids = await queue(sessionmaker, *staffed(*chats, *chats[:4]))
    emulator.limit(global_per_second=6, per_chat_per_second=1, per_group_per_minute=20)
    sender = OutboxSender(sessionmaker, bot, settings=settings(outbox_rate_per_second=100, outbox_rate_per_chat_per_second=20))

    assert await sender.drain() == 16

    refused = [c for c in emulator.rejected if c.status == 429]
    assert refused and len(refused) == sender.stats.rate_limited == len(emulator.rejected)
    assert Counter(ids_in(emulator.delivered)) == Counter(ids)
    for chat in chats[:4]:
        assert ids_in(emulator.sent_to(chat)) == sorted(ids_in(emulator.sent_to(chat)))


@pytest.mark.parametrize("blocked", [True, False], ids=["blocked", "no_chat"])
async def test_an_unreachable_inspector_is_undeliverable_and_the_officers_are_told_once(
    emulator, bot, settings, sessionmaker, uow_factory, blocked
):
    await build_world(uow_factory, n_targets=10)
    officer = emulator.user(SAMR_OFFICER, "samr")
    if blocked:
        emulator.user(INSPECTOR, "inspector").block()  # else the emulator has no such chat: 400 chat not found
    [notice] = await queue(sessionmaker, (INSPECTOR, "task_staffed", {"task_id": 41}))
    sender = OutboxSender(sessionmaker, bot, settings=settings())

    assert await sender.drain() == 1  # the officer's notice, in the same drain
    assert await sender.drain() == 0

    failed, told = await rows(sessionmaker)
    assert (failed.id, failed.status) == (notice, "undeliverable")
    assert ("blocked" if blocked else "chat not found") in failed.error
    assert (told.chat_id, told.template, told.status) == (SAMR_OFFICER, "recipient_unreachable", "sent")
    assert told.dedupe_key.startswith(f"recipient_unreachable:{notice}:u")
    [message] = officer.messages
    assert "SAMR检查员0" in message.text and ("已屏蔽" if blocked else "未与本机器人建立对话") in message.text
    assert f"#{notice}" in message.text and "您已被加入编号 41 的检查任务小组" in message.text
    assert sender.stats.undeliverable == 1


async def test_a_message_telegram_refuses_is_undeliverable_and_the_officers_are_told(emulator, bot, settings, sessionmaker, uow_factory):
    await build_world(uow_factory, n_targets=10)
    officer = emulator.user(SAMR_OFFICER, "samr")
    emulator.user(INSPECTOR, "inspector")
    emulator.inject(error=400, description='Bad Request: can\'t parse entities: Unsupported start tag "x"', chat_id=INSPECTOR)
    [notice] = await queue(sessionmaker, (INSPECTOR, "task_staffed", {"task_id": 41}))
    sender = OutboxSender(sessionmaker, bot, settings=settings())

    assert await sender.drain() == 1  # the officer's notice: a 400 of any kind ends a notice, and someone hears of it

    failed, told = await rows(sessionmaker)  # the message's fault, not the recipient's
    assert failed.status == "undeliverable" and "can't parse entities" in failed.error
    assert (told.chat_id, told.template, told.status) == (SAMR_OFFICER, "recipient_unreachable", "sent")
    [message] = officer.messages
    assert "Telegram 拒绝投递" in message.text and f"#{notice}" in message.text
    assert sender.stats.undeliverable == 1


async def test_a_notice_to_an_unreachable_officer_about_an_unreachable_inspector_ends_there(
    emulator, bot, settings, sessionmaker, uow_factory
):
    await build_world(uow_factory, n_targets=10)
    emulator.user(SAMR_OFFICER, "samr").block()
    emulator.user(INSPECTOR, "inspector").block()
    await queue(sessionmaker, (INSPECTOR, "task_staffed", {"task_id": 41}))

    assert await OutboxSender(sessionmaker, bot, settings=settings()).drain() == 0

    assert [(r.template, r.status) for r in await rows(sessionmaker)] == [
        ("task_staffed", "undeliverable"),
        ("recipient_unreachable", "undeliverable"),
    ]


@pytest.mark.parametrize("error", [DISCONNECT, 500, 502], ids=["disconnect", "500", "502"])
async def test_a_network_error_is_tried_again_later_and_the_chat_waits(emulator, bot, settings, sessionmaker, error):
    now = [dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)]
    failing, fine = emulator.user(7601, "a"), emulator.user(7602, "b")
    first, second, other = await queue(sessionmaker, *staffed(failing.chat_id, failing.chat_id, fine.chat_id))
    emulator.inject(error=error, chat_id=failing.chat_id)
    sender = OutboxSender(sessionmaker, bot, settings=settings(), clock=lambda: now[0])

    assert await sender.drain() == 1  # only the other chat's row
    retrying, waiting, sent = await rows(sessionmaker)
    assert (retrying.status, retrying.attempts, retrying.error != "") == ("pending", 1, True)
    assert as_utc(retrying.not_before) == now[0] + dt.timedelta(seconds=backoff(1))
    assert (waiting.status, waiting.attempts, sent.status) == ("pending", 0, "sent")
    assert sender.stats.retried == 1

    now[0] += dt.timedelta(seconds=backoff(1) - 1)
    assert await sender.drain() == 0  # not yet, and the second row does not overtake the first
    now[0] += dt.timedelta(seconds=1)
    assert await sender.drain() == 2

    assert ids_in(failing.messages) == [first, second]
    assert [r.status for r in await rows(sessionmaker)] == ["sent"] * 3


def test_backoff_doubles_up_to_ten_minutes():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(50) == 600


async def test_two_senders_at_once_deliver_every_row_once_in_order(emulator, bot, settings, sessionmaker):
    chats = list(range(7700, 7710))
    for chat in chats:
        emulator.user(chat, f"u{chat}")
    ids = await queue(sessionmaker, *staffed(*(chats * 4)))
    one, two = (OutboxSender(sessionmaker, bot, settings=settings()) for _ in range(2))

    delivered = await asyncio.gather(one.drain(), two.drain())

    assert sum(delivered) == 40
    assert Counter(ids_in(emulator.delivered)) == Counter(ids)
    for chat in chats:
        assert ids_in(emulator.sent_to(chat)) == sorted(ids_in(emulator.sent_to(chat)))
    assert [r.status for r in await rows(sessionmaker)] == ["sent"] * 40


async def test_rows_in_flight_when_a_sender_stopped_go_again_marked_as_possible_repeats(emulator, bot, settings, sessionmaker):
    user = emulator.user(7801, "u")
    ids = await queue(sessionmaker, *staffed(user.chat_id, user.chat_id, user.chat_id))
    async with UnitOfWork(sessionmaker) as uow:  # the first row was claimed when its sender died
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(status="sending", attempts=1))
        await uow.commit()
    sender = OutboxSender(sessionmaker, bot, settings=settings())

    assert await sender.drain() == 0  # a chat with a row in flight waits
    running = asyncio.create_task(sender.run(interval=0.05))
    try:
        await user.wait_for(f"#{ids[2]}", since_last_action=False)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    assert [outbox_id(m.text) for m in user.messages] == [(ids[0], True), (ids[1], False), (ids[2], False)]
    first = (await rows(sessionmaker))[0]
    assert (first.status, first.attempts, first.error) == ("sent", 2, IN_FLIGHT_NOTE)
    assert sender.stats.resent == 1


async def test_a_sender_stopped_before_its_request_went_out_leaves_nothing_in_doubt(emulator, bot, settings, sessionmaker):
    user = emulator.user(7901, "u")
    [row_id] = await queue(sessionmaker, *staffed(user.chat_id))
    emulator.inject(error=429, retry_after=60)  # refused, so not sent: the sender waits a minute
    sender = OutboxSender(sessionmaker, bot, settings=settings())
    draining = asyncio.create_task(sender.drain())
    while sender.stats.rate_limited == 0:
        await asyncio.sleep(0.01)

    draining.cancel()
    await asyncio.gather(draining, return_exceptions=True)

    [row] = await rows(sessionmaker)
    assert (row.id, row.status, row.attempts) == (row_id, "pending", 0)
    assert user.messages == []
