"""The service's own store of evidence (SPEC capability 7): photos and documents inspectors send,
each kept once under the SHA-256 of its content (`ab/abcdef…`), so a file is never stored twice,
never overwritten with other content, and its name proves what it holds."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from jointcheck.core.errors import NotFound

_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_BYTES = 50 * 1024 * 1024  # Telegram lets a bot download up to 20 MB; this bounds anything else


class FileStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _HEX64.fullmatch(sha256):
            raise NotFound(f"{sha256!r} is not a SHA-256")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Keep `content`; returns its SHA-256. Written to a temporary file and renamed, so a crash
        leaves either nothing or the whole file."""
        if len(content) > MAX_BYTES:
            raise ValueError(f"a file of {len(content)} bytes is over the store's limit of {MAX_BYTES}")
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as partial:
            partial.write(content)
            partial.flush()
            os.fsync(partial.fileno())
        os.replace(partial.name, target)
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            content = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"the file store has no file {sha256}") from None
        if hashlib.sha256(content).hexdigest() != sha256:
            raise NotFound(f"the stored file {sha256} is damaged: its content no longer matches its name")
        return content

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()
