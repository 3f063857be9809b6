"""The wheel runs on its own: built from the sources without their compiled catalogs, installed in a
fresh virtual environment with its dependencies, and run outside the checkout, its bot answers in
Chinese (the .mo catalogs are compiled by the build, not by `make`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jointcheck.testing.emulator.handles import WaitTimeout

REPO = Path(__file__).resolve().parents[2]
# What a build of the package does not read; *.mo so that only the build's own compilation can put
# catalogs in the wheel.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.mo", "*.db*", "*-data", ".*cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (no system site-packages) holding the wheel and its dependencies; its bin/."""
    work = tmp_path_factory.mktemp("wheel")
    sources = work / "sources"
    shutil.copytree(REPO, sources, ignore=NOT_SOURCES)
    assert not list(sources.rglob("*.mo"))
    # The build backend and babel come from this test's own environment (no build isolation, so
    # nothing is fetched): see [build-system] requires.
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", work / "dist", sources], check=True, cwd=work)
    (wheel,) = (work / "dist").glob("jointcheck-*.whl")
    # This environment's pip installs into the new one (--python), which needs no pip of its own;
    # no byte-compiling ahead: imports compile what they use. A third of the time, both together.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", work / "venv"], check=True)
    bin_ = work / "venv" / "bin"
    subprocess.run([*pip, "--python", bin_ / "python", "install", "--no-compile", wheel], check=True, cwd=work)
    return bin_


def _outside_the_checkout(**settings: str) -> dict[str, str]:
    """This environment without what would point the installed package at the checkout or its settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JOINTCHECK_", "VIRTUAL_ENV"))}
    env.update({f"JOINTCHECK_{k.upper()}": v for k, v in settings.items()})
    return env


async def test_the_installed_wheel_answers_start_in_chinese(installed, emulator, tmp_path):
    env = _outside_the_checkout(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'jointcheck.db'}",
        bot_token=emulator.token,
        bot_api_url=emulator.base_url,
        site_port="0",
    )
    where = subprocess.run(
        [installed / "python", "-c", "import jointcheck; print(jointcheck.__file__)"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where  # not the checkout
    subprocess.run([installed / "jointcheck", "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True)

    process = await asyncio.create_subprocess_exec(
        installed / "jointcheck", "run", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    erin = emulator.user(1006, "Erin", language_code="zh-hans")
    try:
        await erin.send("/start")
        answer = await erin.wait_for("邀请链接", timeout=30)
    except WaitTimeout:
        answer = None
    with contextlib.suppress(ProcessLookupError):  # gone already when it failed at its start
        process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert answer is not None, err.decode()
    assert "t.me/jc_test_bot?start=" in answer.text
    assert process.returncode == 0, err.decode()
    assert b"No translation file" not in err
