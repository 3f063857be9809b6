"""The round bundle (归档): every file an outsider needs to re-derive and check a round."""

from __future__ import annotations

from pathlib import Path

from jointcheck.core import public_proof as proof
from jointcheck.core.authz import Action, Actor, Scope, authorize
from jointcheck.core.errors import Conflict, NotFound
from jointcheck.core.filestore import FileStore
from jointcheck.core.services.evidence import bundle_evidence
from jointcheck.core.uow import UnitOfWork

DRAW_FILES = ("params.json", "population.tsv", "pools.tsv", "conflicts.tsv", "seed.txt", "selected.tsv", "assignments.tsv")


async def bundle_files(
    uow: UnitOfWork, actor: Actor, round_id: int, *, public: bool = False, store: FileStore | None = None
) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """The bundle's files and which of them are redacted (public bundles hide who recuses from whom).
    Evidence: a public bundle lists the hashes of its published results' files; a private one
    also carries the files themselves, from `store`."""
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
    files["results.csv"] = await uow.rounds.results_csv(round_id, published_only=public)
    files["audit.jsonl"] = await uow.rounds.audit_jsonl(round_id)
    files.update(await bundle_evidence(uow, round_id, store, public=public))
    return files, redacted


async def archive_round(uow: UnitOfWork, actor: Actor, round_id: int, destination: str | Path, *, store: FileStore | None = None) -> Path:
    """Write the bundle to a folder, or a ZIP when the name ends in .zip."""
    files, redacted = await bundle_files(uow, actor, round_id, store=store)
    path = proof.write_bundle(destination, files, redacted, audit_head=await uow.audit.head())
    await uow.audit.record(
        actor,
        "round.archived",
        "round",
        round_id,
        {
            "files": {name: proof.sha256_hex(content) for name, content in sorted(files.items())},
        },
    )
    return path
