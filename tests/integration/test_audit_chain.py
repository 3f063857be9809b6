"""SPEC capability 9: every change is a chained event, and `jointcheck audit verify` catches tampering."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from jointcheck.core.audit import verify_chain
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.public_proof import AUDIT_GENESIS, audit_event_hash
from jointcheck.core.services.audit_heads import publish_daily_head, published_heads
from jointcheck.core.uow import UnitOfWork
from tests.conftest import run_in_thread


def _seed_events(cli, db_url, n=4):
    for i in range(n):
        assert cli(db_url, "admin", "department", "add", f"D{i}", f"部门{i}").code == 0


def _sql(db_url, *statements, as_superuser_past_triggers: bool = True):
    """Tamper with the tables as someone who can: on PostgreSQL the audit tables refuse UPDATE and
    DELETE to every role (migration 0005) but to a superuser who switches triggers off."""

    async def go():
        engine = make_engine(db_url)
        try:
            async with engine.begin() as conn:
                if as_superuser_past_triggers and engine.dialect.name == "postgresql":
                    await conn.execute(text("SET LOCAL session_replication_role = replica"))
                for statement, params in statements:
                    await conn.execute(text(statement), params)
        finally:
            await engine.dispose()

    run_in_thread(go())


def _rows(db_url):
    async def go():
        engine = make_engine(db_url)
        try:
            async with engine.connect() as conn:
                return [dict(r._mapping) for r in await conn.execute(text("SELECT * FROM audit_events ORDER BY seq"))]
        finally:
            await engine.dispose()

    return run_in_thread(go())


def test_intact_chain_verifies(cli, db_url):
    _seed_events(cli, db_url)
    result = cli(db_url, "audit", "verify")
    assert result.code == 0, result.err
    assert "intact: 4 events" in result.out
    rows = _rows(db_url)
    assert rows[0]["prev_hash"] == AUDIT_GENESIS
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))
    assert json.loads(rows[2]["payload"]) == {"code": "D2", "name": "部门2"}


def test_edited_payload_is_caught(cli, db_url):
    _seed_events(cli, db_url)
    _sql(db_url, ("UPDATE audit_events SET payload = :p WHERE seq = 2", {"p": '{"code":"D1","name":"别的"}'}))
    result = cli(db_url, "audit", "verify")
    assert result.code == 1
    assert "BROKEN at event 2" in result.out and "edited" in result.out


def test_edit_with_recomputed_hash_is_caught_at_the_next_event(cli, db_url):
    _seed_events(cli, db_url)
    row = _rows(db_url)[1]
    fields = {k: row[k] for k in ("seq", "at", "actor", "action", "entity", "entity_id")}
    fields["payload"] = {"code": "D1", "name": "forged"}
    forged = audit_event_hash(row["prev_hash"], fields)
    _sql(db_url, ("UPDATE audit_events SET payload = :p, hash = :h WHERE seq = 2", {"p": '{"code":"D1","name":"forged"}', "h": forged}))
    result = cli(db_url, "audit", "verify")
    assert result.code == 1
    assert "BROKEN at event 3" in result.out and "does not link" in result.out


def test_deleted_event_is_caught(cli, db_url):
    _seed_events(cli, db_url)
    _sql(db_url, ("DELETE FROM audit_events WHERE seq = 2", {}))
    result = cli(db_url, "audit", "verify")
    assert result.code == 1
    assert "BROKEN at event 3" in result.out and "missing or moved" in result.out


def test_reordered_events_are_caught(cli, db_url):
    _seed_events(cli, db_url)
    _sql(
        db_url,
        ("UPDATE audit_events SET seq = 100 WHERE seq = 2", {}),
        ("UPDATE audit_events SET seq = 2 WHERE seq = 3", {}),
        ("UPDATE audit_events SET seq = 3 WHERE seq = 100", {}),
    )
    result = cli(db_url, "audit", "verify")
    assert result.code == 1
    assert "BROKEN at event 2" in result.out


def test_rolled_back_change_leaves_no_event(db_url, uow_factory, run_async):
    from jointcheck.core.authz import Actor
    from jointcheck.core.services.departments import add_department

    async def go():
        async with uow_factory() as uow:
            await add_department(uow, Actor.operator("t"), "A1", "甲")
            # no commit: the change and its event go together
        async with uow_factory() as uow:
            report = await verify_chain(uow.session)
            assert await uow.departments.by_code("A1") is None
        return report

    report = run_async(go())
    assert report.ok and report.checked == 0


@pytest.fixture
def run_async():
    return run_in_thread


def _publish_head(db_url):
    async def go():
        engine = make_engine(db_url)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                head = await publish_daily_head(uow)
                await uow.commit()
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                assert await publish_daily_head(uow) is None  # once a day
                assert [h.anchor for h in await published_heads(uow)] == [head.anchor]
            return head
        finally:
            await engine.dispose()

    return run_in_thread(go())


def _rewrite_from(db_url, seq):
    """Recompute every hash from event `seq` on, as someone who edits the table and knows the recipe."""
    rows = _rows(db_url)
    prev = rows[seq - 2]["hash"] if seq > 1 else AUDIT_GENESIS
    statements = []
    for row in rows[seq - 1 :]:
        fields = {k: row[k] for k in ("seq", "at", "actor", "action", "entity", "entity_id")}
        fields["payload"] = json.loads(row["payload"]) | ({"name": "forged"} if row["seq"] == seq else {})
        digest = audit_event_hash(prev, fields)
        payload = json.dumps(fields["payload"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        statements.append(
            (
                "UPDATE audit_events SET payload = :p, prev_hash = :v, hash = :h WHERE seq = :s",
                {"p": payload, "v": prev, "h": digest, "s": row["seq"]},
            )
        )
        prev = digest
    _sql(db_url, *statements)


@pytest.mark.parametrize("tamper", ["cut the tail", "delete everything", "rewrite every later hash"])
def test_tampering_the_chain_alone_cannot_hide_is_caught_against_a_published_head(cli, db_url, tamper):
    _seed_events(cli, db_url)
    head = _publish_head(db_url)
    assert head.anchor.startswith("4:")
    _seed_events_more = cli(db_url, "admin", "department", "add", "X9", "新")
    assert _seed_events_more.code == 0 and "holds all 1 published heads" in cli(db_url, "audit", "verify").out
    if tamper == "cut the tail":
        _sql(db_url, ("DELETE FROM audit_events WHERE seq >= 4", {}))
    elif tamper == "delete everything":
        _sql(db_url, ("DELETE FROM audit_events", {}))
    else:
        _rewrite_from(db_url, 2)
    result = cli(db_url, "audit", "verify")
    assert result.code == 1, result.out
    assert ("cut from its end" if tamper != "rewrite every later hash" else "the chain was rewritten") in result.out
    assert "published" in result.out


def test_postgresql_refuses_to_change_or_delete_audit_events(cli, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL trigger: SQLite has no roles to hold to it")
    from sqlalchemy.exc import DBAPIError

    _seed_events(cli, db_url, n=2)
    _publish_head(db_url)
    for statement in (
        "UPDATE audit_events SET payload = '{}' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
        "DELETE FROM audit_heads",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(db_url, (statement, {}), as_superuser_past_triggers=False)
    assert len(_rows(db_url)) == 2 and cli(db_url, "audit", "verify").code == 0


def test_events_cut_from_the_end_are_caught_against_an_anchor(cli, db_url):
    _seed_events(cli, db_url)
    head = cli(db_url, "audit", "verify").out.split("head ")[1].split()[0]
    assert head.startswith("4:")
    _sql(db_url, ("DELETE FROM audit_events WHERE seq = 4", {}))
    assert cli(db_url, "audit", "verify").code == 0  # alone, a shortened chain still looks whole
    result = cli(db_url, "audit", "verify", "--anchor", head)
    assert result.code == 1 and "cut from its end" in result.out
    assert cli(db_url, "audit", "verify", "--anchor", "4:" + "0" * 64).code == 1
    assert cli(db_url, "audit", "verify", "--anchor", "banana").code == 1


def test_anchor_inside_an_intact_chain(cli, db_url):
    _seed_events(cli, db_url, n=3)
    head = cli(db_url, "audit", "verify").out.split("head ")[1].split()[0]
    _seed_events_more = cli(db_url, "admin", "department", "add", "X9", "新")
    assert _seed_events_more.code == 0
    assert cli(db_url, "audit", "verify", "--anchor", head).code == 0
    forged = head.split(":")[0] + ":" + "f" * 64
    result = cli(db_url, "audit", "verify", "--anchor", forged)
    assert result.code == 1 and "anchor" in result.out
