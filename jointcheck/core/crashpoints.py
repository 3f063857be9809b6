"""Named points inside a transaction where a test can stop the process, to kill it there.

    await crashpoint("draw:persisted")

does nothing unless JOINTCHECK_CRASH_AT names that point (comma-separated names); then it logs
`crash point <name> reached` and waits forever, the transaction still open, for the test to kill
the process (tests/e2e/test_crash_draw.py, test_update_replay.py). The rest of the process goes on:
what a crash at that moment would find in flight elsewhere is in flight.
"""

from __future__ import annotations

import asyncio
import logging
import os

ENV = "JOINTCHECK_CRASH_AT"
log = logging.getLogger("jointcheck.crashpoints")


async def crashpoint(name: str) -> None:
    if name in os.environ.get(ENV, "").split(","):
        log.warning("crash point %s reached", name)
        await asyncio.Event().wait()
