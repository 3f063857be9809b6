"""Notification fan-out through the emulator at Telegram's limits (issue 6's performance goal).

    .venv/bin/python bench/fanout.py [--count N] [--database-url URL]

N inspectors (5,000 by default) of one department are bound to Telegram accounts with direct
inserts (inspector records, users, inspector grants: what redeeming N invites leaves behind), and
one `task_staffed` notice per inspector is queued, on a migrated SQLite database in a temporary
directory (or the empty, migrated database at --database-url). None of that is measured.

The loopback Bot API emulator enforces Telegram's limits with its RateLimiter (30 messages a
second overall, 1 a second per chat, 20 a minute per group, counted where requests arrive) and
the real OutboxSender with the default Settings drains the outbox through aiogram's HTTP session.
Measured: from the start of the drain until it returns. Figures: achieved rate (messages
delivered / elapsed) and its share of 30/s; 429 answers seen by the emulator, and how many of
them the sender waited out and sent again; duplicates and losses, found by the outbox id at the
end of every delivered message (`#123`); the rows' final statuses. Goal: rate >= 90% of the
limit, no 429 unhandled, no duplicate, nothing lost. It takes about N / 28.5 seconds by nature.

bind_inspectors and queue_notices are shared with tests/test_outbox_crash.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from jointcheck.bot.app import create_bot  # noqa: E402
from jointcheck.config import Settings  # noqa: E402
from jointcheck.core import migrate  # noqa: E402
from jointcheck.core.db import make_engine, make_sessionmaker  # noqa: E402
from jointcheck.core.models import Department, Inspector, OutboxMessage, Role, RoleGrant, User  # noqa: E402
from jointcheck.core.uow import UnitOfWork  # noqa: E402
from jointcheck.scheduler.sender import OutboxSender, outbox_id  # noqa: E402
from jointcheck.testing.emulator import BotAPIEmulator  # noqa: E402

FIRST_CHAT = 500_000  # Telegram ids of the inspectors
LIMIT = 30  # messages a second overall, Telegram's documented limit


async def bind_inspectors(sessionmaker, count: int, first_chat: int = FIRST_CHAT) -> list[int]:
    """`count` inspectors of a new department FANOUT, each bound to an account; their chat ids."""
    async with UnitOfWork(sessionmaker) as uow:
        department = Department(code="FANOUT", name="扇出测试局")
        uow.session.add(department)
        await uow.session.flush()
        inspectors = [Inspector(cert_no=f"FO-{i:06d}", name=f"检查员{i}", department_id=department.id) for i in range(count)]
        users = [User(telegram_id=first_chat + i, display_name=f"fanout-{i}", language="zh_CN") for i in range(count)]
        uow.session.add_all(inspectors + users)
        await uow.session.flush()
        uow.session.add_all(
            [RoleGrant(user_id=user.id, role=Role.INSPECTOR.value, inspector_id=inspector.id) for user, inspector in zip(users, inspectors)]
        )
        await uow.commit()
    return [first_chat + i for i in range(count)]


async def queue_notices(sessionmaker, chats: list[int]) -> list[int]:
    """One `task_staffed` notice per chat, in chat order; their outbox ids."""
    async with UnitOfWork(sessionmaker) as uow:
        rows = [uow.outbox.add(chat, "task_staffed", {"task_id": n}, dedupe_key=f"fanout:{n}") for n, chat in enumerate(chats)]
        await uow.commit()
    return [row.id for row in rows]


def delivered_ids(emulator: BotAPIEmulator) -> Counter:
    """How many times each outbox id arrived, read from the end of every delivered message."""
    return Counter(found[0] for message in emulator.delivered if (found := outbox_id(message.text)))


async def run(count: int, database_url: str) -> bool:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        chats = await bind_inspectors(sessionmaker, count)
        ids = await queue_notices(sessionmaker, chats)
        async with BotAPIEmulator() as emulator:
            for chat in chats:
                emulator.user(chat, f"检查员{chat - FIRST_CHAT}")
            emulator.limit(global_per_second=LIMIT, per_chat_per_second=1, per_group_per_minute=20)
            settings = Settings(bot_token=SecretStr(emulator.token), bot_api_url=emulator.base_url)
            bot = create_bot(settings)
            sender = OutboxSender(sessionmaker, bot, settings=settings)
            try:
                started = time.perf_counter()
                await sender.drain()
                elapsed = time.perf_counter() - started
            finally:
                await bot.session.close()
            arrived = delivered_ids(emulator)
            seen_429 = sum(1 for call in emulator.rejected if call.status == 429)
            other_errors = [call for call in emulator.rejected if call.status != 429]
        async with UnitOfWork(sessionmaker) as uow:
            statuses = dict((await uow.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    finally:
        await engine.dispose()

    delivered = sum(arrived.values())
    duplicates = sum(n - 1 for n in arrived.values() if n > 1)
    lost = sum(1 for row_id in ids if row_id not in arrived)
    rate = delivered / elapsed
    unhandled = seen_429 - sender.stats.rate_limited
    print(f"command:      {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"notices:      {count} to {count} bound inspectors; emulator limits {LIMIT}/s overall, 1/s per chat, 20/min per group")
    print(f"elapsed:      {elapsed:.1f} s")
    print(f"achieved:     {rate:.2f} messages/s = {rate / LIMIT:.1%} of the {LIMIT}/s limit (goal >= 90%)")
    print(f"429 answers:  {seen_429} seen, {sender.stats.rate_limited} waited out and sent again, {unhandled} unhandled")
    print(f"other errors: {len(other_errors)}")
    print(f"duplicates:   {duplicates}")
    print(f"lost:         {lost}")
    print(f"rows:         {statuses}")
    ok = rate >= 0.9 * LIMIT and unhandled == 0 and duplicates == 0 and lost == 0 and statuses == {"sent": count}
    print("goal met" if ok else "GOAL MISSED")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="inspectors, one notice each (default 5000)")
    parser.add_argument("--database-url", help="an empty, migrated database (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url
        if url is None:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'fanout.db'}"
            migrate.upgrade(url)
        return 0 if asyncio.run(run(args.count, url)) else 1


if __name__ == "__main__":
    sys.exit(main())
