"""The draw at directory scale: 10,000,000 targets on SQLite or PostgreSQL, against the peer
pipeline, and draw-v1 against consistent_sampler.

    .venv/bin/python bench/draw.py [--targets N] [--runs R] [--cs-targets M | --no-cs]
        [--database postgresql://user@host:5432/postgres]

The directory is generated once and reused: on SQLite into bench-data/draw-N.db (a migrated
file), on PostgreSQL into the database jc_bench_draw_N of the server that --database names (the
URL's own database is only where the script connects to create and drop the others). Each
measurement that writes works on a fresh copy of it (a file copy; CREATE DATABASE … TEMPLATE), so
every run drafts its round on the same directory. Decisions behind the figures:

- Risk classes A 50% / B 30% / C 15% / D 5% (a realistic credit-risk distribution); round ratios
  A 3%, B 5%, C 20%, D 60% per mille-rounded up, about 880,000 tasks at 10 million targets.
- 2% of the targets are excluded as deregistered (status), so the population is 98% of them.
- Two departments (SAMR leads, TAX confirms), each with a pool of 2,000 law-enforcement
  inspectors, team size 1 per department: two team members per task.
- The round is driven through the real core services (propose, confirm, approve, seed, draw) on a
  database migrated with `jointcheck.core.migrate.upgrade`. Targets are generated with raw sqlite3
  executemany (asyncpg COPY on PostgreSQL) into the migrated schema for speed; generation is not
  measured.

Figures, all measured in the same run:

(a) the population query the freeze runs (`population_conditions` + `RoundRepository.population_lines`),
    every eligible target's `code TAB risk` line collected into memory;
(b) `public_proof.select` (draw-v1) over those lines, as (code, risk) pairs in memory;
(c) jointcheck end to end: approve (freeze: population, pools, conflicts, params) + seed + draw
    (select, assign, selected/assignments files, tasks and team members persisted), each step a
    committed unit of work, as the services run them;
(p) the peer pipeline: what today's systems do, unverifiably, writing the same rows, in one
    transaction on a copy of the directory with the same round proposed: per class
    `INSERT INTO tasks … SELECT … ORDER BY random() LIMIT k` over the same eligible rows with the
    same k (given, not counted), then each department's team members by one
    `INSERT INTO team_members … SELECT`, round-robin over its shuffled pool (row_number() over the
    tasks joined to row_number() over the pool, modulo its size). Plain SQL through the driver.
(e) the standalone verifier, `python -I -S jointcheck/core/public_proof.py BUNDLE`, on the bundle
    that `archive_round` wrote for the round.

Each of (a)+(b), (c) and (p) runs in a child process of its own, and (e) is one too; peak memory is
the child's maximum resident set size (os.wait4), and on PostgreSQL also the largest peak (VmHWM
in /proc) of the database's server backends at the end of (c) and (p): it counts the shared buffers
the backend touched (shared_buffers is the bound of that part). Goals: (c) <= 1.5 x (p) at
10,000,000 targets on both databases; (c) <= 1.5 x ((a)+(b)); peak memory <= 2 GB (3 GB at
20,000,000 on PostgreSQL); (e) <= 60 s.

At 1,000,000 ids, draw-v1's selection is compared with Rivest's `consistent_sampler` (the sampler
behind VotingWorks' Arlo) drawing the same number of ids without replacement. It is installed only
in bench-data/venv-cs (never in the project's environment); if it cannot be installed the script
says so and prints no figure for it. Goal: jointcheck at least 5x faster.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data"
sys.path.insert(0, str(ROOT))

RISKS = (("A", 50), ("B", 30), ("C", 15), ("D", 5))
RATIOS = {"A": 30, "B": 50, "C": 200, "D": 600}
EXCLUDED_PERCENT = 2
POOL = 2_000
DEPARTMENTS = (("SAMR", "市场监管局"), ("TAX", "税务局"))
REGIONS = ("440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114")
SEED = "3141 5926 5358 9793 2384 6264 3383 2795"
TODAY = dt.date(2026, 11, 29)
GOAL_MEMORY_MB = 2048
CS_VENV = DATA / "venv-cs"
# telegram ids of the people the bench acts as
SAMR_OFFICER, TAX_OFFICER, CONVENER = 9001, 9002, 9003


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


class SqliteDirectory:
    """The generated directory as a SQLite file, and fresh copies of it."""

    def __init__(self, n: int) -> None:
        self.base = DATA / f"draw-{n}.db"

    def exists(self) -> bool:
        return self.base.exists()

    def generate(self, n: int) -> None:
        generate(self.base, n)

    def describe(self) -> str:
        return f"{self.base} ({self.base.stat().st_size / 2**30:.2f} GiB)"

    def copy(self, name: str) -> str:
        work = self.base.with_name(f"{self.base.stem}-{name}.db")
        self.drop(url_of(work))
        shutil.copyfile(self.base, work)
        return url_of(work)

    def drop(self, url: str) -> None:
        work = Path(url.split("///", 1)[1])
        for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            leftover.unlink(missing_ok=True)


class PostgresDirectory:
    """The generated directory as a PostgreSQL database, and fresh copies of it (CREATE DATABASE
    … TEMPLATE, a file copy on the server)."""

    def __init__(self, n: int, server_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.server = make_url(server_url).set(drivername="postgresql")
        self.name = f"jc_bench_draw_{n}"

    def url(self, database: str) -> str:
        return self.server.set(drivername="postgresql+asyncpg", database=database).render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> list:
        import asyncpg

        async def run() -> list:
            dsn = self.server.render_as_string(hide_password=False)
            connection = await asyncpg.connect(dsn)
            try:
                rows = []
                for statement in statements:
                    rows = await connection.fetch(statement)
                return rows
            finally:
                await connection.close()

        return asyncio.run(run())

    def exists(self) -> bool:
        return bool(self._admin(f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'"))

    def generate(self, n: int) -> None:
        partial = f"{self.name}_part"
        self._admin(f"DROP DATABASE IF EXISTS {partial}", f"CREATE DATABASE {partial}")
        generate_postgres(self.url(partial), n)
        self._admin(f"ALTER DATABASE {partial} RENAME TO {self.name}")

    def describe(self) -> str:
        ((size,),) = self._admin(f"SELECT pg_database_size('{self.name}')")
        return f"PostgreSQL database {self.name} ({size / 2**30:.2f} GiB)"

    def copy(self, name: str) -> str:
        database = f"{self.name}_{name}"
        self._admin(f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database} TEMPLATE {self.name}")
        return self.url(database)

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self._admin(f"DROP DATABASE IF EXISTS {make_url(url).database}")


# ---- generation (once, not measured) ---------------------------------------------------------


async def _people_and_pools(url: str) -> None:
    from jointcheck.core.authz import Actor
    from jointcheck.core.db import make_engine, make_sessionmaker
    from jointcheck.core.models import CheckItem, Inspector
    from jointcheck.core.services.departments import add_department
    from jointcheck.core.services.invites import issue_invite, redeem_invite
    from jointcheck.core.uow import UnitOfWork

    operator = Actor.operator("cli:bench")
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    async with UnitOfWork(factory) as uow:
        ids = {}
        for code, name in DEPARTMENTS:
            ids[code] = (await add_department(uow, operator, code, name)).id
        uow.session.add_all(
            [
                CheckItem(
                    code="SAMR-001",
                    department_id=ids["SAMR"],
                    name="营业执照与经营范围检查",
                    category="general",
                    ratio_cap=None,
                    method="onsite",
                    object_kind="enterprise",
                ),
                CheckItem(
                    code="TAX-001",
                    department_id=ids["TAX"],
                    name="发票使用检查",
                    category="general",
                    ratio_cap=None,
                    method="documentary",
                    object_kind="enterprise",
                ),
            ]
        )
        for code, _ in DEPARTMENTS:
            uow.session.add_all(
                [
                    Inspector(cert_no=f"{code}-{k:05d}", name=f"{code}检查员{k}", department_id=ids[code], kind="enforcement")
                    for k in range(POOL)
                ]
            )
        await uow.commit()
    people = (
        (SAMR_OFFICER, "officer", {"department": "SAMR"}),
        (TAX_OFFICER, "officer", {"department": "TAX"}),
        (CONVENER, "convener", {"region": "440100"}),
    )
    for telegram_id, role, scope in people:
        async with UnitOfWork(factory) as uow:
            issued = await issue_invite(uow, operator, role, **scope)
            await redeem_invite(uow, issued.code, telegram_id, f"bench-{telegram_id}")
            await uow.commit()
    await engine.dispose()


def _target_rows(start: int, stop: int, rng: random.Random):
    from jointcheck.core.directory_io.generate import synthetic_credit_code

    risks = [r for r, weight in RISKS for _ in range(weight)]
    for i in range(start, stop):
        region = REGIONS[i % len(REGIONS)]
        status = "deregistered" if rng.randrange(100) < EXCLUDED_PERCENT else "active"
        yield (
            synthetic_credit_code(i, region),
            f"鹏程贸易有限公司{i}",
            "enterprise",
            region,
            "F5123",
            risks[rng.randrange(100)],
            "SAMR;TAX",
            "",
            status,
            f"广州市天河路{i % 997}号",
        )


def generate(path: Path, n: int) -> None:
    from jointcheck.core import migrate

    partial = path.with_name(path.name + ".part")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    print(f"generating {n:,} targets into {path} (once; not measured) ...", flush=True)
    started = time.perf_counter()
    migrate.upgrade(url_of(partial))
    asyncio.run(_people_and_pools(url_of(partial)))
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-2000000")
    rng = random.Random(7)
    sql = (
        "INSERT INTO targets (code, name, kind, region, industry, risk, departments, tags, status, address, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)"
    )
    step = 500_000
    for start in range(0, n, step):
        db.execute("BEGIN")
        db.executemany(sql, _target_rows(start, min(n, start + step), rng))
        db.execute("COMMIT")
        print(f"  {min(n, start + step):,} rows, {time.perf_counter() - started:.0f} s", flush=True)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    os.replace(partial, path)
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)


def generate_postgres(url: str, n: int) -> None:
    import asyncpg

    from jointcheck.core import migrate

    print(f"generating {n:,} targets into {url} (once; not measured) ...", flush=True)
    started = time.perf_counter()
    migrate.upgrade(url)
    asyncio.run(_people_and_pools(url))

    async def load() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            rng, step = random.Random(7), 500_000
            now = dt.datetime.now(dt.UTC)
            columns = ("code", "name", "kind", "region", "industry", "risk", "departments", "tags", "status", "address", "updated_at")
            for start in range(0, n, step):
                rows = [(*row, now) for row in _target_rows(start, min(n, start + step), rng)]
                await connection.copy_records_to_table("targets", records=rows, columns=columns)
                print(f"  {min(n, start + step):,} rows, {time.perf_counter() - started:.0f} s", flush=True)
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()

    asyncio.run(load())
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)


# ---- children: each measurement in a process of its own --------------------------------------


async def _actor(uow, telegram_id: int):
    return await uow.users.actor_for(await uow.users.by_telegram_id(telegram_id))


def _factory(url: str):
    from jointcheck.core.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    return engine, make_sessionmaker(engine)


async def _step(factory, fn, *args):
    from jointcheck.core.uow import UnitOfWork

    async with UnitOfWork(factory) as uow:
        actor = await _actor(uow, args[0])
        result = await fn(uow, actor, *args[1:])
        await uow.commit()
        return result


async def child_propose(url: str) -> dict:
    """Propose and confirm the round (not measured); its id is what the other children use."""
    from jointcheck.core.services.rounds import Proposal, propose_round, respond_to_round

    engine, factory = _factory(url)
    proposal = Proposal(
        lead="SAMR",
        title="2026年双随机联合抽查（基准）",
        region="440100",
        items=("SAMR-001",),
        invited={"TAX": 1},
        ratios=dict(RATIOS),
        lead_team_size=1,
        due_date=dt.date(2026, 12, 31),
    )
    round_ = await _step(factory, propose_round, SAMR_OFFICER, proposal)
    await _step(factory, respond_to_round, TAX_OFFICER, round_.id, "TAX", True, ("TAX-001",))
    await engine.dispose()
    return {"round": round_.id}


async def child_ab(url: str, round_id: int) -> dict:
    from jointcheck.core import public_proof as proof
    from jointcheck.core.services.freeze import population_conditions
    from jointcheck.core.uow import UnitOfWork

    engine, factory = _factory(url)
    async with UnitOfWork(factory) as uow:
        round_ = await uow.rounds.get(round_id)
        started = time.perf_counter()
        lines: list[str] = []
        async for batch in uow.rounds.population_lines(population_conditions(round_, TODAY), False):
            lines.extend(batch)
        a = time.perf_counter() - started
    await engine.dispose()
    # Converted from the end, so that each line is freed as its pair is made: both lists at once
    # would double this child's peak.
    rows = [tuple(lines.pop()[:-1].split("\t")) for _ in range(len(lines))]
    rows.reverse()
    counts: dict[str, int] = {}
    for _, risk in rows:
        counts[risk] = counts.get(risk, 0) + 1
    ks = {risk: proof.k_for(n, RATIOS[risk]) for risk, n in counts.items()}
    key = proof.draw_key(b"{}", proof.make_seed_material(SEED, "0" * 64))
    started = time.perf_counter()
    selected = proof.select(key, rows, ks)
    b = time.perf_counter() - started
    return {"a": a, "b": b, "population": len(rows), "selected": len(selected)}


async def child_c(url: str, round_id: int, bundle: str) -> dict:
    from sqlalchemy import func, select

    from jointcheck.core.models import TeamMember
    from jointcheck.core.services.archive import archive_round
    from jointcheck.core.services.draw import run_draw
    from jointcheck.core.services.rounds import approve_round, enter_seed
    from jointcheck.core.uow import UnitOfWork

    engine, factory = _factory(url)
    t0 = time.perf_counter()
    approval = await _step(factory, approve_round, CONVENER, round_id, TODAY)
    t1 = time.perf_counter()
    await _step(factory, enter_seed, CONVENER, round_id, SEED)
    t2 = time.perf_counter()
    drawn = await _step(factory, run_draw, CONVENER, round_id)
    t3 = time.perf_counter()
    async with UnitOfWork(factory) as uow:
        tasks = await uow.rounds.task_count(round_id)
        members = (await uow.session.execute(select(func.count()).select_from(TeamMember))).scalar_one()
        await archive_round(uow, await _actor(uow, CONVENER), round_id, bundle)
        await uow.commit()
        backend = await backend_peak_mib(uow)
    await engine.dispose()
    return {
        "c": t3 - t0,
        "approve": t1 - t0,
        "seed": t2 - t1,
        "draw": t3 - t2,
        "population": approval.population,
        "strata": approval.strata,
        "selected": drawn.selected,
        "assignments": drawn.assignments,
        "unstaffed": len(drawn.unstaffed),
        "tasks": tasks,
        "team_members": members,
        "backend_mib": backend,
    }


async def backend_peak_mib(connection_or_uow) -> int | None:
    """On PostgreSQL, the largest VmHWM (MiB) among this database's server backends, read from /proc
    (the server runs on this host); None on SQLite or when /proc cannot be read."""
    from sqlalchemy import text

    session = getattr(connection_or_uow, "session", None)
    if session is not None:
        if session.bind.dialect.name != "postgresql":
            return None
        pids = [pid for (pid,) in await session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]
    else:
        pids = [row[0] for row in await connection_or_uow.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")]
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) // 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks, default=None)


def peer_statements(round_id: int, where: str, strata: dict, pools: dict[int, int], due: str) -> list[str]:
    """The peer pipeline's SQL: tasks per class by ORDER BY random() LIMIT k, then each department's
    team members round-robin over its shuffled pool; values inlined (all are the bench's own)."""
    statements, offset = [], 0
    for risk, entry in sorted(strata.items()):
        statements.append(
            "INSERT INTO tasks (round_id, target_id, stratum, ticket, visit_order, source, status, due_date) "
            f"SELECT {round_id}, id, risk, '', {offset} + row_number() OVER (), 'draw', 'assigned', {due} "
            f"FROM (SELECT id, risk FROM targets WHERE {where} AND risk = '{risk}' ORDER BY random() LIMIT {entry['k']}) AS picked"
        )
        offset += entry["k"]
    for department_id, size in sorted(pools.items()):
        # The shuffled pool numbered in a table keyed by that number, so that each task finds its
        # member by the key (a nested loop over two subqueries would be tasks x pool).
        pool = f"peer_pool_{department_id}"
        statements += [
            f"CREATE TEMP TABLE {pool} (n INTEGER PRIMARY KEY, inspector_id INTEGER NOT NULL)",
            f"INSERT INTO {pool} (n, inspector_id) SELECT row_number() OVER (ORDER BY random()) - 1, id FROM inspectors "
            f"WHERE department_id = {department_id} AND status = 'active' AND kind = 'enforcement'",
            "INSERT INTO team_members (task_id, inspector_id, department_id, position, source, reason) "
            f"SELECT t.id, p.inspector_id, {department_id}, 0, 'draw', '' "
            f"FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM tasks WHERE round_id = {round_id}) AS t "
            f"JOIN {pool} AS p ON p.n = t.n % {size}",
            f"DROP TABLE {pool}",
        ]
    return statements


async def child_peer(url: str, round_id: int, strata: dict) -> dict:
    """The peer pipeline (p), in one transaction, through the driver; its time, and the rows it wrote."""
    from sqlalchemy import and_, func, select

    from jointcheck.core.models import Inspector, RoundParticipant
    from jointcheck.core.services.freeze import population_conditions
    from jointcheck.core.uow import UnitOfWork

    engine, factory = _factory(url)
    dialect = engine.dialect
    async with UnitOfWork(factory) as uow:
        round_ = await uow.rounds.get(round_id)
        conditions = population_conditions(round_, TODAY)
        query = (
            select(RoundParticipant.department_id, func.count(Inspector.id))
            .join(Inspector, Inspector.department_id == RoundParticipant.department_id)
            .where(RoundParticipant.round_id == round_id, Inspector.status == "active", Inspector.kind == "enforcement")
            .group_by(RoundParticipant.department_id)
        )
        pools = dict((await uow.session.execute(query)).all())
        due = f"'{round_.due_date.isoformat()}'" if round_.due_date else "NULL"
    await engine.dispose()
    where = str(and_(*conditions).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    statements = peer_statements(round_id, where, strata, pools, due)
    count = (
        f"SELECT (SELECT count(*) FROM tasks WHERE round_id = {round_id}), "
        f"(SELECT count(*) FROM team_members m JOIN tasks t ON t.id = m.task_id WHERE t.round_id = {round_id})"
    )
    timings = []
    if dialect.name == "postgresql":
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            started = time.perf_counter()
            async with connection.transaction():
                for statement in statements:
                    await connection.execute(statement)
                    timings.append(time.perf_counter() - started)
            p = time.perf_counter() - started
            tasks, members = await connection.fetchrow(count)
            backend = await backend_peak_mib(connection)
        finally:
            await connection.close()
    else:
        db = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA cache_size=-131072")  # what core/db.py gives jointcheck's own connections
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for statement in statements:
            db.execute(statement)
            timings.append(time.perf_counter() - started)
        db.execute("COMMIT")
        p = time.perf_counter() - started
        tasks, members = db.execute(count).fetchone()
        db.close()
        backend = None
    tasks_seconds = timings[len(strata) - 1] if strata else 0.0
    return {
        "p": p,
        "tasks_seconds": tasks_seconds,
        "teams_seconds": p - tasks_seconds,
        "tasks": tasks,
        "team_members": members,
        "backend_mib": backend,
    }


def child_cs(n: int, which: str) -> dict:
    """draw-v1 select or consistent_sampler over the same n generated ids, same k."""
    ids = [f"91440106{i * 7919 % 10**9:09d}X" for i in range(n)]
    k = (n * 60 + 999) // 1000  # 6%: about the whole round's share of the directory
    if which == "cs":
        import consistent_sampler

        started = time.perf_counter()
        out = list(consistent_sampler.sampler(ids, seed=SEED, with_replacement=False, take=k, output="id"))
        return {"seconds": time.perf_counter() - started, "k": len(out)}
    from jointcheck.core import public_proof as proof

    key = proof.draw_key(b"{}", proof.make_seed_material(SEED, "0" * 64))
    population = [(i, "A") for i in ids]
    started = time.perf_counter()
    out = proof.select(key, population, {"A": k})
    return {"seconds": time.perf_counter() - started, "k": len(out)}


# ---- the parent ------------------------------------------------------------------------------


def run_measured(cmd: list[str]) -> tuple[str, int, float, int]:
    """(stdout, exit code, wall seconds, peak RSS MiB) of a command, reaped with wait4."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    while block := proc.stdout.read(1 << 16):
        chunks.append(block)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return b"".join(chunks).decode("utf-8", "replace"), proc.returncode, time.perf_counter() - started, usage.ru_maxrss // 1024


def child(args: list[str]) -> tuple[dict, int]:
    """Run a child measurement and reap it with wait4 for its peak RSS."""
    out, code, seconds, rss = run_measured([sys.executable, str(Path(__file__).resolve()), "--child", *args])
    if code != 0:
        raise SystemExit(f"child {args[0]} failed:\n{out}")
    return json.loads(out.strip().splitlines()[-1]), rss


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def one_run(directory, run: int) -> dict:
    bundle = DATA / "draw-bundle"
    shutil.rmtree(bundle, ignore_errors=True)
    url, peer_url = directory.copy("run"), directory.copy("peer")
    try:
        # The directory was generated at some older head, perhaps: each copy is brought to today's.
        for copy in (url, peer_url):
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "upgrade", copy], check=True)
        proposed, _ = child(["propose", url])
        round_id = str(proposed["round"])
        peer_round, _ = child(["propose", peer_url])
        ab, ab_rss = child(["ab", url, round_id])
        c, c_rss = child(["c", url, round_id, str(bundle)])
        directory.drop(url)
        peer, peer_rss = child(["peer", peer_url, str(peer_round["round"]), json.dumps(c["strata"])])
    finally:
        directory.drop(url)
        directory.drop(peer_url)
    out, code, e_seconds, e_rss = run_measured([sys.executable, "-I", "-S", str(ROOT / "jointcheck/core/public_proof.py"), str(bundle)])
    if code != 0 or "bundle OK" not in out:
        raise SystemExit(f"the verifier did not pass the bundle:\n{out}")
    a, b = ab["a"], ab["b"]

    def backend(figures: dict) -> str:
        return f", server backend peak {figures['backend_mib']:,} MiB" if figures.get("backend_mib") else ""

    print(
        f"\nrun {run}: population {c['population']:,}, selected {c['selected']:,}, tasks {c['tasks']:,}, "
        f"team members {c['team_members']:,}, unstaffed {c['unstaffed']}"
    )
    print(f"  strata {json.dumps(c['strata'], sort_keys=True)}")
    print(f"  (a) read eligible ids+classes  {a:8.2f} s   peak {ab_rss:,} MiB (a+b child)")
    print(f"  (b) draw-v1 select in memory   {b:8.2f} s")
    print(
        f"  (c) freeze+draw+assign+persist {c['c']:8.2f} s   peak {c_rss:,} MiB{backend(c)}"
        f"   [approve {c['approve']:.2f} s, seed {c['seed']:.2f} s, draw {c['draw']:.2f} s]"
    )
    print(
        f"  (p) peer pipeline              {peer['p']:8.2f} s   peak {peer_rss:,} MiB{backend(peer)}"
        f"   [tasks {peer['tasks_seconds']:.2f} s, teams {peer['teams_seconds']:.2f} s; "
        f"{peer['tasks']:,} tasks, {peer['team_members']:,} team members]"
    )
    print(f"  (e) standalone verifier        {e_seconds:8.2f} s   peak {e_rss:,} MiB (bundle OK)")
    if (peer["tasks"], peer["team_members"]) != (c["tasks"], c["team_members"]):
        print("  NOTE the peer pipeline wrote a different number of rows than jointcheck")
    ratio = c["c"] / (a + b)
    memory_goal = GOAL_MEMORY_MB if c["population"] < 15_000_000 else 3 * 1024
    peak = max(c_rss, e_rss, c.get("backend_mib") or 0)
    print(f"  goal (c) <= 1.5 x (p):        {c['c'] / peer['p']:.2f} x  {verdict(c['c'] <= 1.5 * peer['p'])}")
    print(f"  goal (c) <= 1.5 x ((a)+(b)):  {ratio:.2f} x  {verdict(ratio <= 1.5)}")
    print(
        f"  goal peak memory <= {memory_goal // 1024} GB:     (c) {c_rss:,} MiB, (e) {e_rss:,} MiB"
        f"{backend(c)}  {verdict(peak <= memory_goal)}"
    )
    print(f"  goal (e) <= 60 s:             {e_seconds:.2f} s  {verdict(e_seconds <= 60)}")
    return {"a": a, "b": b, "c": c["c"], "p": peer["p"], "e": e_seconds}


def consistent_sampler_python() -> str | None:
    """The bench-only venv's python with consistent_sampler, installing it there if needed."""
    python = CS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CS_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import consistent_sampler"], capture_output=True)
    if probe.returncode != 0:
        install = subprocess.run([str(python), "-m", "pip", "install", "-q", "consistent_sampler"], capture_output=True, text=True)
        if install.returncode != 0:
            print("consistent_sampler could NOT be installed into bench-data/venv-cs; no comparison figure:")
            print(textwrap.indent((install.stderr or install.stdout).strip()[-2000:], "  "))
            return None
    return str(python)


def compare_consistent_sampler(n: int) -> None:
    python = consistent_sampler_python()
    if python is None:
        return
    version = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('consistent_sampler'))"], capture_output=True, text=True
    ).stdout.strip()
    ours, ours_rss = child(["cs", str(n), "ours"])
    # The venv python gets the project root on sys.path from this script, for the child plumbing only.
    out, code, _, cs_rss = run_measured([python, str(Path(__file__).resolve()), "--child", "cs", str(n), "cs"])
    if code != 0:
        print(f"consistent_sampler run failed:\n{out}")
        return
    theirs = json.loads(out.strip().splitlines()[-1])
    speedup = theirs["seconds"] / ours["seconds"]
    print(f"\n{n:,} ids, k = {ours['k']:,} without replacement:")
    print(f"  draw-v1 public_proof.select          {ours['seconds']:8.2f} s   peak {ours_rss:,} MiB")
    print(f"  consistent_sampler {version} sampler() {theirs['seconds']:8.2f} s   peak {cs_rss:,} MiB")
    print(f"  goal jointcheck >= 5x faster:        {speedup:.2f} x  {verdict(speedup >= 5)}")


def directory_of(database: str, n: int):
    return SqliteDirectory(n) if database == "sqlite" else PostgresDirectory(n, database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--cs-targets", type=int, default=1_000_000)
    parser.add_argument("--no-cs", action="store_true", help="skip the consistent_sampler comparison")
    parser.add_argument("--no-draw", action="store_true", help="only the consistent_sampler comparison")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (bench-data/draw-N.db), or a PostgreSQL server URL such as postgresql://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        what, rest = args.child[0], args.child[1:]
        if what == "upgrade":
            from jointcheck.core import migrate

            migrate.upgrade(rest[0])
            return
        if what == "generate":
            directory_of(rest[0], int(rest[1])).generate(int(rest[1]))
            return
        if what == "propose":
            result = asyncio.run(child_propose(rest[0]))
        elif what == "ab":
            result = asyncio.run(child_ab(rest[0], int(rest[1])))
        elif what == "c":
            result = asyncio.run(child_c(rest[0], int(rest[1]), rest[2]))
        elif what == "peer":
            result = asyncio.run(child_peer(rest[0], int(rest[1]), json.loads(rest[2])))
        elif what == "cs":
            result = child_cs(int(rest[0]), rest[1])
        else:
            raise SystemExit(f"unknown child {what}")
        print(json.dumps(result))
        return

    DATA.mkdir(exist_ok=True)
    if not args.no_draw:
        directory = directory_of(args.database, args.targets)
        if not directory.exists():
            # In a child, so that this process stays small: a child's peak RSS counts what it
            # inherited from its parent before exec.
            command = [sys.executable, str(Path(__file__).resolve()), "--child", "generate", args.database, str(args.targets)]
            subprocess.run(command, check=True)
        print(f"directory: {directory.describe()}, {args.targets:,} targets")
        for run in range(1, args.runs + 1):
            one_run(directory, run)
    if not args.no_cs:
        compare_consistent_sampler(args.cs_targets)


if __name__ == "__main__":
    main()
