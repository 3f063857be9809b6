"""`jointcheck run`: the bot, the outbox sender and the site in one process, in-process and as the
real console script (stopped by SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import aiohttp
import pytest
from pydantic import SecretStr

from jointcheck.config import Settings
from jointcheck.core.uow import UnitOfWork
from jointcheck.service import Service


async def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def test_the_service_polls_sends_the_outbox_and_serves_the_health_check(emulator, db_url, sessionmaker, caplog):
    # a Bot API server behind a proxy that wants credentials: they go in the URL, and never in the log
    api_url = emulator.base_url.replace("://", "://relay:pa55w0rd@")
    settings = Settings(database_url=db_url, bot_token=SecretStr(emulator.token), bot_api_url=api_url, site_port=0, outbox_interval=0.05)
    service = Service(settings, handle_signals=False)
    running = asyncio.create_task(service.run())
    try:
        await _wait(lambda: service.site_port is not None or running.done())
        user = emulator.user(4242, "李", language_code="zh-hans")
        await user.send("/help")
        await user.wait_for("/start")
        assert "relay:***@127.0.0.1" in caplog.text and "pa55w0rd" not in caplog.text

        async with UnitOfWork(sessionmaker) as uow:  # a notice queued by some state change
            uow.outbox.add(4242, "task_staffed", {"task_id": 9}, dedupe_key="t")
            await uow.commit()
        await user.wait_for("9", timeout=10)

        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{service.site_port}/healthz") as response:
            assert response.status == 200 and (await response.json()) == {"status": "ok"}
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert running.cancelled() or running.exception() is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_jointcheck_run_as_a_process_stops_cleanly_on_sigterm(emulator, db_url):
    env = {
        **os.environ,
        "JOINTCHECK_DATABASE_URL": db_url,
        "JOINTCHECK_BOT_TOKEN": emulator.token,
        "JOINTCHECK_BOT_API_URL": emulator.base_url,
        "JOINTCHECK_SITE_PORT": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jointcheck.cli.main", "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        user = emulator.user(4243, "Ann", language_code="en")
        await user.send("/help")
        await user.wait_for("/start", timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()


GRACE = 1.0  # JOINTCHECK_SHUTDOWN_GRACE_SECONDS of the shutdown tests
CUT_OFF = "cut off"  # logged for the updates still being handled when the grace ends


async def held_update(emulator, user) -> None:
    """The user's /help is in flight: the bot's answer is sent, and the emulator holds its reply."""
    sent = len(emulator.calls_to("sendMessage"))
    emulator.hold_answers()
    await user.send("/help")
    await _wait(lambda: len(emulator.calls_to("sendMessage")) > sent)


async def stop_timed(service: Service, running: asyncio.Task, release_after: float | None, emulator) -> float:
    """Stop the service (what SIGTERM does); release the held answer after `release_after` seconds
    (None: never); the seconds until `run` returned."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    stopping = asyncio.create_task(service.stop())
    if release_after is not None:
        await asyncio.sleep(release_after)
        assert not running.done()  # waiting for the update in flight
        emulator.release_answers()
    await running
    await stopping
    return loop.time() - started


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_polling_shutdown_waits_for_an_update_in_flight_within_the_grace_and_cuts_off_one_beyond(emulator, db_url, caplog):
    settings = Settings(
        database_url=db_url, bot_token=SecretStr(emulator.token), bot_api_url=emulator.base_url, site_port=0, shutdown_grace_seconds=GRACE
    )
    user = emulator.user(4244, "Ann", language_code="en")

    service = Service(settings, handle_signals=False)
    running = asyncio.create_task(service.run())
    await held_update(emulator, user)
    assert await stop_timed(service, running, GRACE / 4, emulator) < GRACE
    assert CUT_OFF not in caplog.text and "/start" in user.last.text

    service = Service(settings, handle_signals=False)
    running = asyncio.create_task(service.run())
    await held_update(emulator, user)
    assert GRACE <= await stop_timed(service, running, None, emulator) < GRACE + 2
    assert f"1 update(s) still being handled after {GRACE}s: {CUT_OFF}" in caplog.text
    emulator.release_answers()
