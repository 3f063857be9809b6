"""The round bundle (归档): every file an outsider needs to re-derive and check a round."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import or_, select

from jointcheck.core import public_proof as proof
from jointcheck.core.audit import event_record
from jointcheck.core.authz import Action, Actor, Scope, authorize
from jointcheck.core.errors import Conflict, NotFound
from jointcheck.core.models import AuditEvent, CheckItem, Result, Target, Task
from jointcheck.core.uow import UnitOfWork

DRAW_FILES = ("params.json", "population.tsv", "pools.tsv", "conflicts.tsv", "seed.txt", "selected.tsv", "assignments.tsv")
RESULT_COLUMNS = ("target_id", "item_code", "item_version", "category", "follow_up", "status", "published_at")


async def bundle_files(uow: UnitOfWork, actor: Actor, round_id: int, *, public: bool = False) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """The bundle's files and which of them are redacted (public bundles hide who recuses from whom)."""
    round_ = await uow.rounds.get(round_id)
    if round_ is None:
        raise NotFound(f"round {round_id} not found")
    if not public:
        departments = [d.id for _, d in await uow.rounds.participants(round_id)]
        authorize(actor, Action.ROUND_ARCHIVE, Scope.of(departments=departments, region=round_.region))
    draw = await uow.rounds.draw_of(round_id)
    if draw is None or draw.drawn_at is None:
        raise Conflict(f"round {round_id} is {round_.status}: a bundle exists once it is drawn")
    files = {name: await uow.rounds.file(draw.id, name) for name in DRAW_FILES}
    redacted: tuple[str, ...] = ()
    if public:
        del files["conflicts.tsv"]
        redacted = ("conflicts.tsv",)
    files["results.csv"] = await _results_csv(uow, round_id, published_only=public)
    files["audit.jsonl"] = await _audit_jsonl(uow, round_id)
    return files, redacted


async def archive_round(uow: UnitOfWork, actor: Actor, round_id: int, destination: str | Path) -> Path:
    """Write the bundle to a folder, or a ZIP when the name ends in .zip."""
    files, redacted = await bundle_files(uow, actor, round_id)
    path = proof.write_bundle(destination, files, redacted)
    await uow.audit.record(actor, "round.archived", "round", round_id, {
        "files": {name: proof.sha256_hex(content) for name, content in sorted(files.items())},
    })
    return path


async def _results_csv(uow: UnitOfWork, round_id: int, published_only: bool) -> bytes:
    query = (
        select(Target.code, CheckItem.code, CheckItem.version, Result.category, Result.follow_up, Result.status, Result.published_at)
        .join(Task, Task.id == Result.task_id).join(Target, Target.id == Task.target_id).join(CheckItem, CheckItem.id == Result.item_id)
        .where(Task.round_id == round_id).order_by(Task.visit_order, CheckItem.code)
    )
    if published_only:
        query = query.where(Result.status == "published")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for code, item, version, category, follow_up, status, published_at in await uow.session.execute(query):
        writer.writerow([code, item, version, category, follow_up, status, published_at.isoformat() if published_at else ""])
    return out.getvalue().encode("utf-8")


async def _audit_jsonl(uow: UnitOfWork, round_id: int) -> bytes:
    query = select(AuditEvent).where(or_(
        (AuditEvent.entity == "round") & (AuditEvent.entity_id == str(round_id)),
        (AuditEvent.entity == "task") & AuditEvent.entity_id.in_(select(Task.id.cast(AuditEvent.entity_id.type)).where(Task.round_id == round_id)),
    )).order_by(AuditEvent.seq)
    lines = [proof.canonical_json(event_record(ev)) + b"\n" for ev in (await uow.session.execute(query)).scalars()]
    return b"".join(lines)
