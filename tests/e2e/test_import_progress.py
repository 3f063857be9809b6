"""The import shows a Rich progress bar with rows per second on a terminal, and nothing otherwise."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.writers import write_table

EXE = str(Path(sys.executable).with_name("jointcheck"))


def _prepared(sqlite_template: str, tmp_path: Path) -> tuple[dict, Path]:
    """A terminal is no database matter: SQLite alone."""
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite")
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    env = {**os.environ, "JOINTCHECK_DATABASE_URL": db_url, "COLUMNS": "120", "TERM": "xterm"}
    subprocess.run([EXE, "admin", "department", "add", "SAMR", "x"], env=env, check=True, capture_output=True)
    path = tmp_path / "t.csv"
    write_table(path, "targets", iter_synthetic_targets(25_000, 5, ("SAMR",)))
    return env, path


def test_progress_on_a_terminal(sqlite_template, tmp_path):
    env, path = _prepared(sqlite_template, tmp_path)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([EXE, "import", "targets", str(path)], env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closes when the child exits
            break
        if not chunk:
            break
        output += chunk
    assert proc.wait(timeout=120) == 0
    text = output.decode("utf-8", "replace")
    assert "rows/s" in text and "importing" in text
    assert "imported targets: 25000 rows read" in text


def test_quiet_when_not_a_terminal(sqlite_template, tmp_path):
    env, path = _prepared(sqlite_template, tmp_path)
    proc = subprocess.run([EXE, "import", "targets", str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "rows/s" not in proc.stdout
    assert proc.stdout.startswith("imported targets: 25000 rows read")
