"""The columnar pass over a CSV of targets: whatever the file, the import ends exactly as the
row-by-row pass alone would end it (same records, same counts, same errors), and a file with
nothing wrong or unusual in it never needs the row-by-row pass."""

from __future__ import annotations

import csv
import itertools
import random
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jointcheck.core.directory_io import columnar
from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.passes import Outcome, Restart, Rows, Start, _messages
from jointcheck.core.directory_io.schemas import TARGETS
from tests.db_snapshot import snapshot

DEPTS = ("SAMR", "TAX", "EPB")
ROWS = list(itertools.islice(iter_synthetic_targets(60, 5, DEPTS), 60))


def run_pass(path, *, columnar_first: bool, batch: int = 7) -> tuple[list, list[bytes], Outcome]:
    """The messages of one pass (in process), the records of the last attempt, and the outcome."""
    messages = list(_messages("targets", str(path), DEPTS, None, batch, False, True, columnar_first))
    last = max((i for i, m in enumerate(messages) if isinstance(m, Restart)), default=-1)
    records = sorted(line for m in messages[last + 1 :] if isinstance(m, Rows) for line in m.records.split(b"\n") if m.records)
    return messages, records, messages[-1]


def write_csv(path, header: list[str], rows: list[list[str]], *, bom: bool = True, newline: str = "\n") -> None:
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)


# -- the plain characters ---------------------------------------------------------------------


def test_plain_characters_are_ones_the_text_checker_takes_unchanged():
    assert len(columnar.PLAIN) > 25_000  # CJK ideographs, ASCII, full-width forms...
    for ch in columnar.PLAIN:
        assert ch.isprintable() and ch not in '",', repr(ch)
        assert ch == " " or not ch.isspace(), repr(ch)


def test_the_pattern_matches_exactly_the_plain_characters():
    candidates = [chr(p) for low, high in columnar._BLOCKS for p in range(low, high + 1)]
    candidates += ["\t", "\n", "\r", "\x00", "\x85", "\u00a0", "\u2028", "\u3000", "\u200b", "\ufeff", "\U0001f600"]
    matched = pc.match_substring_regex(pa.array(candidates), columnar._PLAIN_TEXT).to_pylist()
    assert [ch for ch, hit in zip(candidates, matched) if hit != (ch in columnar.PLAIN)] == []
    assert "中" in columnar.PLAIN and "（" in columnar.PLAIN and "\u3000" not in columnar.PLAIN


# -- the same outcome, whatever the file -------------------------------------------------------

# Harmless variations: the row-by-row checkers normalise them, and so must the columnar pass.
VARIATIONS = {
    "code": lambda r: {"code": r["code"].lower() if r["kind"] in ("enterprise", "individual") else r["code"]},
    "code_spaces": lambda r: {"code": f"  {r['code']} "},
    "kind_zh": lambda r: {"kind": {"enterprise": "企业", "individual": "个体工商户"}.get(r["kind"], r["kind"])},
    "kind_case": lambda r: {"kind": r["kind"].upper()},
    "risk": lambda r: {"risk": f" {r['risk'].lower()}类"},
    "departments": lambda r: {"departments": "；".join(reversed(r["departments"].split(";"))).lower()},
    "tags": lambda r: {"tags": "校园周边；食品;; 校园周边 "},
    "status": lambda r: {"status": "注销"},
    "industry": lambda r: {"industry": "5123"},
    "name": lambda r: {"name": f" {r['name']}（分店）· “一号” "},
    "address": lambda r: {"address": ""},
}
# Unusual cells: the columnar pass must give up on them, and the row-by-row pass decides.
UNUSUAL = {
    "quoted_comma": {"address": "1号, 2栋"},
    "quote": {"name": 'the "best" shop'},
    "ideographic_space": {"name": "某某\u3000公司"},
    "tab": {"departments": "SAMR\t"},
    "emoji": {"name": "店\U0001f600"},
}
# Wrong cells: the row-by-row pass reports them.
WRONG = {
    "risk": {"risk": "E"},
    "code": {"code": "91350100M000100Y44", "kind": "enterprise"},
    "region": {"region": "4401"},
    "department": {"departments": "NOPE"},
    "name": {"name": ""},
    "nul": {"name": "a\x00b"},
}

changes = st.lists(
    st.tuples(
        st.integers(0, len(ROWS) - 1),
        st.one_of(
            st.sampled_from(sorted(VARIATIONS)).map(lambda k: ("vary", k)),
            st.sampled_from(sorted(UNUSUAL)).map(lambda k: ("unusual", k)),
            st.sampled_from(sorted(WRONG)).map(lambda k: ("wrong", k)),
            st.just(("duplicate", "")),
        ),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=changes,
    language=st.sampled_from(["en", "zh"]),
    bom=st.booleans(),
    crlf=st.booleans(),
    dropped=st.sampled_from([(), ("tags",), ("status", "address"), ("industry",)]),
    seed=st.integers(0, 99),
)
def test_both_passes_end_the_same(tmp_path_factory, changes, language, bom, crlf, dropped, seed):
    rows = [dict(r) for r in ROWS]
    for at, (what, key) in changes:
        if what == "vary":  # from the generated value: " b类" varied twice would be " b类类", a wrong one
            rows[at].update(VARIATIONS[key](ROWS[at]))
        elif what == "unusual":
            rows[at].update(UNUSUAL[key])
        elif what == "wrong":
            rows[at].update(WRONG[key])
        else:
            rows[at]["code"] = rows[(at + 17) % len(rows)]["code"]
            rows[at]["kind"] = rows[(at + 17) % len(rows)]["kind"]
    fields = [f for f in TARGETS.fields if f not in dropped]
    random.Random(seed).shuffle(fields)
    header = [TARGETS.column(f).zh if language == "zh" else f for f in fields]
    path = tmp_path_factory.mktemp("columnar") / "targets.csv"
    write_csv(path, header, [[r[f] for f in fields] for r in rows], bom=bom, newline="\r\n" if crlf else "\n")

    _, expected, row_outcome = run_pass(path, columnar_first=False)
    messages, got, outcome = run_pass(path, columnar_first=True)
    assert got == expected
    assert (outcome.rows_read, outcome.rows_ok, outcome.error_count, outcome.errors) == (
        row_outcome.rows_read,
        row_outcome.rows_ok,
        row_outcome.error_count,
        row_outcome.errors,
    )
    if all(what == "vary" for _, (what, _) in changes):
        assert not any(isinstance(m, Restart) for m in messages), "a clean file went row by row"
        assert outcome.rows_ok == len(ROWS)


def test_a_clean_file_is_read_column_by_column_in_key_order(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, list(TARGETS.fields), [[r[f] for f in TARGETS.fields] for r in ROWS])
    messages, records, outcome = run_pass(path, columnar_first=True, batch=25)
    assert [type(m) for m in messages] == [Start, Rows, Rows, Rows, Outcome]
    for m in messages[1:4]:
        lines = m.records.split(b"\n")
        assert lines == sorted(lines)  # SQLite fills its unique index page by page
    assert outcome.rows_ok == 60 and len(records) == 60


@pytest.mark.parametrize("where", ["late", "duplicate"])
def test_giving_up_after_some_batches_restarts_and_ends_the_same(tmp_path, where):
    rows = [dict(r) for r in ROWS]
    if where == "late":
        rows[55]["risk"] = "E"
    else:  # found only once the whole file is read
        rows[58]["code"], rows[58]["kind"] = rows[3]["code"], rows[3]["kind"]
    path = tmp_path / "t.csv"
    write_csv(path, list(TARGETS.fields), [[r[f] for f in TARGETS.fields] for r in rows])
    messages, records, outcome = run_pass(path, columnar_first=True, batch=10)
    kinds = [type(m) for m in messages]
    restart = kinds.index(Restart)
    assert kinds[0] is Start and Rows in kinds[:restart] and kinds[restart + 1] is Start
    assert outcome.error_count == 1 and outcome.bad_row_count == 1
    assert outcome.errors[0].line == (57 if where == "late" else 60)
    assert where == "late" or outcome.errors[0].reason == "duplicate of line 5"


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 500 rows, so the columnar pass has sent some before it meets the bad row."""
    from jointcheck.core.services import directory_import

    monkeypatch.setattr(directory_import, "BATCH", 500)


def test_import_that_restarts_leaves_the_database_as_it_was(cli, db_url, tmp_path, small_batches):
    for code in DEPTS:
        assert cli(db_url, "admin", "department", "add", code, code).code == 0
    rows = list(itertools.islice(iter_synthetic_targets(3000, 21, DEPTS), 3000))
    rows[2900]["code"], rows[2900]["kind"] = rows[10]["code"], rows[10]["kind"]
    path = tmp_path / "dup.csv"
    write_csv(path, list(TARGETS.fields), [[r[f] for f in TARGETS.fields] for r in rows])
    before = snapshot(db_url)
    result = cli(db_url, "import", "targets", str(path))
    assert result.code == 1 and "line 2902" in result.err and "duplicate of line 12" in result.err
    assert snapshot(db_url) == before

    bad_rows = tmp_path / "bad.csv"
    result = cli(db_url, "import", "targets", str(path), "--skip-bad-rows", str(bad_rows))
    assert result.code == 3, result.err  # imported, 1 row skipped
    assert "2999 good, 1 bad" in result.out and "2999 rows written" in result.out


async def test_the_connection_gets_its_page_cache_back_whatever_the_import_ends_in(sqlite_template, tmp_path, small_batches):
    """The bulk writer shrinks SQLite's page cache while it writes; a restart, a refusal or a
    success all leave the connection with the cache it had."""
    from sqlalchemy import text

    from jointcheck.core.authz import Actor
    from jointcheck.core.db import make_engine, make_sessionmaker
    from jointcheck.core.services.departments import add_department
    from jointcheck.core.services.directory_import import import_directory
    from jointcheck.core.uow import UnitOfWork

    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite")
    sqlite_db_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    operator = Actor.operator("test")
    rows = list(itertools.islice(iter_synthetic_targets(3000, 22, DEPTS), 3000))
    good = tmp_path / "good.csv"
    write_csv(good, list(TARGETS.fields), [[r[f] for f in TARGETS.fields] for r in rows])
    rows[2900]["code"], rows[2900]["kind"] = rows[10]["code"], rows[10]["kind"]
    restarts = tmp_path / "restarts.csv"
    write_csv(restarts, list(TARGETS.fields), [[r[f] for f in TARGETS.fields] for r in rows])
    engine = make_engine(sqlite_db_url, pool_size=1, max_overflow=0)  # every unit of work on the one connection
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            for code in DEPTS:
                await add_department(uow, operator, code, code)
            await uow.commit()
            own = (await uow.session.execute(text("PRAGMA cache_size"))).scalar_one()
            await uow.rollback()
        for path, skip in ((restarts, False), (restarts, True), (good, False)):
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                await import_directory(uow, operator, "targets", path, skip_bad_rows=skip, bad_rows_path=tmp_path / "bad.csv")
            async with engine.connect() as conn:
                assert (await conn.execute(text("PRAGMA cache_size"))).scalar_one() == own, (path.name, skip)
    finally:
        await engine.dispose()
