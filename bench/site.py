"""The public site under a province's published results (issue 14's performance goal).

    .venv/bin/python bench/site.py [--rows N] [--requests N] [--postgres URL | --no-postgres] [--no-sqlite]

N published results (1,000,000 by default) are written straight into `public_results` of a
migrated database (SQLite in a temporary folder, and PostgreSQL at --postgres when reachable;
not measured), each a different target with a synthetic credit code and a Chinese company name.

The site runs as its own process (`jointcheck site`, the real console script), so its memory is
measured apart from this client. Measured, per backend:

- the results page searched by credit code, and by name prefix (a city and one character, matching some
  thousands of names): p50 and p95 of the whole GET, over --requests random searches each;
- the same searches' SQL alone: the repository call the page makes (PublicRepository.search,
  one page of 51 rows), in this process, p50 and p95;
- results.csv of every row: rows/s of the whole download, and the site process's peak resident
  memory (sampled every 20 ms) while it streams.

Goals: page p95 within 2x its query's p95 and under 50 ms; the feed at >= 100,000 rows/s with the
server under 200 MB. The machine is shared: repeat and take the figures as indications.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from jointcheck.core import migrate  # noqa: E402
from jointcheck.core.db import make_engine, make_sessionmaker  # noqa: E402
from jointcheck.core.directory_io.generate import synthetic_credit_code  # noqa: E402
from jointcheck.core.models import CheckItem, Department, Round  # noqa: E402
from jointcheck.core.public_record import STORED_FIELDS, serialize  # noqa: E402
from jointcheck.core.repositories.public import PublicRepository, ResultFilter  # noqa: E402

CITIES = ("广州市", "深圳市", "佛山市", "东莞市", "珠海市", "中山市", "惠州市", "江门市", "肇庆市", "汕头市")
WORDS = "华金海信达通利安德嘉恒兴盛鑫源泰昌明宏瑞丰祥博创新联合远大正中天"
SUFFIXES = ("有限公司", "贸易商行", "食品店", "餐饮有限公司", "科技有限公司")
REGIONS = ("440103", "440104", "440105", "440106", "440111", "440112")
CATEGORIES = ("1", "1", "1", "1", "A", "E", "F", "6")
BATCH = 20_000


def name_of(i: int, rng: random.Random) -> str:
    return CITIES[i % len(CITIES)] + "".join(rng.choice(WORDS) for _ in range(3)) + SUFFIXES[i % len(SUFFIXES)]


def rows(n: int, round_id: int, department_id: int, item_id: int):
    rng = random.Random(14)
    published = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    for i in range(n):
        yield {
            "result_id": 1,
            "round_id": round_id,
            "task_id": i + 1,
            "department_id": department_id,
            "item_id": item_id,
            "item_code": "BENCH-001",
            "target_code": synthetic_credit_code(i, REGIONS[i % len(REGIONS)]),
            "target_name": name_of(i, rng),
            "target_kind": "enterprise",
            "region": REGIONS[i % len(REGIONS)],
            "category": CATEGORIES[i % len(CATEGORIES)],
            "follow_up": "none",
            "note": "",
            "inspected_on": dt.date(2026, 11, 20),
            "due_by": dt.date(2026, 12, 18),
            "published_at": published + dt.timedelta(seconds=i % 86_400),
            "on_time": True,
            "correction_reason": "",
        }


def with_serialization(row: dict) -> dict:
    values = {name: row.get(name) for name in STORED_FIELDS}
    values |= {"department_code": "SAMR", "department_name": "市场监管局", "item_name": "食品经营许可检查", "supersedes": None}
    row["csv_cells"], row["json_members"] = serialize(values)
    return row


async def fill(url: str, n: int) -> list[str]:
    """The published results; returns their codes (for the searches)."""
    from jointcheck.core.models import PublicResult, Result, Target, Task

    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    codes = []
    try:
        async with sessionmaker() as session:
            department = Department(code="SAMR", name="市场监管局")
            session.add(department)
            await session.flush()
            item = CheckItem(code="BENCH-001", department_id=department.id, name="食品经营许可检查", category="general", ratio_cap=100)
            round_ = Round(
                lead_department_id=department.id, title="基准轮次", region="440100", status="drawn", approved_at=dt.datetime.now(dt.UTC)
            )
            session.add_all([item, round_])
            await session.flush()
            # one real result for the foreign key of every record (the records' own columns are what is read)
            target = Target(code="BENCH-T", name="基准对象", kind="enterprise", region="440106", risk="A")
            session.add(target)
            await session.flush()
            task = Task(round_id=round_.id, target_id=target.id, stratum="A", ticket="0", visit_order=0)
            session.add(task)
            await session.flush()
            result = Result(task_id=task.id, item_id=item.id, category="1", status="published")
            session.add(result)
            await session.flush()
            batch = []
            for row in rows(n, round_.id, department.id, item.id):
                row["result_id"] = result.id
                batch.append(with_serialization(row))
                codes.append(row["target_code"])
                if len(batch) == BATCH:
                    await session.execute(insert(PublicResult), batch)
                    batch = []
            if batch:
                await session.execute(insert(PublicResult), batch)
            await session.commit()
        if url.startswith("postgresql"):
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE public_results")
        else:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return codes


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`jointcheck site` as a child process, and its resident memory sampled every 20 ms."""

    def __init__(self, url: str):
        self.port = free_port()
        env = dict(os.environ, JOINTCHECK_DATABASE_URL=url, JOINTCHECK_SITE_PORT=str(self.port), JOINTCHECK_SITE_HOST="127.0.0.1")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/jointcheck"), "site"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.proc.stdout.readline()  # "site on http://..."
        self.peak = 0
        self._sampling = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except FileNotFoundError:
            return 0

    def _sample(self) -> None:
        while self.proc.poll() is None:
            if self._sampling.is_set():
                self.peak = max(self.peak, self._rss())
            time.sleep(0.02)

    def measure_memory(self) -> None:
        self.peak = self._rss()
        self._sampling.set()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def page_latencies(base: str, queries: list[str]) -> list[float]:
    out = []
    async with aiohttp.ClientSession(base) as client:
        for _ in range(5):  # warm the connection and the server
            async with client.get("/results", params={"q": queries[0]}) as r:
                await r.read()
        for q in queries:
            started = time.perf_counter()
            async with client.get("/results", params={"q": q}) as response:
                body = await response.read()
            out.append(time.perf_counter() - started)
            assert response.status == 200 and len(body) > 1000, (q, response.status)
    return out


async def query_latencies(url: str, filters: list[ResultFilter]) -> list[float]:
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    out = []
    try:
        async with sessionmaker() as session:
            repository = PublicRepository(session)
            for f in filters[:5]:
                await repository.search(f, None, 51)
            for f in filters:
                started = time.perf_counter()
                found = await repository.search(f, None, 51)
                out.append(time.perf_counter() - started)
                assert found, f
    finally:
        await engine.dispose()
    return out


async def feed(base: str) -> tuple[int, float, int]:
    """(rows, seconds, bytes) of results.csv."""
    lines, size = 0, 0
    started = time.perf_counter()
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=3600)) as client:
        async with client.get("/results.csv") as response:
            async for chunk in response.content.iter_chunked(1 << 16):
                lines += chunk.count(b"\n")
                size += len(chunk)
    return lines - 1, time.perf_counter() - started, size


def bench(name: str, url: str, n: int, requests: int) -> None:
    print(f"\n== {name}: {n:,} published results", flush=True)
    migrate.upgrade(url)
    started = time.perf_counter()
    codes = asyncio.run(fill(url, n))
    print(f"filled in {time.perf_counter() - started:.1f}s (not measured)", flush=True)
    rng = random.Random(7)
    by_code = [rng.choice(codes) for _ in range(requests)]
    prefixes = [CITIES[rng.randrange(len(CITIES))] + rng.choice(WORDS) for _ in range(requests)]
    server = Server(url)
    try:
        base = f"http://127.0.0.1:{server.port}"
        for label, queries, filters in (
            ("credit code", by_code, [ResultFilter(code=q) for q in by_code]),
            ("name prefix", prefixes, [ResultFilter(name=q) for q in prefixes]),
        ):
            page = asyncio.run(page_latencies(base, queries))
            sql = asyncio.run(query_latencies(url, filters))
            p95_page, p95_sql = percentile(page, 95) * 1000, percentile(sql, 95) * 1000
            verdict = "ok" if p95_page <= 50 and p95_page <= 2 * p95_sql else "MISSED"
            print(
                f"search by {label:11}: page p50 {percentile(page, 50) * 1000:6.2f} ms p95 {p95_page:6.2f} ms | "
                f"query alone p50 {percentile(sql, 50) * 1000:6.2f} ms p95 {p95_sql:6.2f} ms | "
                f"page/query p95 {p95_page / p95_sql:4.1f}x | goal <= 2x and < 50 ms: {verdict}",
                flush=True,
            )
        server.measure_memory()
        lines, seconds, size = asyncio.run(feed(base))
        rate = lines / seconds
        peak = server.peak / 2**20
        verdict = "ok" if rate >= 100_000 and peak < 200 and lines == n else "MISSED"
        print(
            f"results.csv: {lines:,} rows, {size / 2**20:.0f} MiB in {seconds:.1f}s = {rate:,.0f} rows/s; "
            f"server peak RSS {peak:.0f} MiB | goal >= 100,000 rows/s, < 200 MB: {verdict}",
            flush=True,
        )
    finally:
        server.stop()


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(user=u.username, password=u.password, host=u.host, port=u.port or 5432, database=u.database, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        if not args.no_sqlite:
            bench("SQLite", f"sqlite+aiosqlite:///{folder / 'site.db'}", args.rows, args.requests)
        if not args.no_postgres:
            name = f"bench_site_{uuid.uuid4().hex[:8]}"
            try:
                asyncio.run(_pg_admin(args.postgres, f'CREATE DATABASE "{name}"'))
            except Exception as exc:  # not reachable: say so and go on
                print(f"\nPostgreSQL skipped: {type(exc).__name__}: {exc}")
            else:
                try:
                    bench(
                        "PostgreSQL",
                        make_url(args.postgres).set(database=name).render_as_string(hide_password=False),
                        args.rows,
                        args.requests,
                    )
                finally:
                    asyncio.run(_pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\none run on a shared machine of {os.cpu_count()} cores: the figures are indications", file=sys.stderr)


if __name__ == "__main__":
    main()
