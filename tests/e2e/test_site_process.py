"""`jointcheck site`: the public site as its own read-only process."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from jointcheck.core import migrate

EXE = str(Path(sys.executable).with_name("jointcheck"))


def test_site_serves_pages_and_refuses_changes(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"
    migrate.upgrade(url)
    env = dict(os.environ, JOINTCHECK_DATABASE_URL=url, JOINTCHECK_SITE_PORT="0", JOINTCHECK_SITE_HOST="127.0.0.1")
    proc = subprocess.Popen([EXE, "site"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("site on http://127.0.0.1:"), line + proc.stderr.read()
        base = line.split(" ", 2)[2].strip().rstrip("/")
        with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(base + "/en/", timeout=10) as response:
            body = response.read().decode()
            assert response.status == 200 and 'lang="en"' in body and "Set-Cookie" not in response.headers
        try:
            urllib.request.urlopen(urllib.request.Request(base + "/results", data=b"q=x", method="POST"), timeout=10)
            raise AssertionError("a POST was accepted")
        except urllib.error.HTTPError as refused:
            assert refused.code == 405
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
