"""The audit chain's published heads: one a day (the scheduler's sweep), one at every approval and
draw (rounds.py, draw.py), in every bundle's manifest (archive.py); public, so anyone holding one
can later tell whether the chain still holds it (`jointcheck audit verify` checks all of them).

    heads = await published_heads(uow, limit=30)   # newest first, for the public site
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.models import AuditHead
from jointcheck.core.uow import UnitOfWork

DAILY = "daily"


@dataclass(frozen=True)
class PublishedHead:
    seq: int
    hash: str
    occasion: str  # daily | round.approved | round.drawn
    round_id: int | None
    published_at: dt.datetime
    id: int | None = None  # the row's; None until it is flushed

    @property
    def anchor(self) -> str:
        """SEQ:HASH, as `jointcheck audit verify --anchor` takes it."""
        return f"{self.seq}:{self.hash}"


async def published_heads(uow: UnitOfWork, *, limit: int = 100, before_id: int | None = None) -> list[PublishedHead]:
    """Published heads, newest first; public information, so no actor is needed. `before_id` pages on."""
    query = select(AuditHead).order_by(AuditHead.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditHead.id < before_id)
    rows = (await uow.session.execute(query)).scalars()
    return [PublishedHead(h.seq, h.hash, h.occasion, h.round_id, h.published_at, h.id) for h in rows]


async def chain_head(uow: UnitOfWork) -> tuple[int, str]:
    """(seq, hash) of the chain as it is now, for a public bundle's manifest; public like the heads."""
    return await uow.audit.head()


async def publish_daily_head(uow: UnitOfWork) -> PublishedHead | None:
    """The day's head (in the domain's time zone), once a day; None when published already or the chain is empty."""
    now = uow.clock()
    start = dt.datetime.combine(now.astimezone(DOMAIN_TZ).date(), dt.time(), DOMAIN_TZ)
    today = select(func.count()).select_from(AuditHead).where(AuditHead.occasion == DAILY, AuditHead.published_at >= start)
    if (await uow.session.execute(today)).scalar_one():
        return None
    head = await uow.audit.publish(DAILY)
    return PublishedHead(head.seq, head.hash, head.occasion, None, head.published_at) if head else None
