"""`jointcheck results …` does what an officer does in chat, and a correction supersedes a public
record without removing it (both stay on the site)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from jointcheck.core.clock import local_date, utcnow
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.models import AuditEvent, PublicResult, Target
from jointcheck.core.uow import UnitOfWork
from jointcheck.web.app import create_app
from tests.conftest import run_in_thread
from tests.site_world import build_site_world, published_case


async def _with_db(db_url, fn):
    engine = make_engine(db_url)
    try:
        return await fn(make_sessionmaker(engine))
    finally:
        await engine.dispose()


async def _world(sessionmaker):
    return await build_site_world(lambda clock=None: UnitOfWork(sessionmaker, clock), sessionmaker)


async def _world_with_case(sessionmaker):
    data = await _world(sessionmaker)
    data.case_round_id = await published_case(lambda clock=None: UnitOfWork(sessionmaker, clock), data)
    return data


async def _risks(sessionmaker, codes):
    async with sessionmaker() as session:
        return dict((await session.execute(select(Target.code, Target.risk).where(Target.code.in_(codes)))).all())


async def _records(sessionmaker, code):
    async with sessionmaker() as session:
        first = (
            (await session.execute(select(PublicResult).where(PublicResult.target_code == code).order_by(PublicResult.id)))
            .scalars()
            .first()
        )
        return first


async def _history(sessionmaker, result_id):
    async with sessionmaker() as session:
        records = (
            (await session.execute(select(PublicResult).where(PublicResult.result_id == result_id).order_by(PublicResult.id)))
            .scalars()
            .all()
        )
        events = (await session.execute(select(AuditEvent.action).where(AuditEvent.action == "result.corrected"))).scalars().all()
        return records, events


async def _pages(sessionmaker, paths):
    client = TestClient(TestServer(create_app(sessionmaker)))
    await client.start_server()
    try:
        return [(r.status, await r.text()) for r in [await client.get(p) for p in paths]]
    finally:
        await client.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_console_review_publish_and_correct(db_url, cli, tmp_path):
    data = run_in_thread(_with_db(db_url, _world))
    samr, tax = str(data.world.actors["samr"].user_id), str(data.world.actors["tax"].user_id)

    listed = cli(db_url, "results", "list", "--as", samr)
    assert listed.code == 0 and "review  task" in listed.out and data.unpublished_code in listed.out, listed
    task = listed.out.split("review  task ", 1)[1].split()[0]
    refused = cli(db_url, "results", "accept", task, "--department", "SAMR", "--as", tax)
    assert refused.code == 1 and refused.err.startswith("error:")
    assert cli(db_url, "results", "accept", task, "--department", "SAMR", "--as", samr).code == 0
    assert cli(db_url, "results", "publish", "--round", str(data.round_id), "--department", "SAMR", "--as", tax).code == 1
    published = cli(db_url, "results", "publish", "--round", str(data.round_id), "--department", "SAMR", "--as", samr)
    assert published.code == 0 and published.out.startswith("published 2 results"), published

    first = run_in_thread(_with_db(db_url, lambda sm: _records(sm, data.company_code)))
    corrected = cli(db_url, "results", "correct", str(first.result_id), "--category", "E", "--reason", "复核后更正", "--as", samr)
    assert corrected.code == 0, corrected.err
    records, events = run_in_thread(_with_db(db_url, lambda sm: _history(sm, first.result_id)))
    assert [(r.category, r.superseded_by_id, r.supersedes_id) for r in records] == [
        (first.category, records[1].id, None),
        ("E", None, first.id),
    ]
    assert events == ["result.corrected"]

    (status, page), (unpublished_before, _) = run_in_thread(
        _with_db(db_url, lambda sm: _pages(sm, [f"/targets/{data.company_code}", f"/targets/{data.unpublished_code}"]))
    )
    assert status == 200 and "复核后更正" in page and f"已由第 {records[1].id} 号记录更正" in page  # both shown
    assert unpublished_before == 200  # published from the console

    # the department's own report: Chinese headers and names, one row per target and item
    import csv

    from openpyxl import load_workbook

    xlsx, plain = tmp_path / "结果.xlsx", tmp_path / "results.csv"
    done = cli(db_url, "export", "results", str(xlsx), "--round", str(data.round_id), "--department", "SAMR", "--as", samr)
    assert done.code == 0 and done.out.startswith("exported 6 results"), done
    sheet = load_workbook(xlsx, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert {"检查实施机关", "检查类型", "检查日期", "检查结果"} <= set(rows[0]) and len(rows) == 7
    by_header = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert {r["检查实施机关"] for r in by_header} == {"市场监管局"} and {r["检查类型"] for r in by_header} == {"双随机抽查"}
    assert {"未发现问题", "发现问题已责令改正"} <= {r["检查结果"] for r in by_header}
    assert all(len(r["检查日期"]) == 10 for r in by_header)
    # the credit class once each result was published: nothing has moved these targets since
    risks = run_in_thread(_with_db(db_url, lambda sm: _risks(sm, {r["统一社会信用代码/注册号"] for r in by_header})))
    assert {r["公示后信用风险分类"] for r in by_header if r["结果状态"] == "已公示"} <= set("ABCD")
    assert all(r["公示后信用风险分类"] == risks[r["统一社会信用代码/注册号"]] for r in by_header if r["结果状态"] == "已公示")
    assert all(not r["公示后信用风险分类"] for r in by_header if r["结果状态"] != "已公示")
    assert cli(db_url, "export", "results", str(plain), "--from", "2000-01-01", "--to", "2000-01-02", "--as", samr).out.startswith(
        "exported 0"
    )
    assert cli(db_url, "export", "results", str(plain), "--department", "SAMR", "--as", tax).code == 1
    cli(db_url, "export", "results", str(plain), "--round", str(data.round_id), "--as", samr)
    assert plain.read_bytes().startswith("\ufeff".encode()) and next(csv.reader(plain.open(encoding="utf-8-sig")))[2] == "检查实施机关"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_private_bundle_carries_the_evidence_and_verifies(db_url, cli, tmp_path):
    import hashlib
    import zipfile

    from jointcheck.core import public_proof
    from tests.site_world import EVIDENCE

    data = run_in_thread(_with_db(db_url, _world))
    samr = str(data.world.actors["samr"].user_id)
    bundle = tmp_path / "round.zip"
    done = cli(db_url, "round", "archive", str(data.round_id), str(bundle), "--as", samr)
    assert done.code == 0, done.err
    digest = hashlib.sha256(EVIDENCE).hexdigest()
    archive = zipfile.ZipFile(bundle)
    assert archive.read(f"evidence-{digest}") == EVIDENCE and digest in archive.read("evidence.tsv").decode()
    assert public_proof.main([str(bundle)]) == 0
    # an evidence file whose content is not what its name says is caught
    forged = tmp_path / "forged"
    files = {n: archive.read(n) for n in archive.namelist() if n != "manifest.json"}
    files[f"evidence-{digest}"] = b"another photo"
    public_proof.write_bundle(forged, files)
    assert public_proof.main([str(forged)]) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_static_copy_links_all_resolve_offline(db_url, cli, tmp_path):
    import re
    from urllib.parse import unquote

    data = run_in_thread(_with_db(db_url, _world_with_case))
    folder = tmp_path / "site"
    done = cli(db_url, "site", "export", str(folder))
    assert done.code == 0, done.err
    pages = sorted(folder.rglob("*.html"))
    names = {p.relative_to(folder).as_posix() for p in pages}
    assert {
        "index.html",
        "en/index.html",
        f"rounds/{data.round_id}.html",
        f"en/targets/{data.individual_code}.html",
        "results.html",
    } <= names
    assert f"rounds/{data.unapproved_round_id}.html" not in names and f"targets/{data.unpublished_code}.html" not in names
    assert f"rounds/{data.case_round_id}.html" not in names  # a case's round is no drawn round
    year = local_date(utcnow()).year
    assert {"statistics.html", f"statistics/{year}.html", f"en/statistics/{year}.html"} <= names
    assert (folder / f"statistics/{year}/chart-zh-CN.svg").read_text(encoding="utf-8").startswith("<?xml")
    assert "个案检查" in (folder / f"targets/{data.company_code}.html").read_text(encoding="utf-8")
    assert (folder / f"rounds/{data.round_id}/bundle.zip").is_file() and (folder / "verifier/public_proof.py").is_file()
    checked, charts = 0, 0
    for page in pages:
        for link in re.findall(r'(?:href|src|action)="([^"]*)"', page.read_text(encoding="utf-8")):
            charts += link.endswith(".svg")
            assert not link.startswith(("/", "http:", "https:")), (page, link)
            path = unquote(link.split("#", 1)[0].split("?", 1)[0])
            if not path:  # a fragment of the page itself (the skip link)
                continue
            resolved = (page.parent / path).resolve()
            assert resolved.is_file(), (page.relative_to(folder), link)
            checked += 1
    assert checked > 100 and charts >= 4  # each language's statistics pages show their chart
    assert cli(db_url, "site", "export", str(folder)).code == 1  # never over an existing copy
