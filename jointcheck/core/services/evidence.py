"""Evidence (SPEC capability 7): the photos and documents of results, kept in the file store,
shown to the reviewing officer, and listed by hash in the round's bundle."""

from __future__ import annotations

from dataclasses import dataclass

from jointcheck.core.authz import Actor
from jointcheck.core.filestore import FileStore
from jointcheck.core.models import Department
from jointcheck.core.public_proof import EVIDENCE_LIST, EVIDENCE_PREFIX, sha256_hex
from jointcheck.core.services.results import submission_to_review
from jointcheck.core.uow import UnitOfWork


@dataclass(frozen=True)
class Evidence:
    item_code: str
    kind: str  # photo | document
    telegram_file_id: str
    file_name: str
    sha256: str | None


async def evidence_to_review(uow: UnitOfWork, actor: Actor, task_id: int, department: Department) -> list[Evidence]:
    """The attachments of a department's submitted results on a task, for its reviewer (the same
    checks as showing the submission)."""
    await submission_to_review(uow, actor, task_id, department)
    rows = await uow.tasks.attachments(task_id, department.id, "submitted")
    return [Evidence(code, a.kind, a.telegram_file_id, a.file_name, a.sha256) for code, a in rows]


async def bundle_evidence(uow: UnitOfWork, round_id: int, store: FileStore | None, *, public: bool) -> dict[str, bytes]:
    """evidence.tsv (target, item, kind, sha256, bytes: no file names, which can name people) and,
    in a private bundle, each kept file as evidence-<sha256>. An empty dict when the round has none."""
    rows = await uow.tasks.round_attachments(round_id, published_only=public)
    if not rows:
        return {}
    lines = ["target\titem\tkind\tsha256\tbytes"]
    lines += [f"{target}\t{item}\t{kind}\t{digest or ''}\t{'' if size is None else size}" for target, item, kind, digest, size in rows]
    files = {EVIDENCE_LIST: ("\n".join(lines) + "\n").encode()}
    if not public and store is not None:
        for digest in sorted({row[3] for row in rows if row[3]}):
            content = store.get(digest)
            assert sha256_hex(content) == digest
            files[EVIDENCE_PREFIX + digest] = content
    return files
