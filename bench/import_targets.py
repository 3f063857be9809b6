"""Import 1,000,000 generated targets and compare with the databases' own bulk loaders.

    .venv/bin/python bench/import_targets.py [--rows N] [--rounds N] [--postgres URL | --no-postgres] [--xlsx]

Each round times the floor and then jointcheck; the summary line gives the median ratio.
Floor on SQLite: the sqlite3 shell's `.import` of the same CSV into a plain table; on PostgreSQL:
`\\copy` of the same file into a plain table. jointcheck runs as its real console script, so the
figures include start-up, validation, the upsert and the audit event. Peak memory is that of the
import process and its validating worker together.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jointcheck.core import migrate  # noqa: E402
from jointcheck.core.directory_io.generate import iter_synthetic_targets  # noqa: E402
from jointcheck.core.directory_io.writers import write_csv, write_xlsx  # noqa: E402

DEPARTMENTS = ("SAMR", "TAX", "EPB")
COLUMNS = "code, name, kind, region, industry, risk, departments, tags, status, address"


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants now (0 once it is gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    pending += map(int, fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def timed(cmd: list[str], env: dict | None = None, stdin: str | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one child process, its worker processes included: the
    larger of the biggest single process and the sum of the tree sampled every 20 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if stdin:
        proc.stdin.write(stdin)
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed: {err or out}")
    return seconds, max(usage.ru_maxrss // 1024, peak >> 20)


def make_csv(path: Path, rows: int) -> None:
    if path.exists():
        return
    print(f"generating {rows:,} targets into {path} ...", flush=True)
    write_csv(path, "targets", iter_synthetic_targets(rows, seed=7, departments=DEPARTMENTS))


def make_xlsx(path: Path, rows: int) -> None:
    """The same rows as an XLSX (openpyxl writes about 2,000 rows/s: a million take ten minutes)."""
    if path.exists():
        return
    print(f"generating {rows:,} targets into {path} ...", flush=True)
    write_xlsx(path, "targets", itertools.islice(iter_synthetic_targets(rows, seed=7, departments=DEPARTMENTS), rows))


def xlsx_round(work: Path, csv_path: Path, xlsx_path: Path) -> tuple[float, float, int, int]:
    """The same rows imported from CSV and from XLSX into fresh SQLite databases."""
    times = []
    for name, path in (("csv", csv_path), ("xlsx", xlsx_path)):
        db = work / f"jointcheck-{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        times.append(jointcheck(f"sqlite+aiosqlite:///{db}", path))
    return times[0][0], times[1][0], times[0][1], times[1][1]


def jointcheck(url: str, csv_path: Path) -> tuple[float, int]:
    env = {**os.environ, "JOINTCHECK_DATABASE_URL": url}
    exe = str(Path(sys.executable).with_name("jointcheck"))
    migrate.upgrade(url)
    for code in DEPARTMENTS:
        subprocess.run([exe, "admin", "department", "add", code, code], env=env, check=True, capture_output=True)
    return timed([exe, "import", "targets", str(csv_path)], env)


def sqlite_floor(db: Path, csv_path: Path) -> float:
    db.unlink(missing_ok=True)
    script = f"CREATE TABLE plain ({COLUMNS});\n.mode csv\n.import --skip 1 {csv_path} plain\n"
    return timed(["sqlite3", str(db)], stdin=script)[0]


async def _pg(url: str, sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(user=u.username, password=u.password, host=u.host, port=u.port or 5432, database=u.database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# The same rows loaded by the database's own tools into jointcheck's real `targets` table, the way
# jointcheck loads an empty directory (the unique index on code built once, after the rows): how
# much of the gap to the floor is the table (a primary key, a unique code, defaults), not jointcheck.
_COPY_INTO_TARGETS = """BEGIN;
DROP INDEX uq_targets_code;
\\copy targets ({cols}) FROM '{csv}' WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL ({cols}))
CREATE UNIQUE INDEX uq_targets_code ON targets (code);
COMMIT;
"""
_IMPORT_INTO_TARGETS = """CREATE TEMP TABLE plain ({cols});
.mode csv
.import --skip 1 --schema temp {csv} plain
BEGIN;
DROP INDEX uq_targets_code;
INSERT INTO targets ({cols}, updated_at) SELECT {cols}, CURRENT_TIMESTAMP FROM temp.plain;
CREATE UNIQUE INDEX uq_targets_code ON targets (code);
COMMIT;
"""


def postgres_round(url: str, csv_path: Path) -> tuple[float, float, float, int]:
    from sqlalchemy.engine import make_url

    names = [f"jc_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        asyncio.run(_pg(url, f'CREATE DATABASE "{name}"'))
    try:
        ours_url, schema_url = (make_url(url).set(database=n).render_as_string(hide_password=False) for n in names)
        u = make_url(ours_url)

        def psql(name: str) -> list[str]:
            return ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.host, "-p", str(u.port or 5432), "-U", u.username, "-d", name]

        floor = timed(
            psql(names[0]),
            stdin=f"CREATE TABLE plain ({', '.join(c + ' text' for c in COLUMNS.split(', '))});\n"
            f"\\copy plain FROM '{csv_path}' WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')\n",
        )[0]
        ours, peak = jointcheck(ours_url, csv_path)
        migrate.upgrade(schema_url)
        schema = timed(psql(names[1]), stdin=_COPY_INTO_TARGETS.format(cols=COLUMNS, csv=csv_path))[0]
        return floor, ours, schema, peak
    finally:
        for name in names:
            asyncio.run(_pg(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_round(work: Path, csv_path: Path) -> tuple[float, float, float, int]:
    floor = sqlite_floor(work / "floor.db", csv_path)
    dbs = work / "jointcheck-bench.db", work / "schema-floor.db"
    for db in dbs:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    ours, peak = jointcheck(f"sqlite+aiosqlite:///{dbs[0]}", csv_path)
    migrate.upgrade(f"sqlite+aiosqlite:///{dbs[1]}")
    schema = timed(["sqlite3", str(dbs[1])], stdin=_IMPORT_INTO_TARGETS.format(cols=COLUMNS, csv=csv_path))[0]
    return floor, ours, schema, peak


def report(label: str, floor_name: str, rounds: list[tuple[float, float, float, int]], rows: int) -> None:
    """Each round's floor and import back to back, then the median ratio: on a shared machine a
    single round can be off by half either way."""
    for i, (floor, ours, schema, peak) in enumerate(rounds, 1):
        print(
            f"  {label} round {i}: {floor_name} {floor:.2f}s   jointcheck {ours:.2f}s   ratio {ours / floor:.2f}x   "
            f"peak {peak} MiB   ({floor_name} into jointcheck's targets table {schema:.2f}s, {schema / floor:.2f}x)"
        )
    ratios = sorted(ours / floor for floor, ours, _, _ in rounds)
    floor = statistics.median(r[0] for r in rounds)
    ours = statistics.median(r[1] for r in rounds)
    schema = statistics.median(r[2] / r[0] for r in rounds)
    print(
        f"{label}: {floor_name} {floor:.2f}s   jointcheck import {ours:.2f}s (medians)   ratio {statistics.median(ratios):.2f}x "
        f"median, {ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(rounds)} rounds   "
        f"peak {max(r[3] for r in rounds)} MiB (goal < 500)   {rows / ours:,.0f} rows/s\n"
        f"{' ' * len(label)}  the database's own loader into jointcheck's targets table: {schema:.2f}x the floor (median); "
        f"jointcheck {ours / (schema * floor):.2f}x that loader (goal <= 1.25x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", default=str(ROOT / "bench-data"))
    parser.add_argument(
        "--postgres", default=os.environ.get("JOINTCHECK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="floor and import, back to back, this many times")
    parser.add_argument("--xlsx", action="store_true", help="also import the same rows from XLSX (SQLite; goal <= 2x the CSV import)")
    parser.add_argument("--only-xlsx", action="store_true", help="only the XLSX comparison")
    args = parser.parse_args()
    if not shutil.which("sqlite3"):
        raise SystemExit("the sqlite3 shell is needed for the floor: apt-get install sqlite3")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"targets-{args.rows}.csv"
    make_csv(csv_path, args.rows)
    size = csv_path.stat().st_size / 2**20
    print(f"{args.rows:,} targets, {size:.0f} MiB of CSV")
    if args.xlsx or args.only_xlsx:
        xlsx_path = work / f"targets-{args.rows}.xlsx"
        make_xlsx(xlsx_path, args.rows)
        for i in range(args.rounds):
            csv_s, xlsx_s, csv_peak, xlsx_peak = xlsx_round(work, csv_path, xlsx_path)
            print(
                f"  xlsx round {i + 1}: CSV import {csv_s:.2f}s (peak {csv_peak} MiB)   XLSX import {xlsx_s:.2f}s "
                f"(peak {xlsx_peak} MiB)   ratio {xlsx_s / csv_s:.2f}x (goal <= 2x, peak < 500 MiB)"
            )
        if args.only_xlsx:
            return
    report("sqlite", ".import", [sqlite_round(work, csv_path) for _ in range(args.rounds)], args.rows)
    if not args.no_postgres:
        report("postgresql", "COPY", [postgres_round(args.postgres, csv_path) for _ in range(args.rounds)], args.rows)


if __name__ == "__main__":
    main()
