"""core/ is the domain: it must not import the adapters' frameworks (SPEC section 7)."""

from __future__ import annotations

import ast
from pathlib import Path

import jointcheck

FORBIDDEN = ("aiogram", "apscheduler", "aiohttp", "jointcheck.bot", "jointcheck.scheduler", "jointcheck.web", "jointcheck.cli")
CORE = Path(jointcheck.__file__).parent / "core"


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_core_imports_no_adapter_framework():
    files = list(CORE.rglob("*.py"))
    assert len(files) > 5
    offenders = [
        f"{path.relative_to(CORE)}: {name}"
        for path in files
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offenders == []


def test_public_proof_uses_the_standard_library_only():
    import sys

    names = {name.split(".")[0] for name in _imports(CORE / "public_proof.py")}
    assert names <= set(sys.stdlib_module_names) | {"__future__"}, names - set(sys.stdlib_module_names)
