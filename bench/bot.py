"""Result submission through the bot, against a bare aiogram handler (issue 5's performance goal).

    .venv/bin/python bench/bot.py [--updates N] [--rounds R] [--profile]

Both sides are fed prebuilt `Update` objects through `Dispatcher.feed_update`, one at a time, on
SQLite databases in a temporary directory, with the engine settings of `jointcheck.core.db`:

- floor: a Dispatcher with one callback_query handler that inserts one row per update with an
  SQLAlchemy async session and commits (its own small database);
- jointcheck: `create_dispatcher(sessionmaker)` on a migrated database, fed the callback query of
  the real Submit button (`TaskSubmit(task_id=..., confirm=True)`) from the task's inspector. Every
  update submits a different task's results: authorization, the results, an audit event, outbox
  rows for two teammates and the department's officer, and the edited task view.
- refused (not part of the goal; it shows where the time goes): the same dispatcher and database,
  fed presses of a button no handler accepts, from the same inspectors. jointcheck does for them
  only what it does for every update: read the chat's dialogue state and the user's roles from the
  database, route, and answer the callback with a refusal. Nothing is written.
- refused, state in memory: the same presses to a second dispatcher keeping the dialogue state in
  aiogram's MemoryStorage, which the bot must not use (a restart would lose every wizard): what
  reading the state from the database costs.

Neither side touches the network: the bots use `OfflineSession`, which answers every Bot API
method at once with a minimal valid result (the floor calls none). The world (bench/_bot_world.py)
is built first and not measured. The updates are measured in R rounds that rotate which side
goes first, so drift on a shared machine hits every side; the spread of the per-round rates is
printed. After the run the database is checked: every timed update must have submitted its task
(results, one audit event and the outbox rows) and no refused press may have written anything, or
the figure is refused. Goal: jointcheck within 3x of the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.client.session.base import BaseSession  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.fsm.storage.memory import MemoryStorage  # noqa: E402
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod  # noqa: E402
from aiogram.types import CallbackQuery, Chat, Message, Update  # noqa: E402
from sqlalchemy import BigInteger, String, event, func, select  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402

from bench import _bot_world as world  # noqa: E402
from jointcheck.bot.app import create_dispatcher  # noqa: E402
from jointcheck.bot.callbacks import TaskSubmit  # noqa: E402
from jointcheck.core import migrate  # noqa: E402
from jointcheck.core.db import make_engine, make_sessionmaker  # noqa: E402
from jointcheck.core.models import AuditEvent, OutboxMessage, Result  # noqa: E402

GOAL = 3.0
FORGED = "zz:forged"  # no router's CallbackData has this prefix
BOT_ID = 424242
TOKEN = f"{BOT_ID}:bench-offline-token-not-valid-anywhere"
SENT_AT = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)


class OfflineSession(BaseSession):
    """Answers every Bot API method at once, without network, with a minimal valid result; counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.alerts = 0  # callback answers shown as alerts: refusals

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout: int | None = None):
        self.calls[type(method).__name__] += 1
        if getattr(method, "show_alert", None):
            self.alerts += 1
        if isinstance(method, EditMessageText | SendMessage):
            return Message(
                message_id=getattr(method, "message_id", None) or 1,
                date=SENT_AT,
                chat=Chat(id=method.chat_id, type="private"),
                text=method.text,
            )
        if method.__returning__ is bool:
            return True
        raise NotImplementedError(f"OfflineSession has no answer for {type(method).__name__}")

    async def stream_content(self, url, headers=None, timeout=30, chunk_size=65536, raise_for_status=True):
        raise NotImplementedError("the bench downloads nothing")
        yield b""

    async def close(self) -> None:
        """Nothing to close."""


def offline_bot() -> Bot:
    return Bot(TOKEN, session=OfflineSession(), default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def press(bot: Bot, update_id: int, telegram_id: int, data: str) -> Update:
    """A button press on the bot's task view in the inspector's private chat, as polling would parse it."""
    return Update.model_validate(
        {
            "update_id": update_id,
            "callback_query": {
                "id": f"cb{update_id}",
                "chat_instance": f"ci{telegram_id}",
                "data": data,
                "from": {"id": telegram_id, "is_bot": False, "first_name": "检查员", "language_code": "zh-hans"},
                "message": {
                    "message_id": update_id,
                    "date": int(SENT_AT.timestamp()),
                    "text": "第 1 号任务",
                    "chat": {"id": telegram_id, "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "jointcheck"},
                },
            },
        },
        context={"bot": bot},
    )


# ---- the floor -------------------------------------------------------------------------------


class FloorBase(DeclarativeBase):
    pass


class FloorRow(FloorBase):
    __tablename__ = "floor_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(String(64))


def floor_dispatcher(sessionmaker) -> Dispatcher:
    dp = Dispatcher()

    async def insert_one(query: CallbackQuery) -> None:
        async with sessionmaker() as session, session.begin():
            session.add(FloorRow(update_id=int(query.id[2:]), user_id=query.from_user.id, data=query.data))

    dp.callback_query.register(insert_one)
    return dp


# ---- measuring -------------------------------------------------------------------------------


def count_statements(engine) -> Counter:
    counter: Counter = Counter()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        counter["statements"] += 1

    return counter


async def feed(dp: Dispatcher, bot: Bot, updates: list[Update], profiler: cProfile.Profile | None = None) -> tuple[float, float]:
    """Wall time, and CPU time of this thread (the event loop's: aiosqlite's worker thread not included)."""
    if profiler is not None:
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.thread_time()
    for update in updates:
        await dp.feed_update(bot, update)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    if profiler is not None:
        profiler.disable()
    return elapsed, cpu


def chunks(items: list, n: int) -> list[list]:
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for k in range(n):
        stop = start + size + (k < extra)
        out.append(items[start:stop])
        start = stop
    return out


async def verify(jc_sessionmaker, floor_sessionmaker, tasks: list[int], floor_updates: int) -> dict[str, int]:
    """What the database holds for the submitted tasks; the run is refused unless it is all there."""
    async with jc_sessionmaker() as session:

        async def scalar(query):
            return (await session.execute(query)).scalar_one()

        submitted = Result.status == "submitted"
        counts = {
            "results submitted": await scalar(select(func.count()).where(submitted, Result.task_id.in_(tasks))),
            "tasks with results submitted": await scalar(
                select(func.count(Result.task_id.distinct())).where(submitted, Result.task_id.in_(tasks))
            ),
            "result.submitted audit events": await scalar(
                select(func.count()).where(
                    AuditEvent.action == "result.submitted", AuditEvent.entity == "task", AuditEvent.entity_id.in_([str(t) for t in tasks])
                )
            ),
            "outbox results_submitted": await scalar(select(func.count()).where(OutboxMessage.template == "results_submitted")),
            "outbox results_to_review": await scalar(select(func.count()).where(OutboxMessage.template == "results_to_review")),
        }
    async with floor_sessionmaker() as session:
        counts["floor rows"] = (await session.execute(select(func.count()).select_from(FloorRow))).scalar_one()
    expected = {
        "results submitted": len(tasks) * len(world.DRAFTS),
        "tasks with results submitted": len(tasks),
        "result.submitted audit events": len(tasks),
        "outbox results_submitted": 2 * len(tasks),
        "outbox results_to_review": len(tasks),
        "floor rows": floor_updates,
    }
    wrong = {k: (counts[k], v) for k, v in expected.items() if counts[k] != v}
    if wrong:
        raise SystemExit(f"REFUSED: the database does not hold every submission (found, expected): {wrong}")
    return counts


async def written_rows(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session:
        return {
            "audit events": (await session.execute(select(func.count()).select_from(AuditEvent))).scalar_one(),
            "outbox rows": (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one(),
        }


async def run(args: argparse.Namespace) -> None:
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"N = {args.updates} timed updates per side in {args.rounds} rounds, {args.warmup} warm-up updates each first")
    with tempfile.TemporaryDirectory(prefix="jc-bench-bot-") as tmp:
        jc_url, floor_url = f"sqlite+aiosqlite:///{tmp}/jointcheck.db", f"sqlite+aiosqlite:///{tmp}/floor.db"
        migrate.upgrade(jc_url)
        jc_engine, floor_engine = make_engine(jc_url), make_engine(floor_url)
        async with floor_engine.begin() as conn:
            await conn.run_sync(FloorBase.metadata.create_all)
        jc_sessionmaker, floor_sessionmaker = make_sessionmaker(jc_engine), make_sessionmaker(floor_engine)

        started = time.perf_counter()
        submissions = await world.build(jc_sessionmaker, args.updates + args.warmup)
        print(f"world: {len(submissions)} tasks with drafts, built in {time.perf_counter() - started:.1f} s (not measured)")

        jc_bot, floor_bot, refused_bot, memory_bot = offline_bot(), offline_bot(), offline_bot(), offline_bot()
        memory_dp = create_dispatcher(jc_sessionmaker, storage=MemoryStorage())
        jc_dp, floor_dp = create_dispatcher(jc_sessionmaker), floor_dispatcher(floor_sessionmaker)
        jc_updates = [
            press(jc_bot, k + 1, s.telegram_id, TaskSubmit(task_id=s.task_id, confirm=True).pack()) for k, s in enumerate(submissions)
        ]
        floor_updates = [
            press(floor_bot, k + 1, s.telegram_id, TaskSubmit(task_id=s.task_id, confirm=True).pack()) for k, s in enumerate(submissions)
        ]
        # Update ids are the bot's, unique: the sides on jointcheck's database record them
        # (received_updates) and would skip one they had handled already.
        refused_updates = [press(refused_bot, 10**6 + k + 1, s.telegram_id, FORGED) for k, s in enumerate(submissions)]
        memory_updates = [press(memory_bot, 2 * 10**6 + k + 1, s.telegram_id, FORGED) for k, s in enumerate(submissions)]
        floor_statements, jc_statements = count_statements(floor_engine), count_statements(jc_engine)
        sides = {  # name: (dispatcher, bot, updates, statement counter of its engine)
            "floor": (floor_dp, floor_bot, floor_updates, floor_statements),
            "jointcheck": (jc_dp, jc_bot, jc_updates, jc_statements),
            "refused": (jc_dp, refused_bot, refused_updates, jc_statements),
            "refused, state in memory": (memory_dp, memory_bot, memory_updates, jc_statements),
        }
        for dp, bot, updates, _ in sides.values():
            await feed(dp, bot, updates[: args.warmup])

        rows_before = await written_rows(jc_sessionmaker)

        # CPU time of this thread: wall time would charge the waits for aiosqlite's worker thread to
        # whichever coroutine happened to be suspended.
        profiler = cProfile.Profile(time.thread_time) if args.profile else None
        rounds_of = {side: chunks(updates[args.warmup :], args.rounds) for side, (_, _, updates, _) in sides.items()}
        rates: dict[str, list[float]] = {side: [] for side in sides}
        totals = dict.fromkeys(sides, 0.0)
        statements = Counter()
        cpu_per_update: dict[str, list[float]] = {side: [] for side in sides}
        order = list(sides)
        for r in range(args.rounds):
            for side in order[r % len(order) :] + order[: r % len(order)]:
                dp, bot, _, counted = sides[side]
                part = rounds_of[side][r]
                before = counted["statements"]
                elapsed, cpu = await feed(dp, bot, part, profiler if side == "jointcheck" else None)
                statements[side] += counted["statements"] - before
                rates[side].append(len(part) / elapsed)
                cpu_per_update[side].append(1000 * cpu / len(part))
                totals[side] += elapsed

        counts = await verify(jc_sessionmaker, floor_sessionmaker, [s.task_id for s in submissions], len(floor_updates))
        timed = len(jc_updates) - args.warmup
        written = {k: v - rows_before[k] for k, v in (await written_rows(jc_sessionmaker)).items()}
        if written != {"audit events": timed, "outbox rows": 3 * timed}:
            raise SystemExit(
                f"REFUSED: the timed updates wrote {written}, expected one audit event and three "
                f"outbox rows per submission ({timed}) and nothing for a refused press"
            )
        calls = jc_bot.session.calls
        if calls["EditMessageText"] != len(jc_updates) or calls["AnswerCallbackQuery"] != len(jc_updates) or jc_bot.session.alerts:
            raise SystemExit(f"REFUSED: unexpected Bot API calls {dict(calls)}, {jc_bot.session.alerts} alerts")
        for refusing in (refused_bot, memory_bot):
            if dict(refusing.session.calls) != {"AnswerCallbackQuery": len(refused_updates)}:
                raise SystemExit(f"REFUSED: the refused presses made {dict(refusing.session.calls)}")
        await jc_engine.dispose()
        await floor_engine.dispose()

    n = args.updates
    rate_of = {side: n / total for side, total in totals.items()}
    floor_rate, jc_rate, refused_rate = rate_of["floor"], rate_of["jointcheck"], rate_of["refused"]
    ratio = floor_rate / jc_rate
    per_round = sorted(f / j for f, j in zip(rates["floor"], rates["jointcheck"]))
    print("checked after the run (warm-up included): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(
        f"Bot API (offline, answered without network): jointcheck {dict(sorted(calls.items()))}, "
        f"{jc_bot.session.alerts} refusals; floor {dict(floor_bot.session.calls) or 'none'}"
    )
    print("SQL statements per update: " + ", ".join(f"{side} {count / n:.1f}" for side, count in statements.items()))
    for side, rate in rate_of.items():
        spread = rates[side]
        print(
            f"{side:>24}: {rate:7.1f} updates/s  {1000 / rate:6.2f} ms/update  (rounds: min {min(spread):.1f}, "
            f"median {statistics.median(spread):.1f}, max {max(spread):.1f}); event loop's CPU per update: "
            f"least {min(cpu_per_update[side]):.2f} ms, median {statistics.median(cpu_per_update[side]):.2f} ms"
        )
    print(
        f"{'refused':>24}: {floor_rate / refused_rate:.2f}x the floor: what every update costs jointcheck before a handler's "
        f"own work ({100 * totals['refused'] / totals['jointcheck']:.0f}% of a submission's time); "
        f"{floor_rate / rate_of['refused, state in memory']:.2f}x with the state in memory"
    )
    print(
        f"{'ratio':>24}: {ratio:.2f}x floor/jointcheck  (per round: min {per_round[0]:.2f}, median {statistics.median(per_round):.2f}, "
        f"max {per_round[-1]:.2f})  goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'NOT met'}"
    )
    if profiler is not None:
        print("(--profile: jointcheck's figures include cProfile's overhead; the profile is this thread's CPU time)")
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_TOP", "40")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1000, help="timed updates per side (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds the updates are split into (default 5)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed updates per side first (default 20)")
    parser.add_argument("--profile", action="store_true", help="cProfile jointcheck's timed updates (CPU time) and print the top functions")
    args = parser.parse_args()
    if args.updates < args.rounds or args.rounds < 1 or args.warmup < 0:
        parser.error("need --rounds >= 1, --updates >= --rounds and --warmup >= 0")
    # A refused press is logged as a warning; the bench measures the work, not the console.
    logging.getLogger("jointcheck.bot").setLevel(logging.ERROR)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
