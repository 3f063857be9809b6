"""Kill -9 while a polled update is being handled, before its commit: polling had confirmed the
update to Telegram already, and the restarted service handles it from the received_updates table."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.e2e.test_bot_onboarding import stored_user
from tests.e2e.test_crash_draw import start_service, until_logged
from tests.e2e.test_service import _wait


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_update_cut_off_before_its_commit_is_handled_after_a_restart(emulator, db_url, sessionmaker):
    ann = emulator.user(1001, "Ann", language_code="zh-hans")
    first = await start_service(emulator, db_url, JOINTCHECK_CRASH_AT="commit:update")
    try:
        await ann.press_data(9999, "lang:1001:en")
        await until_logged(first, "crash point commit:update reached")
        await _wait(lambda: emulator.pending_updates == [])  # the next getUpdates confirmed it to Telegram
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert await stored_user(sessionmaker, ann.id) is None and ann.messages == []

    second = await start_service(emulator, db_url)
    try:
        await ann.wait_for("Language set: English.", timeout=30, since_last_action=False)
        await asyncio.sleep(0.5)  # anything handled twice would have answered by now
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)
    assert (await stored_user(sessionmaker, ann.id))[0] == "en"
    assert sum("Language set" in (m.text or "") for m in ann.messages) == 1
