"""Open-data feeds (SPEC capability 7): results, item lists and rounds as CSV (UTF-8 with a BOM,
which Excel needs to show Chinese) and JSON, with stable field names, ETag and Last-Modified.

The results feed is streamed a keyset batch at a time: a million rows never sit in memory, and
a client that already has the current version gets 304 without a row being read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from jointcheck.core import public_proof as proof
from jointcheck.core.services import audit_heads, disclosure
from jointcheck.core.services.archive import bundle_files
from jointcheck.core.uow import UnitOfWork
from jointcheck.web.keys import SITE_SESSIONMAKER

BOM = "\ufeff"
ITEM_FIELDS = (
    "code",
    "version",
    "department_code",
    "department_name",
    "name",
    "category",
    "ratio_cap",
    "basis",
    "subject",
    "content",
    "method",
    "object_kind",
)
ROUND_FIELDS = (
    "round_id",
    "title",
    "lead_department_code",
    "region",
    "status",
    "approved_at",
    "commitment",
    "frozen_at",
    "seed",
    "seeded_at",
    "drawn_at",
    "due_date",
)
HEAD_FIELDS = ("published_at", "occasion", "round_id", "seq", "hash")


def _not_modified(request: web.Request, etag: str) -> bool:
    return etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]


def _headers(etag: str, last_modified, content_type: str, filename: str) -> dict[str, str]:
    headers = {
        "ETag": etag,
        "Content-Type": content_type,
        "Cache-Control": "public, max-age=60",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(dt.UTC), usegmt=True)
    return headers


def _sessionmaker(request: web.Request):
    return request.app[SITE_SESSIONMAKER]


async def _results(request: web.Request, kind: str) -> web.StreamResponse:
    query = disclosure.check_query({k: v for k, v in request.query.items() if k != "lang"})
    uow = UnitOfWork(_sessionmaker(request), read_only=True)
    async with uow:
        etag, last_modified = await disclosure.results_version(uow)
        etag = etag[:-1] + f"-{kind}" + '"'
        if _not_modified(request, etag):
            return web.Response(status=304, headers={"ETag": etag})
        content_type = "text/csv; charset=utf-8" if kind == "csv" else "application/json; charset=utf-8"
        response = web.StreamResponse(headers=_headers(etag, last_modified, content_type, f"results.{kind}"))
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        if kind == "csv":
            await response.write((BOM + ",".join(disclosure.RESULT_FIELDS) + "\r\n").encode())
        else:
            await response.write(b"[")
        first = True
        async for text in disclosure.results_stream(uow, query, kind):
            if kind == "csv":
                await response.write(text.encode())
            else:
                await response.write((("\n" if first else ",\n") + text).encode())
            first = False
        if kind != "csv":
            await response.write(b"\n]\n")
        await response.write_eof()
        return response


async def results_csv(request: web.Request) -> web.StreamResponse:
    return await _results(request, "csv")


async def results_json(request: web.Request) -> web.StreamResponse:
    return await _results(request, "json")


def _small(request: web.Request, etag: str, last_modified, fields, rows: list[list], kind: str, name: str) -> web.Response:
    if _not_modified(request, etag):
        return web.Response(status=304, headers={"ETag": etag})
    if kind == "csv":
        out = io.StringIO()
        out.write(BOM)
        writer = csv.writer(out)
        writer.writerow(fields)
        writer.writerows(rows)
        body, content_type = out.getvalue(), "text/csv; charset=utf-8"
    else:
        body = json.dumps([dict(zip(fields, row)) for row in rows], ensure_ascii=False, indent=1)
        content_type = "application/json; charset=utf-8"
    return web.Response(body=body.encode(), headers=_headers(etag, last_modified, content_type, f"{name}.{kind}"))


async def _items(request: web.Request, kind: str) -> web.Response:
    async with UnitOfWork(_sessionmaker(request), read_only=True) as uow:
        etag = await disclosure.items_version(uow)
        items = await disclosure.current_items(uow)
        rows = [
            [i.code, i.version, d.code, d.name, i.name, i.category, i.ratio_cap, i.basis, i.subject, i.content, i.method, i.object_kind]
            for i, d in items
        ]
        last = max((i.created_at for i, _ in items if i.created_at), default=None)
    return _small(request, etag[:-1] + f'-{kind}"', last, ITEM_FIELDS, rows, kind, "items")


async def items_csv(request: web.Request) -> web.Response:
    return await _items(request, "csv")


async def items_json(request: web.Request) -> web.Response:
    return await _items(request, "json")


async def _rounds(request: web.Request, kind: str) -> web.Response:
    async with UnitOfWork(_sessionmaker(request), read_only=True) as uow:
        rounds = await disclosure.rounds_list(uow, None, 100_000)
        plain = disclosure.plain
        rows = [
            [
                r.id,
                r.title,
                lead.code,
                r.region,
                r.status,
                plain(r.approved_at),
                draw.commitment if draw else None,
                plain(draw.frozen_at) if draw else None,
                draw.seed_digits if draw else None,
                plain(draw.seeded_at) if draw else None,
                plain(draw.drawn_at) if draw else None,
                plain(r.due_date),
            ]
            for r, lead, draw in rounds
        ]
        stamps = [t for r, _, d in rounds for t in (r.approved_at, d and d.seeded_at, d and d.drawn_at) if t]
    etag = '"o-' + proof.sha256_hex(json.dumps(rows, ensure_ascii=False).encode())[:16] + f'-{kind}"'
    return _small(request, etag, max(stamps, default=None), ROUND_FIELDS, rows, kind, "rounds")


async def rounds_csv(request: web.Request) -> web.Response:
    return await _rounds(request, "csv")


async def rounds_json(request: web.Request) -> web.Response:
    return await _rounds(request, "json")


async def _heads(request: web.Request, kind: str) -> web.Response:
    # A few thousand rows at most (one a day, one per approval and draw): one read, no streaming.
    async with UnitOfWork(_sessionmaker(request), read_only=True) as uow:
        heads = await audit_heads.published_heads(uow, limit=1_000_000)
    rows = [[disclosure.plain(h.published_at), h.occasion, h.round_id, h.seq, h.hash] for h in heads]
    newest = heads[0] if heads else None
    etag = f'"h-{newest.id if newest else 0}-{kind}"'  # heads are only ever added
    return _small(request, etag, newest.published_at if newest else None, HEAD_FIELDS, rows, kind, "heads")


async def heads_csv(request: web.Request) -> web.Response:
    return await _heads(request, "csv")


async def heads_json(request: web.Request) -> web.Response:
    return await _heads(request, "json")


async def public_bundle(request: web.Request, uow: UnitOfWork, round_id: int) -> web.StreamResponse:
    """The round's public bundle (conflicts.tsv, which names who recuses from whom, left out), as
    a deterministic ZIP that `public_proof.py` verifies. Its manifest carries the audit chain's head
    as it is now (like `jointcheck round archive`), so the bundle changes as the chain grows: its
    round's events cannot be cut later without the head showing it."""
    async with uow:
        await disclosure.public_round(uow, round_id)
        files, redacted = await bundle_files(uow, None, round_id, public=True)
        head = await audit_heads.chain_head(uow)
    with tempfile.TemporaryDirectory() as folder:
        path = proof.write_bundle(Path(folder) / f"round-{round_id}.zip", files, redacted, audit_head=head)
        body = path.read_bytes()
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="round-{round_id}.zip"',
            "ETag": '"' + proof.sha256_hex(body)[:32] + '"',
        },
    )
