"""`jointcheck results …` does what an officer does in chat, and a correction supersedes a public
record without removing it (both stay on the site)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.models import AuditEvent, PublicResult
from jointcheck.core.uow import UnitOfWork
from jointcheck.web.app import create_app
from tests.conftest import run_in_thread
from tests.site_world import build_site_world


async def _with_db(db_url, fn):
    engine = make_engine(db_url)
    try:
        return await fn(make_sessionmaker(engine))
    finally:
        await engine.dispose()


async def _world(sessionmaker):
    return await build_site_world(lambda clock=None: UnitOfWork(sessionmaker, clock), sessionmaker)


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
def test_console_review_publish_and_correct(db_url, cli):
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
