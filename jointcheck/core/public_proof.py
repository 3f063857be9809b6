"""The public proof of a jointcheck round, runnable on its own.

This one file is what an outsider downloads from the public site to re-derive a draw: canonical
JSON, the audit event hash, draw-v1 and assign-v1 (SPEC section 4) and a bundle verifier.
It uses the Python standard library only, and the service imports its functions from here, so the
code that draws and the code that checks a draw are the same code.
"""

from __future__ import annotations

import hashlib
import json

AUDIT_GENESIS = "0" * 64


def canonical_json(value: object) -> bytes:
    """Keys sorted, no spaces, non-ASCII kept, UTF-8: the only JSON form that gets hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def audit_event_hash(prev_hash: str, event: dict) -> str:
    """Hash of one audit event: its predecessor's hash, a LF, then the canonical JSON of its fields.

    `event` holds exactly the keys seq, at, actor, action, entity, entity_id and payload; because
    `seq` is covered, moving a row to another place breaks the chain as surely as editing it.
    """
    return sha256_hex(prev_hash.encode("ascii") + b"\n" + canonical_json(event))
