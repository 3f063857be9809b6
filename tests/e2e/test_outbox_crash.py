"""Kill -9 during a fan-out: the real `jointcheck run` against the emulator, killed, restarted.

The guarantee checked: every notice queued before the kill arrives; one arrives twice only if its
row was `sending` (claimed, its outcome unknown) at the kill, and then its second copy carries the
same outbox id marked as a possible repeat (`#id ↻`); nothing arrives three times; afterwards
every row is `sent`. To make the doubtful case certain rather than lucky, the emulator stops
answering sends just before the kill: the messages it takes meanwhile arrive, but the service
never learns it, as when a process dies between the send and its commit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter

import pytest
from sqlalchemy import select

from bench.fanout import bind_inspectors, delivered_ids, queue_notices
from jointcheck.core.models import OutboxMessage
from jointcheck.core.uow import UnitOfWork
from jointcheck.scheduler.sender import IN_FLIGHT_NOTE, outbox_id
from tests.e2e.test_crash_draw import until_logged

NOTICES = 500


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _start(emulator, db_url: str, **more_env: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "JOINTCHECK_DATABASE_URL": db_url,
        "JOINTCHECK_BOT_TOKEN": emulator.token,
        "JOINTCHECK_BOT_API_URL": emulator.base_url,
        "JOINTCHECK_SITE_PORT": "0",
        "JOINTCHECK_OUTBOX_INTERVAL": "0.05",
        "JOINTCHECK_LEADER_RETRY_SECONDS": "0.2",
        # fast enough for 500 notices in a few seconds
        "JOINTCHECK_OUTBOX_RATE_PER_SECOND": "1000",
        "JOINTCHECK_OUTBOX_RATE_PER_CHAT_PER_SECOND": "1000",
        **more_env,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jointcheck.cli.main", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def _statuses(sessionmaker) -> dict[int, tuple[str, str]]:
    async with UnitOfWork(sessionmaker) as uow:
        query = select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.error)
        return {row_id: (status, error) for row_id, status, error in await uow.session.execute(query)}


async def test_kill_9_during_a_fan_out_then_restart_delivers_every_notice_and_repeats_only_what_was_in_flight(
    emulator, db_url, sessionmaker
):
    chats = await bind_inspectors(sessionmaker, NOTICES)
    ids = await queue_notices(sessionmaker, chats)
    for chat in chats:
        emulator.user(chat, f"检查员{chat}")

    first = await _start(emulator, db_url)
    try:
        await _until(lambda: len(emulator.delivered) >= NOTICES // 3, 60, "a third of the fan-out")
        emulator.hold_answers()
        held_from = len(emulator.delivered)
        await _until(lambda: len(emulator.delivered) > held_from, 10, "a send taken but not answered")
        await asyncio.sleep(0.1)  # let every worker get stuck on its unanswered send
    finally:
        first.kill()  # SIGKILL: no cleanup of any kind
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    unanswered = {outbox_id(m.text)[0] for m in emulator.delivered[held_from:]}
    before = delivered_ids(emulator)
    at_kill = await _statuses(sessionmaker)
    in_flight = {row_id for row_id, (status, _) in at_kill.items() if status == "sending"}
    assert len(before) < NOTICES, "the kill came after the fan-out: nothing tested"
    assert unanswered and unanswered <= in_flight and len(in_flight) <= 4  # the sender's concurrency

    emulator.release_answers()
    second = await _start(emulator, db_url)
    try:
        await _until(lambda: len(emulator.delivered) >= NOTICES and set(delivered_ids(emulator)) >= set(ids), 60, "every notice")
        await asyncio.sleep(0.3)  # anything sent twice would have come by now
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), 30)
    assert second.returncode == 0, err.decode()

    arrived = delivered_ids(emulator)
    assert set(arrived) == set(ids)  # nothing lost
    repeated = {row_id for row_id, n in arrived.items() if n > 1}
    assert unanswered <= repeated <= in_flight and max(arrived.values()) == 2
    for row_id in repeated:  # the copy sent after the restart says it may be a repeat
        assert [outbox_id(m.text) for m in emulator.delivered if outbox_id(m.text)[0] == row_id] == [(row_id, False), (row_id, True)]
    after = await _statuses(sessionmaker)
    assert Counter(status for status, _ in after.values()) == {"sent": NOTICES}
    assert {row_id for row_id, (_, error) in after.items() if error == IN_FLIGHT_NOTE} == in_flight
    # the rows sent before the kill were not touched again
    assert all(after[row_id] == at_kill[row_id] for row_id, (status, _) in at_kill.items() if status == "sent")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_kill_9_between_the_parts_of_a_long_notice_repeats_only_marked_parts(emulator, db_url, sessionmaker):
    [chat] = await bind_inspectors(sessionmaker, 1)
    reader = emulator.user(chat, "检查员")
    async with UnitOfWork(sessionmaker) as uow:  # a notice three messages long
        row = uow.outbox.add(
            chat, "recipient_unreachable", {"recipient": "检查员" * 3000, "outbox_id": 7, "cause": "blocked", "notice": "x"}
        )
        await uow.commit()

    first = await _start(emulator, db_url, JOINTCHECK_CRASH_AT="outbox:between-parts")
    try:
        await until_logged(first, "crash point outbox:between-parts reached")
    finally:
        first.kill()
        await first.wait()
    assert [outbox_id(m.text) for m in reader.messages] == [(row.id, False)]  # the first part went out, and then the kill

    second = await _start(emulator, db_url)
    try:
        await _until(lambda: "重新打开与本机器人的对话" in reader.messages[-1].text, 60, "the end of the notice")
        await asyncio.sleep(0.3)  # anything sent again would have come by now
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)
    # the first part came again, and says it may be a repeat; so do the parts after it: none unmarked twice
    assert [outbox_id(m.text) for m in reader.messages] == [(row.id, False)] + [(row.id, True)] * (len(reader.messages) - 1)
    assert len(reader.messages) >= 4
    assert reader.messages[0].text == reader.messages[1].text.replace(" ↻", "")
    assert len("".join(m.text for m in reader.messages[1:])) > 9000 and all(len(m.text) <= 4096 for m in reader.messages)
    assert (await _statuses(sessionmaker))[row.id][0] == "sent"
