"""The layers (SPEC section 7): core/ imports no adapter framework; adapters (bot, cli, scheduler,
web, service.py) reach the data only through core's services, which authorize every call; and no
module of jointcheck imports, directly or round about, itself."""

from __future__ import annotations

import ast
from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import jointcheck
from jointcheck.core.uow import UnitOfWork

FORBIDDEN = ("aiogram", "apscheduler", "aiohttp", "jointcheck.bot", "jointcheck.scheduler", "jointcheck.web", "jointcheck.cli")
PACKAGE = Path(jointcheck.__file__).parent
CORE = PACKAGE / "core"
ADAPTERS = ("bot", "cli", "scheduler", "web", "service.py")
# What a unit of work holds besides its transaction: its repositories (and the audit log, the
# outbox), made on first use; read from the class so that a repository added there is covered.
REPOSITORIES = frozenset(name for name, value in vars(UnitOfWork).items() if isinstance(value, cached_property)) | {"session"}


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


# ---- adapters call services -----------------------------------------------------------------------


def _units_of_work(tree: ast.AST) -> set[str]:
    """Names a unit of work goes by here: `uow` or `self.uow`, what every adapter calls it (handlers
    get it by that name), and any parameter annotated UnitOfWork."""
    annotated = {
        arg.arg for arg in ast.walk(tree) if isinstance(arg, ast.arg) and "UnitOfWork" in ast.unparse(arg.annotation or ast.Constant(""))
    }
    return annotated | {"uow"}


def _offences(tree: ast.AST) -> list[str]:
    """Where this code reaches past core's services: a repository of a unit of work, or authorize()."""
    units = _units_of_work(tree)

    def is_unit(node: ast.expr) -> bool:
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        return name in units or "uow" in name.lower()

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in REPOSITORIES and is_unit(node.value):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Name | ast.Attribute) and (node.id if isinstance(node, ast.Name) else node.attr) == "authorize":
            found.append(f"line {node.lineno}: authorize")
        elif isinstance(node, ast.ImportFrom) and any(alias.name == "authorize" for alias in node.names):
            found.append(f"line {node.lineno}: imports authorize")
    return found


def _adapter_files() -> list[Path]:
    return [path for name in ADAPTERS for path in ([PACKAGE / name] if name.endswith(".py") else sorted((PACKAGE / name).rglob("*.py")))]


def test_the_check_sees_a_repository_reached_and_authorize_called():
    source = """
from jointcheck.core.authz import authorize
async def handler(uow, actor):
    async with uow:
        round_ = await uow.rounds.get(1)
        self.uow.departments.all()
        authorize(actor, None)
        await uow.commit()
def other(unit: UnitOfWork, report):
    return unit.tasks, report.tasks
"""
    assert set(_offences(ast.parse(source))) == {
        "line 2: imports authorize",
        "line 5: uow.rounds",
        "line 6: self.uow.departments",
        "line 7: authorize",
        "line 10: unit.tasks",
    }


def test_adapters_reach_no_repository_and_authorize_nothing():
    """Adapters open and commit units of work, and pass them to core's services, which authorize
    (core/authz.py) and read or change the data; an adapter doing either itself would decide
    outside core."""
    assert {"rounds", "tasks", "users", "outbox", "fsm_states"} <= REPOSITORIES
    files = _adapter_files()
    assert len(files) > 20
    offenders = [
        f"{path.relative_to(PACKAGE)} {where}" for path in files for where in _offences(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


# ---- no import circle -----------------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(name: str, path: Path, modules: dict[str, Path]):
    """The modules of jointcheck this module imports anywhere in it (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:  # a module of the package
                    yield f"{base}.{alias.name}"
                elif base in modules:  # a name defined in the module
                    yield base


def test_no_module_imports_itself_round_about():
    modules = _modules()
    assert "jointcheck.bot.routers.convener" in modules
    graph = {name: set(_imported(name, path, modules)) - {name} for name, path in modules.items()}
    assert graph["jointcheck.bot.routers.convener"], "the import graph is empty: the check would see nothing"
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None
