"""The audit trail (全程留痕): an append-only, hash-chained event log, and its verification."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.authz import Actor
from jointcheck.core.clock import Clock, iso_utc
from jointcheck.core.models import AuditEvent, AuditHead
from jointcheck.core.public_proof import AUDIT_GENESIS, audit_event_hash, canonical_json

# Any fixed 64-bit number; it names the lock that serialises appends on PostgreSQL.
_PG_CHAIN_LOCK = 0x6A6F696E74636B31


def event_fields(ev: AuditEvent) -> dict:
    """The hashed fields of a stored event, exactly as they were hashed."""
    return {
        "seq": ev.seq,
        "at": ev.at,
        "actor": ev.actor,
        "action": ev.action,
        "entity": ev.entity,
        "entity_id": ev.entity_id,
        "payload": json.loads(ev.payload),
    }


def event_record(ev: AuditEvent) -> dict:
    """An event with its hashes, as written to a bundle's audit.jsonl."""
    return {**event_fields(ev), "prev_hash": ev.prev_hash, "hash": ev.hash}


@cache
def _head_query():
    return select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)


class AuditLog:
    """Appends events inside the caller's transaction, so an event exists iff its change does."""

    def __init__(self, session: AsyncSession, clock: Clock):
        self._session = session
        self._clock = clock
        self._head: tuple[int, str] | None = None

    async def _chain_head(self) -> tuple[int, str]:
        if self._head is None:
            if self._session.bind.dialect.name == "postgresql":
                # Two transactions must not both extend the same head; SQLite's BEGIN IMMEDIATE
                # already makes writers take turns.
                await self._session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CHAIN_LOCK})
            row = (await self._session.execute(_head_query())).first()
            self._head = (row.seq, row.hash) if row else (0, AUDIT_GENESIS)
        return self._head

    async def head(self) -> tuple[int, str]:
        """(seq, hash) of the chain's last event, with this transaction's; (0, genesis) when empty."""
        return await self._chain_head()

    async def publish(self, occasion: str, round_id: int | None = None) -> AuditHead | None:
        """Record the chain's head, with this transaction's events, as published for `occasion`
        (an approval, a draw, the day's): whatever later cuts or rewrites the chain before it no
        longer holds it. None while the chain is empty."""
        seq, digest = await self._chain_head()
        if seq == 0:
            return None
        head = AuditHead(seq=seq, hash=digest, occasion=occasion, round_id=round_id, published_at=self._clock())
        self._session.add(head)
        return head

    def forget_head(self) -> None:
        """After a rollback the events this log appended are gone: read the head again next time."""
        self._head = None

    async def record(self, actor: Actor, action: str, entity: str, entity_id: object, payload: dict | None = None) -> AuditEvent:
        last_seq, last_hash = await self._chain_head()
        fields = {
            "seq": last_seq + 1,
            "at": iso_utc(self._clock()),
            "actor": actor.label,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "payload": payload or {},
        }
        digest = audit_event_hash(last_hash, fields)
        event = AuditEvent(
            **{**fields, "payload": canonical_json(fields["payload"]).decode("utf-8")},
            prev_hash=last_hash,
            hash=digest,
        )
        self._session.add(event)
        self._head = (event.seq, digest)
        return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    head_hash: str = AUDIT_GENESIS


@dataclass(frozen=True)
class Anchor:
    """An event (seq, hash) known outside the chain: a published head, or one an operator kept."""

    seq: int
    hash: str
    what: str  # how a report names it: "the anchor", "the head published 2026-12-06 (round.drawn)"

    @classmethod
    def of_head(cls, head: AuditHead) -> Anchor:
        published = head.published_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return cls(head.seq, head.hash, f"the head published {published} ({head.occasion})")


async def published_anchors(session: AsyncSession) -> list[Anchor]:
    """Every published head, as anchors for verify_chain."""
    return [Anchor.of_head(head) for head in (await session.execute(select(AuditHead).order_by(AuditHead.id))).scalars()]


async def verify_chain(session: AsyncSession, batch: int = 5000, anchors: Iterable[Anchor] = ()) -> ChainReport:
    """Walk the whole chain in seq order, streaming; stop at the first event that does not fit.

    A chain cannot tell on its own that events were cut from its end, or that every hash after
    some point was recomputed. `anchors` are events recorded outside the chain earlier (the
    published heads, a head printed by a previous verify): the chain must still hold each of them.
    """
    by_seq: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, []).append(anchor)
    expected_seq, prev_hash, checked = 1, AUDIT_GENESIS, 0
    result = await session.stream(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch))
    async for ev in result.scalars():
        if ev.seq != expected_seq:
            return ChainReport(False, checked, ev.seq, f"expected event {expected_seq} here, found {ev.seq}: an event is missing or moved")
        if ev.prev_hash != prev_hash:
            return ChainReport(False, checked, ev.seq, "does not link to the event before it")
        try:
            fields = event_fields(ev)
        except ValueError:
            return ChainReport(False, checked, ev.seq, "payload is not valid JSON")
        if audit_event_hash(prev_hash, fields) != ev.hash:
            return ChainReport(False, checked, ev.seq, "content does not match its hash: the event was edited")
        for anchor in by_seq.get(ev.seq, ()):
            if ev.hash != anchor.hash:
                return ChainReport(False, checked, ev.seq, f"is not the event recorded as {anchor.what}: the chain was rewritten")
        prev_hash, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    if by_seq and checked < max(by_seq):
        last = max(by_seq)
        return ChainReport(
            False, checked, checked + 1, f"the chain ends before event {last}, {by_seq[last][0].what}: events were cut from its end"
        )
    return ChainReport(True, checked, head_hash=prev_hash)
