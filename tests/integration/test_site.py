"""The public site over HTTP: every page and feed in both languages, what must stay invisible, the
security headers, and planted personal data that no page or feed may show unmasked."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from jointcheck.core.clock import local_date, utcnow
from jointcheck.core.models import CreditChange, PublicResult, Target
from jointcheck.web.app import create_app
from tests.site_world import (
    BANK,
    CASE_INSPECTOR,
    COMPLAINT,
    EVIDENCE,
    ID_CARD,
    INTERNAL_NOTE,
    OWNER,
    PERSON,
    PHONE,
    build_site_world,
    published_case,
)


@pytest.fixture
async def site(uow_factory, sessionmaker):
    data = await build_site_world(uow_factory, sessionmaker)
    data.case_round_id = await published_case(uow_factory, data)
    client = TestClient(TestServer(create_app(sessionmaker)))
    await client.start_server()
    yield client, data
    await client.close()


def pages(data) -> list[str]:
    return [
        "/",
        "/rounds",
        f"/rounds/{data.round_id}",
        "/results",
        f"/results?q={data.individual_code}",
        f"/results?q={data.company_code}",
        "/results?q=对象",
        "/results?department=SAMR&category=1",
        f"/targets/{data.individual_code}",
        f"/targets/{data.company_code}",
        "/data",
        "/statistics",
        f"/statistics/{local_date(utcnow()).year}",
        f"/statistics/{local_date(utcnow()).year}/chart-zh-CN.svg",
        f"/statistics/{local_date(utcnow()).year}/chart-en.svg",
        f"/results?round={data.case_round_id}",
        "/results.csv",
        "/results.json",
        "/items.csv",
        "/items.json",
        "/rounds.csv",
        "/rounds.json",
        "/heads",
        "/heads.csv",
        "/heads.json",
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_page_and_feed_in_both_languages_shows_no_personal_data(site):
    client, data = site
    planted = [PERSON, PHONE, ID_CARD, BANK, OWNER, INTERNAL_NOTE, COMPLAINT, CASE_INSPECTOR, *data.inspector_names]
    for path in pages(data):
        for prefix in ("", "/en"):
            response = await client.get(prefix + path)
            assert response.status == 200, (prefix + path, response.status)
            body = await response.text()
            for secret in planted:
                assert secret not in body, (prefix + path, secret)
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert "Set-Cookie" not in response.headers
            if path.endswith(".html") or "." not in path.rsplit("/", 1)[-1]:
                assert ('lang="en"' if prefix else 'lang="zh-CN"') in body
    # the masked forms are there instead
    body = await (await client.get(f"/targets/{data.individual_code}")).text()
    assert "张**" in body and "138****5678" in body and "110105********002*" in body and "王**" in body


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_english_is_english_and_chinese_is_chinese(site):
    client, data = site
    zh = await (await client.get(f"/rounds/{data.round_id}")).text()
    en = await (await client.get(f"/en/rounds/{data.round_id}")).text()
    en_query = await (await client.get(f"/rounds/{data.round_id}?lang=en")).text()
    assert "抽取" in zh or "承诺" in zh
    assert "The draw and its proof" in en and "The draw and its proof" in en_query
    assert "The draw and its proof" not in zh


async def test_unapproved_round_and_unpublished_result_are_not_found(site):
    client, data = site
    for path in (
        f"/rounds/{data.unapproved_round_id}",
        f"/en/rounds/{data.unapproved_round_id}",
        f"/targets/{data.unpublished_code}",
        "/rounds/999999",
        f"/rounds/{data.unapproved_round_id}/bundle.zip",
    ):
        assert (await client.get(path)).status == 404, path
    listed = await (await client.get("/rounds")).text()
    assert "未批准的轮次" not in listed
    found = await (await client.get(f"/results?q={data.unpublished_code}")).text()
    assert "没有符合条件的已公示结果" in found and f"targets/{data.unpublished_code}" not in found
    feed = await (await client.get("/results.csv")).text()
    assert data.unpublished_code not in feed and data.individual_code in feed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_search_by_code_and_name_prefix_with_keyset_pages(site):
    client, data = site
    body = await (await client.get(f"/results?q={data.individual_code}")).text()
    assert f"targets/{data.individual_code}" in body and f"targets/{data.company_code}" not in body
    body = await (await client.get("/results?q=对象")).text()
    assert f"targets/{data.company_code}" in body and f"targets/{data.individual_code}" not in body
    # a page of one: the next link carries a keyset cursor, not an offset, and leads to the rest
    from jointcheck.core.services import disclosure

    seen, after = [], ""
    async with _uow(client) as uow:
        while True:
            page = await disclosure.search_results(uow, disclosure.ResultQuery(q="对象"), after, limit=1)
            seen += [r.record_id for r in page.records]
            if not page.next_cursor:
                break
            after = page.next_cursor
    assert len(seen) == len(set(seen)) == 4  # SAMR-001 and SAMR-K01 of the company, in its round and its case


def _uow(client):
    from jointcheck.core.uow import UnitOfWork
    from jointcheck.web.keys import SITE_SESSIONMAKER

    return UnitOfWork(client.server.app[SITE_SESSIONMAKER], read_only=True)


async def test_feeds_are_stable_streamed_and_cacheable(site):  # both backends: the database writes the lines
    client, data = site
    response = await client.get("/results.csv")
    raw = await response.read()
    assert raw.startswith("\ufeff".encode()) and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    from jointcheck.core.services.disclosure import RESULT_FIELDS

    assert tuple(rows[0]) == RESULT_FIELDS and len(rows) == 1 + 4 + 2  # two tasks and a case x two SAMR items
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert (await client.get("/results.csv", headers={"If-None-Match": etag})).status == 304
    records = await (await client.get("/results.json")).json()
    assert [sorted(r) for r in records] == [sorted(RESULT_FIELDS)] * 6 and modified
    assert all(r["on_time"] is True and r["due_by"] for r in records)
    types = {(r["round_id"], r["inspection_type"]) for r in records}
    assert types == {(data.round_id, "random"), (data.case_round_id, "case")}
    assert {(int(r[1]), r[-2]) for r in rows[1:]} == types
    items = await (await client.get("/items.json")).json()
    assert {i["code"] for i in items} >= {"SAMR-001", "TAX-001"}
    rounds = await (await client.get("/rounds.json")).json()
    assert [r["round_id"] for r in rounds] == [data.round_id] and rounds[0]["commitment"]  # a case's round is no drawn round


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bounded_queries_are_refused_politely(site):
    client, _ = site
    response = await client.get("/results", params={"q": "查" * 10_000})
    assert response.status == 400
    assert "太长" in await response.text()
    response = await client.get("/en/results", params={"region": "abc"})
    assert response.status == 400 and "too long or not in the expected form" in await response.text()
    assert (await client.post("/results")).status == 405


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bundle_and_verifier_download_and_verify(site, tmp_path):
    import subprocess
    import sys

    client, data = site
    page = await (await client.get(f"/rounds/{data.round_id}")).text()
    links = re.findall(r'href="([^"]+)"', page)
    assert "bundle.zip" in " ".join(links) and "public_proof.py" in " ".join(links)
    bundle = await (await client.get(f"/rounds/{data.round_id}/bundle.zip")).read()
    verifier = await (await client.get("/verifier/public_proof.py")).read()
    (tmp_path / "round.zip").write_bytes(bundle)
    (tmp_path / "public_proof.py").write_bytes(verifier)
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(tmp_path / "public_proof.py"), str(tmp_path / "round.zip")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.dumps  # the bundle is the public one: no conflicts.tsv
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(bundle))
    assert "conflicts.tsv" not in archive.namelist()
    # evidence: the public bundle lists the hash, never the file or its name
    digest = hashlib.sha256(EVIDENCE).hexdigest()
    assert f"\tSAMR-K01\tphoto\t{digest}\t{len(EVIDENCE)}" in archive.read("evidence.tsv").decode()
    assert not [n for n in archive.namelist() if n.startswith("evidence-")]
    assert archive.read("results.csv").decode().startswith("target,item,item_version,category,follow_up,status,published_at\n")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_case_inspection_is_public_as_such_and_never_as_a_drawn_round(site):
    client, data = site
    case_round = data.case_round_id
    for path in (f"/rounds/{case_round}", f"/en/rounds/{case_round}", f"/rounds/{case_round}/bundle.zip"):
        assert (await client.get(path)).status == 404, path
    for path in ("/rounds", "/", "/rounds.csv", "/en/rounds"):
        body = await (await client.get(path)).text()
        assert f"rounds/{case_round}" not in body and "个案" not in body, path
    for prefix, case_label, random_label in (("", "个案检查", "双随机抽查"), ("/en", "case inspection", "double-random inspection")):
        for path in (f"/targets/{data.company_code}", f"/results?q={data.company_code}"):
            body = await (await client.get(prefix + path)).text()
            rows = re.findall(r"<tr>.*?</tr>|<tr class=.*?</tr>", body, re.S)
            cases = [r for r in rows if case_label in r]
            assert len(cases) == 2 and all(f"rounds/{case_round}" not in r for r in cases), prefix + path
            assert any(random_label in r and f"rounds/{data.round_id}" in r for r in rows)
        # the public note of the case is there, masked
        assert "138****5678" in await (await client.get(f"{prefix}/targets/{data.company_code}")).text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_target_page_shows_its_credit_class_history(site):
    client, data = site
    async with _uow(client) as uow:
        query = (
            select(CreditChange.from_class, CreditChange.to_class, CreditChange.categories)
            .join(Target, Target.id == CreditChange.target_id)
            .where(Target.code == data.company_code)
            .order_by(CreditChange.id.desc())
        )
        stored = [tuple(row) for row in await uow.session.execute(query)]
    assert stored  # the round's A raised the company's class
    body = await (await client.get(f"/targets/{data.company_code}")).text()
    history = body.split("<h2>信用风险分类</h2>", 1)[1]
    shown = re.findall(r"<tr><td>[0-9: -]+</td><td>(\w) → (\w) · 上调</td><td>(\w) · ", history)
    assert shown == [(a, b, c) for a, b, c in stored], (shown, stored)
    english = await (await client.get(f"/en/targets/{data.company_code}")).text()
    assert "<h2>Credit risk class</h2>" in english and f"{stored[0][0]} → {stored[0][1]} · raised" in english
    # a target whose class no published result moved says so
    async with _uow(client) as uow:
        query = select(Target.code).where(
            Target.id.not_in(select(CreditChange.target_id)), Target.code.in_(select(PublicResult.target_code))
        )
        quiet = (await uow.session.execute(query.limit(1))).scalar_one_or_none()
    if quiet is not None:
        assert "已公示的检查结果未引起该对象信用风险分类变化" in await (await client.get(f"/targets/{quiet}")).text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_statistics_pages_with_charts_in_both_languages(site):
    client, data = site
    year = local_date(utcnow()).year
    zh = await (await client.get("/statistics")).text()
    assert f"{year} 年统计" in zh and "各部门、各事项检查覆盖情况" in zh
    # the figures in tables: the case's and the round's published SAMR results by category
    categories = zh.split("已公示结果按类别统计", 1)[1].split("</table>", 1)[0]
    counts = dict(re.findall(r"<tr><td>(\w) · .*?</td><td>(\d+)</td></tr>", categories))
    assert counts == {"1": "3", "A": "2", "C": "1"}, counts
    # the year list links each year's page, which the chart of that year and language is beside
    assert f'href="statistics/{year}" aria-current="page"' in zh
    chart = re.search(r'<img src="([^"]+)"', zh).group(1)
    assert chart == f"statistics/{year}/chart-zh-CN.svg"
    response = await client.get("/" + chart)
    assert response.status == 200 and response.headers["Content-Type"].startswith("image/svg+xml")
    assert (await response.text()).lstrip().startswith("<?xml") and "<script" not in await response.text()
    en = await (await client.get(f"/en/statistics/{year}")).text()
    assert f"Statistics {year}" in en and f'src="../../en/statistics/{year}/chart-en.svg"' in en
    en_chart = await (await client.get(f"/en/statistics/{year}/chart-en.svg")).text()
    assert en_chart != await response.text()  # the chart's own words are in the reader's language
    # bounded: a year is four digits in range; anything else is refused or not there
    assert (await client.get("/statistics/1999")).status == 400
    assert (await client.get("/statistics/99999")).status == 404
    assert (await client.get(f"/statistics/{year}/chart-fr.svg")).status == 404
    earlier = await client.get(f"/statistics/{year - 1}")
    assert earlier.status == 200 and "本年度尚无已公示的结果" in await earlier.text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_published_heads_are_listed_as_a_page_and_feeds(site):
    from jointcheck.core.services.audit_heads import published_heads

    client, data = site
    async with _uow(client) as uow:
        heads = await published_heads(uow)
    # the world approved and drew its round: one head for each, at least
    assert {(h.occasion, h.round_id) for h in heads} >= {("round.approved", data.round_id), ("round.drawn", data.round_id)}
    home = await (await client.get("/en/")).text()
    assert re.search(r'<nav[^§]*href="[./a-z]*/heads"[^§]*</nav>', home)  # in the navigation
    page = await (await client.get("/en/heads")).text()
    for h in heads:
        assert h.hash in page and f"<td>{h.seq}</td>" in page
    assert f"approval of round {data.round_id}" in page and f"draw of round {data.round_id}" in page
    assert f"第 {data.round_id} 轮抽取" in await (await client.get("/heads")).text()
    response = await client.get("/heads.csv")
    raw = await response.read()
    assert raw.startswith("\ufeff".encode()) and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["published_at", "occasion", "round_id", "seq", "hash"]
    assert [(r[1], r[3], r[4]) for r in rows[1:]] == [(h.occasion, str(h.seq), h.hash) for h in heads]
    assert (await client.get("/heads.csv", headers={"If-None-Match": response.headers["ETag"]})).status == 304
    feed = await (await client.get("/heads.json")).json()
    assert [(r["occasion"], r["round_id"], r["seq"], r["hash"]) for r in feed] == [(h.occasion, h.round_id, h.seq, h.hash) for h in heads]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_heads_page_pages_on_when_there_are_many(site, uow_factory):
    from jointcheck.core.services.audit_heads import published_heads
    from jointcheck.web.site import HEADS_PAGE

    client, _ = site
    async with uow_factory() as uow:
        for _ in range(HEADS_PAGE + 5):
            await uow.audit.publish("daily")
        await uow.commit()
    async with _uow(client) as uow:
        heads = await published_heads(uow, limit=1_000_000)
    first = await (await client.get("/en/heads")).text()
    more = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = await (await client.get("/en/" + more)).text()
    shown = re.findall(r'<td class="code">([0-9a-f]{64})</td>', first) + re.findall(r'<td class="code">([0-9a-f]{64})</td>', second)
    assert len(re.findall(r'<td class="code">', first)) == HEADS_PAGE and shown == [h.hash for h in heads]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_public_bundle_carries_the_audit_head_and_verifies(site, tmp_path):
    import zipfile

    from jointcheck.core import public_proof

    client, data = site
    bundle = await (await client.get(f"/rounds/{data.round_id}/bundle.zip")).read()
    async with _uow(client) as uow:
        seq, digest = await uow.audit.head()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    assert manifest["audit_head"] == {"seq": seq, "hash": digest}
    (tmp_path / "round.zip").write_bytes(bundle)
    report = public_proof.verify_bundle(tmp_path / "round.zip")
    assert report.ok, report.render()
    assert f"audit chain head {seq}:{digest}" in report.check("manifest").detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_static_export_holds_the_heads_page_and_feeds(site, sessionmaker, tmp_path):
    from jointcheck.web.static_export import export_site

    client, data = site
    await export_site(sessionmaker, tmp_path / "copy")
    for name in ("heads.html", "en/heads.html", "heads.csv", "heads.json"):
        assert (tmp_path / "copy" / name).is_file(), name
    for page in (tmp_path / "copy" / "heads.html", tmp_path / "copy" / "en" / "heads.html"):
        links = re.findall(r'href="([^"#]+)"', page.read_text())
        assert any(link.endswith(f"rounds/{data.round_id}.html") for link in links)  # a head's round, in the copy
        assert all((page.parent / link).resolve().is_file() for link in links), links  # every link opens offline
    assert 'href="heads.html"' in (tmp_path / "copy" / "index.html").read_text()
