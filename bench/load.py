"""Result submissions through the real HTTP path: webhook POSTs from many chats at once to
`jointcheck run --webhook` workers, with the Bot API emulator answering the workers.

    .venv/bin/python bench/load.py [--config sqlite1|pg1|pg2|all] [--submissions N] [--chats C]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/14]

Configurations: `sqlite1`, one worker on SQLite (no Redis: a single worker locks chats in process);
`pg1` and `pg2`, one and two workers on PostgreSQL with Redis, sharing one port
(JOINTCHECK_SITE_REUSE_PORT: the kernel spreads the connections).

What happens, per configuration (nothing before the timed part is measured):
- a fresh database (a temporary SQLite file, or the PostgreSQL database jc_bench_load), migrated,
  with bench/_bot_world.py's world: a drawn round, one task per submission, on every task the
  draft results of its first SAMR inspector; the SAMR pool is C inspectors, so up to C chats submit
  at once;
- the emulator in a process of its own, knowing every person's chat, one task view (a bot message)
  in each submitter's chat and every callback query the load will press;
- the workers, as `python -m jointcheck.cli.main run --webhook` processes;
- the load generator (this process, aiohttp): for every task, the callback query of the real
  Submit button (`TaskSubmit(task_id, confirm=True)`) from its inspector, POSTed to the webhook
  with the secret; one chat's updates one after another, as Telegram posts them, all chats at once.
  The first `--warmup` submissions are not timed.

Figures: submissions per second (timed submissions / wall time from the first POST to the last
answer), p50 and p99 of a POST's latency, and the CPU seconds per submission over the timed part,
from /proc: the workers, this database's PostgreSQL backends (pg_stat_activity) and redis-server,
each printed. The postmaster's background processes (WAL writer, checkpointer) are not counted, and
on a machine others share, the PostgreSQL server and Redis may carry other work too. After the run
every task must hold its submitted results and every POST must have been answered 200, or the
figures are refused. Goals: sqlite1 >= 150/s with p99 <= 30 ms; pg2 above pg1's rate with its CPU
per submission at most 20% above pg1's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench import _bot_world as world  # noqa: E402

SECRET = "bench-load-secret"
BOT_ID = 424243
TOKEN = f"{BOT_ID}:bench-load-token-not-valid-anywhere"
LOAD_DATABASE = "jc_bench_load"
TICKS = os.sysconf("SC_CLK_TCK")
GOAL_RATE, GOAL_P99_MS, GOAL_GROWTH = 150, 30, 1.20


# ---- the emulator, in a process of its own ----------------------------------------------------


async def serve_emulator(spec_path: str) -> None:
    """Start the emulator, make it know the chats, the task views and the callback queries the load
    presses; print its URL and the task views' message ids; serve until stdin closes."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession

    from jointcheck.testing.emulator import BotAPIEmulator
    from jointcheck.testing.emulator.state import CallbackQuery

    spec = json.loads(Path(spec_path).read_text())
    async with BotAPIEmulator(token=TOKEN, bot_username="jc_load_bot") as emulator:
        for telegram_id in spec["people"]:
            emulator.user(telegram_id, f"p{telegram_id}", language_code="zh-hans")
        bot = Bot(TOKEN, session=AiohttpSession(api=emulator.api_server))
        views = {}
        for telegram_id in sorted({chat for chat, _, _ in spec["presses"]}):
            views[telegram_id] = (await bot.send_message(telegram_id, "任务")).message_id
        await bot.session.close()
        for chat, query_id, data in spec["presses"]:
            emulator.state.callbacks[query_id] = CallbackQuery(
                query_id=query_id, chat_id=chat, user_id=chat, message_id=views[chat], data=data, time=time.monotonic()
            )
        print(json.dumps({"base_url": emulator.base_url, "views": views}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        answered = [q for q in emulator.state.callbacks.values() if q.answer is not None]
        alerts = sum(1 for q in answered if q.answer.show_alert)
        failed = [c for c in emulator.calls if not c.ok and c.method != "getUpdates"]
        print(json.dumps({"answered": len(answered), "alerts": alerts, "failed_calls": [(c.method, c.description) for c in failed[:5]]}))


# ---- processes and their CPU ------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def redis_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


async def backend_pids(url: str | None) -> list[int]:
    if url is None:
        return []
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        me = await connection.fetchval("SELECT pg_backend_pid()")
        rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row["pid"] for row in rows if row["pid"] != me]
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.lines: list[str] = []

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jointcheck.cli.main",
            "run",
            "--webhook",
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    async def started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any("site on" in line for line in self.lines):
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise SystemExit("a worker did not start:\n" + "".join(self.lines))
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self._reading


# ---- one configuration ------------------------------------------------------------------------


async def fresh_database(config: str, tmp: str, postgres: str) -> str:
    if config == "sqlite1":
        return f"sqlite+aiosqlite:///{tmp}/load.db"
    import asyncpg
    from sqlalchemy.engine import make_url

    server = make_url(postgres).set(drivername="postgresql")
    admin = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {LOAD_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {LOAD_DATABASE}")
    finally:
        await admin.close()
    return server.set(drivername="postgresql+asyncpg", database=LOAD_DATABASE).render_as_string(hide_password=False)


def callback_update(update_id: int, chat: int, view: int, data: str) -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "chat_instance": f"ci{chat}",
            "data": data,
            "from": {"id": chat, "is_bot": False, "first_name": "检查员", "language_code": "zh-hans"},
            "message": {
                "message_id": view,
                "date": int(time.time()),
                "text": "任务",
                "chat": {"id": chat, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "jointcheck"},
            },
        },
    }


async def post_all(url: str, updates: list[dict], chats: int) -> tuple[float, list[float], list[int]]:
    """POST every update, one chat's in order, all chats at once: (wall seconds, latencies in
    seconds, HTTP statuses)."""
    by_chat: dict[int, list[dict]] = defaultdict(list)
    for update in updates:
        by_chat[update["callback_query"]["from"]["id"]].append(update)
    latencies: list[float] = []
    statuses: list[int] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    # As the emulator does, and Telegram: a new connection per POST, so the kernel spreads them
    # over workers sharing the port.
    connector = aiohttp.TCPConnector(force_close=True, limit=chats)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one_chat(queue: list[dict]) -> None:
            for update in queue:
                started = time.perf_counter()
                async with http.post(url, json=update, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status)

        started = time.perf_counter()
        await asyncio.gather(*(one_chat(queue) for queue in by_chat.values()))
        return time.perf_counter() - started, latencies, statuses


async def verify(url: str, tasks: list[int]) -> None:
    from sqlalchemy import func, select

    from jointcheck.core.db import make_engine, make_sessionmaker
    from jointcheck.core.models import AuditEvent, Result

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            submitted = (
                await session.execute(
                    select(func.count(Result.task_id.distinct())).where(Result.status == "submitted", Result.task_id.in_(tasks))
                )
            ).scalar_one()
            events = (await session.execute(select(func.count()).where(AuditEvent.action == "result.submitted"))).scalar_one()
    finally:
        await engine.dispose()
    if (submitted, events) != (len(tasks), len(tasks)):
        raise SystemExit(f"REFUSED: {submitted} tasks submitted and {events} audit events, expected {len(tasks)} of each")


async def run_config(config: str, args: argparse.Namespace) -> dict:
    from jointcheck.bot.callbacks import TaskSubmit
    from jointcheck.core import migrate
    from jointcheck.core.db import make_engine, make_sessionmaker

    workers_n = 2 if config == "pg2" else 1
    with tempfile.TemporaryDirectory(prefix="jc-bench-load-") as tmp:
        url = await fresh_database(config, tmp, args.postgres)
        migrate.upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        pools = {"SAMR": args.chats, "TAX": max(2, args.chats // 4)}
        submissions = await world.build(make_sessionmaker(engine), args.submissions + args.warmup, pools)
        await engine.dispose()
        people = [
            world.SAMR_OFFICER,
            world.TAX_OFFICER,
            world.CONVENER,
            *range(world.FIRST_INSPECTOR, world.FIRST_INSPECTOR + sum(pools.values())),
        ]
        presses = [(s.telegram_id, f"cb{k + 1}", TaskSubmit(task_id=s.task_id, confirm=True).pack()) for k, s in enumerate(submissions)]
        spec = Path(tmp) / "emulator.json"
        spec.write_text(json.dumps({"people": people, "presses": presses}))
        emulator = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--emulator",
            str(spec),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        served = json.loads(await emulator.stdout.readline())
        views = {int(chat): view for chat, view in served["views"].items()}
        print(
            f"\n[{config}] world: {len(submissions)} tasks in {len({s.telegram_id for s in submissions})} chats, built in {time.perf_counter() - started:.1f} s"
        )

        port = free_port()
        env = {
            **os.environ,
            "JOINTCHECK_DATABASE_URL": url,
            "JOINTCHECK_BOT_TOKEN": TOKEN,
            "JOINTCHECK_BOT_API_URL": served["base_url"],
            "JOINTCHECK_SITE_PORT": str(port),
            "JOINTCHECK_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
            "JOINTCHECK_WEBHOOK_SECRET": SECRET,
            "JOINTCHECK_LOG_LEVEL": "WARNING",
        }
        if config != "sqlite1":
            env |= {"JOINTCHECK_REDIS_URL": args.redis, "JOINTCHECK_SITE_REUSE_PORT": "1"}
        else:
            env.pop("JOINTCHECK_REDIS_URL", None)
        workers = [Worker(env) for _ in range(workers_n)]
        try:
            for worker in workers:
                await worker.start()
                await worker.started()
            updates = [callback_update(k + 1, chat, views[chat], data) for k, (chat, _, data) in enumerate(presses)]
            webhook = env["JOINTCHECK_WEBHOOK_URL"]
            await post_all(webhook, updates[: args.warmup], args.chats)

            pg = await backend_pids(url if config != "sqlite1" else None)
            redis = redis_pids() if config != "sqlite1" else []
            groups = {"workers": [w.process.pid for w in workers], "postgresql backends": pg, "redis-server": redis}
            before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}
            wall, latencies, statuses = await post_all(webhook, updates[args.warmup :], args.chats)
            # Backends the pools opened during the timed part spent all their CPU in it.
            pg_after = await backend_pids(url if config != "sqlite1" else None)
            groups["postgresql backends"] = sorted({*pg, *pg_after})
            after = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}
        finally:
            for worker in workers:
                await worker.stop()
            emulator.stdin.close()
            tail = json.loads((await emulator.stdout.read()).decode().strip().splitlines()[-1])
            await emulator.wait()
        if any(status != 200 for status in statuses):
            raise SystemExit(f"REFUSED: answers other than 200: {sorted(set(statuses))}\n" + "".join(workers[0].lines[-20:]))
        await verify(url, [s.task_id for s in submissions])
        if tail["answered"] != len(presses) or tail["alerts"]:
            raise SystemExit(f"REFUSED: the emulator saw {tail}")

    n = len(latencies)
    cpu = {name: (after[name] - before[name]) / n for name in groups}
    ordered = sorted(latencies)
    figures = {
        "rate": n / wall,
        "p50": 1000 * statistics.median(ordered),
        "p99": 1000 * ordered[min(n - 1, int(0.99 * n))],
        "cpu": sum(cpu.values()),
        "cpu_by": cpu,
    }
    print(
        f"[{config}] {n} timed submissions from {args.chats} chats at once: {figures['rate']:.1f}/s, "
        f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms"
    )
    print(
        f"[{config}] CPU per submission {1000 * figures['cpu']:.2f} ms: "
        + ", ".join(f"{name} {1000 * seconds:.2f} ms" for name, seconds in cpu.items() if groups[name])
        + f"; Bot API calls failed: {tail['failed_calls'] or 'none'}"
    )
    return figures


async def main_async(args: argparse.Namespace) -> None:
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    configs = ["sqlite1", "pg1", "pg2"] if args.config == "all" else [args.config]
    results = {config: await run_config(config, args) for config in configs}
    print()
    if "sqlite1" in results:
        r = results["sqlite1"]
        ok = r["rate"] >= GOAL_RATE and r["p99"] <= GOAL_P99_MS
        print(
            f"goal sqlite1 >= {GOAL_RATE}/s and p99 <= {GOAL_P99_MS} ms: {r['rate']:.1f}/s, p99 {r['p99']:.1f} ms  {'met' if ok else 'MISSED'}"
        )
    if "pg1" in results and "pg2" in results:
        one, two = results["pg1"], results["pg2"]
        growth = two["cpu"] / one["cpu"]
        print(f"goal pg2 rate above pg1's: {two['rate']:.1f}/s vs {one['rate']:.1f}/s  {'met' if two['rate'] > one['rate'] else 'MISSED'}")
        print(
            f"goal pg2 CPU per submission <= {GOAL_GROWTH:.2f} x pg1's: {1000 * two['cpu']:.2f} ms vs {1000 * one['cpu']:.2f} ms, "
            f"{growth:.2f} x  {'met' if growth <= GOAL_GROWTH else 'MISSED'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=["sqlite1", "pg1", "pg2", "all"], default="all")
    parser.add_argument("--submissions", type=int, default=1000, help="timed submissions per configuration (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed submissions first (default 50)")
    parser.add_argument("--chats", type=int, default=32, help="SAMR inspectors, so chats submitting at once (default 32)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="the server for pg1 and pg2")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="Redis for pg1 and pg2")
    parser.add_argument("--emulator", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(serve_emulator(args.emulator))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
