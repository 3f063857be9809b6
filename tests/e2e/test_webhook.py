"""`jointcheck run --webhook`: updates arrive by the Bot API webhook on the site, only with the secret
token; several such workers share one port, one PostgreSQL and Redis, and exactly one of them leads
the scheduler. Also the emulator's side of it: setWebhook, delivery with retries, getUpdates refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import func, select

from jointcheck.config import Settings
from jointcheck.core.models import FsmState
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.service import Service
from jointcheck.testing.emulator.webhook import SECRET_HEADER
from tests.e2e.test_bot_propose import TO_RATIOS, TO_SUMMARY, confirm, run
from tests.e2e.test_service import CUT_OFF, GRACE, _wait, held_update, stop_timed
from tests.round_world import OPERATOR, build_province

SECRET = "s3cret_Token-42"
LEADS = "this process leads the scheduler"
HANDLED = "is handled"  # aiogram's INFO line for each update a worker handled
RETRY = 0.2  # JOINTCHECK_LEADER_RETRY_SECONDS of the worker processes
# Telegram ids of this file's own, so that its FSM keys in the shared Redis database are its own too.
LEAD, INVITED, STRANGER = 7_300_001, 7_300_002, 7_300_003


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/telegram/webhook"


# ---- the emulator ------------------------------------------------------------------------------


async def test_the_emulator_posts_updates_to_the_webhook_retries_and_refuses_getupdates(emulator):
    posted: list[tuple[str | None, str]] = []
    statuses = iter([500])  # the first post fails, the next ones succeed

    async def receive(request: web.Request) -> web.Response:
        posted.append((request.headers.get(SECRET_HEADER), (await request.json())["message"]["text"]))
        return web.json_response({}, status=next(statuses, 200))

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    bot = Bot(emulator.token, session=AiohttpSession(api=emulator.api_server))
    try:
        with pytest.raises(TelegramBadRequest, match="secret token"):
            await bot.set_webhook(url, secret_token="not secret!")
        polling = asyncio.create_task(bot.get_updates(timeout=10))
        await _wait(lambda: emulator.calls_to("getUpdates"))
        await bot.set_webhook(url, secret_token=SECRET)
        with pytest.raises(TelegramConflictError, match="setWebhook"):
            await polling  # a waiting long poll ends
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

        user = emulator.user(5001, "Ann")
        await user.send("hello")
        await _wait(lambda: emulator.pending_updates == [])
        assert [post.status for post in emulator.webhook_posts] == [500, 200]
        assert posted == [(SECRET, "hello"), (SECRET, "hello")]
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 0)
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"

        await bot.delete_webhook()
        await user.send("polled")
        assert [update.message.text for update in await bot.get_updates()] == ["polled"]
        assert len(posted) == 2
    finally:
        await bot.session.close()
        await runner.cleanup()


# ---- one worker, in process --------------------------------------------------------------------


async def test_webhook_mode_answers_through_the_webhook_and_only_with_the_secret(emulator, db_url):
    port = free_port()
    settings = Settings(
        database_url=db_url,
        bot_token=SecretStr(emulator.token),
        bot_api_url=emulator.base_url,
        site_port=port,
        webhook_url=webhook_url(port),
        webhook_secret=SecretStr(SECRET),
    )
    service = Service(settings, handle_signals=False, webhook=True)
    running = asyncio.create_task(service.run())
    try:
        await _wait(lambda: emulator.webhook is not None or running.done())
        user = emulator.user(4242, "李", language_code="zh-hans")
        await user.send("/help")
        await user.wait_for("/start")
        await _wait(lambda: emulator.pending_updates == [])  # the post is answered once the update is handled
        assert [post.status for post in emulator.webhook_posts] == [200] and emulator.calls_to("getUpdates") == []
        (set_webhook,) = emulator.calls_to("setWebhook")
        assert set_webhook.params["secret_token"] == SECRET and set_webhook.params["drop_pending_updates"] is False
        assert {"message", "callback_query"} <= set(set_webhook.params["allowed_updates"])

        eve = emulator.user(4343, "Eve", language_code="en")
        forged = {
            "update_id": 10**6,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": eve.chat.api(),
                "from": eve.api(),
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        calls = len(emulator.calls)
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}):
                async with http.post(webhook_url(port), json=forged, headers=headers) as response:
                    assert response.status == 401
            # the update is handled before the answer: a refused one was not handled at all
            assert len(emulator.calls) == calls and eve.messages == []
            # a header beyond ASCII is refused like any wrong one, not answered with a 500
            async with http.post(webhook_url(port), json=forged, headers={SECRET_HEADER: "密钥".encode().decode("latin-1")}) as response:
                assert response.status == 401
            for body in (b"{not json", b"[1, 2]", b'{"update_id": "x"}'):
                async with http.post(
                    webhook_url(port), data=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
                ) as response:
                    assert response.status == 400, body
            assert len(emulator.calls) == calls and eve.messages == []
            async with http.post(webhook_url(port), json=forged, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            # Telegram posts an update again when it missed the answer: handled once all the same
            async with http.post(webhook_url(port), json=forged, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
        assert "/start" in eve.last.text  # the same update with the secret is answered
        assert len(eve.messages) == 1
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert running.cancelled() or running.exception() is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_webhook_shutdown_waits_for_an_update_in_flight_within_the_grace_and_leaves_one_beyond_to_telegram(emulator, db_url, caplog):
    port = free_port()
    settings = Settings(
        database_url=db_url,
        bot_token=SecretStr(emulator.token),
        bot_api_url=emulator.base_url,
        site_port=port,
        webhook_url=webhook_url(port),
        webhook_secret=SecretStr(SECRET),
        shutdown_grace_seconds=GRACE,
    )
    user = emulator.user(4245, "Ann", language_code="en")

    async def start() -> tuple[Service, asyncio.Task]:
        service, webhooks = Service(settings, handle_signals=False, webhook=True), len(emulator.calls_to("setWebhook"))
        running = asyncio.create_task(service.run())
        await _wait(lambda: len(emulator.calls_to("setWebhook")) > webhooks or running.done())
        return service, running

    service, running = await start()
    await held_update(emulator, user)
    assert await stop_timed(service, running, GRACE / 4, emulator) < GRACE
    assert [post.status for post in emulator.webhook_posts] == [200] and emulator.pending_updates == []
    assert CUT_OFF not in caplog.text and len(user.messages) == 1

    service, running = await start()
    await held_update(emulator, user)
    assert GRACE <= await stop_timed(service, running, None, emulator) < GRACE + 2
    assert CUT_OFF in caplog.text
    cut = emulator.webhook_posts[1]
    assert cut.status is None and cut.error.startswith("Connection failed")  # the POST went unanswered
    assert [update["update_id"] for update in emulator.pending_updates] == [cut.update_id]  # Telegram still has it

    emulator.release_answers()
    service, running = await start()  # the next worker up gets it again, and handles it
    try:
        await _wait(lambda: emulator.pending_updates == [])
        assert emulator.webhook_posts[-1].update_id == cut.update_id and emulator.webhook_posts[-1].status == 200
        assert len(user.messages) == 3  # the cut-off handling's answer had been sent, and the redelivery's
    finally:
        await service.stop()
        await running


@pytest.mark.parametrize(
    ("database", "env", "error"),
    [
        ("sqlite", {}, "needs JOINTCHECK_WEBHOOK_URL"),
        ("sqlite", {"WEBHOOK_URL": "https://bot.example.gov.cn/telegram/webhook"}, "needs JOINTCHECK_WEBHOOK_SECRET"),
        (
            "sqlite",
            {"WEBHOOK_URL": "https://bot.example.gov.cn/telegram/webhook", "WEBHOOK_SECRET": "not secret!"},
            "needs JOINTCHECK_WEBHOOK_SECRET: 1-256 characters",
        ),
        ("sqlite", {"SITE_REUSE_PORT": "1"}, "need PostgreSQL"),
        ("postgresql", {"SITE_REUSE_PORT": "1"}, "need JOINTCHECK_REDIS_URL"),
    ],
)
def test_webhook_mode_refuses_to_start_without_what_it_needs(cli, monkeypatch, tmp_path, database, env, error):
    for name in ("REDIS_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "SITE_REUSE_PORT"):
        monkeypatch.delenv(f"JOINTCHECK_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"JOINTCHECK_{name}", value)
    monkeypatch.setenv("JOINTCHECK_BOT_TOKEN", "1:x")
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}" if database == "sqlite" else "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    refused = cli(url, "run", "--webhook")
    assert refused.code == 1 and refused.err.startswith("error: ") and error in refused.err
    assert refused.err.count("\n") == 1


def test_reuse_port_without_webhook_is_refused(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("JOINTCHECK_SITE_REUSE_PORT", "1")
    refused = cli(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "run")
    assert refused.code == 1 and "use --webhook" in refused.err


# ---- several workers, as processes -------------------------------------------------------------


class Worker:
    """`jointcheck run --webhook` as a process, and what it logs."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reading: asyncio.Task | None = None

    async def start(self) -> Worker:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jointcheck.cli.main",
            "run",
            "--webhook",
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reading = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    def logged(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def wait_log(self, text: str, timeout: float = 30.0) -> None:
        try:
            await _wait(lambda: self.logged(text) or self.process.returncode is not None, timeout)
        except AssertionError:
            raise AssertionError(f"no {text!r} logged within {timeout}s:\n{''.join(self.lines)}") from None
        assert self.logged(text), "".join(self.lines)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end in time."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self._reading


async def officers(uow_factory) -> None:
    """The province of tests/round_world.py, with a SAMR officer (LEAD) and a TAX officer (INVITED)."""
    await build_province(uow_factory, n_targets=20)
    for telegram_id, department in ((LEAD, "SAMR"), (INVITED, "TAX")):
        async with uow_factory() as uow:
            issued = await issue_invite(uow, OPERATOR, "officer", department=department)
            await redeem_invite(uow, issued.code, telegram_id, department.lower())
            await uow.commit()


async def lead_fsm_keys(redis: Redis) -> list[bytes]:
    return [key async for key in redis.scan_iter(f"fsm:{LEAD}:{LEAD}:*")]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_webhook_workers_share_one_port_and_one_database_and_one_leads(emulator, db_url, uow_factory, redis_url):
    await officers(uow_factory)
    redis = Redis.from_url(redis_url)
    if keys := await lead_fsm_keys(redis):
        await redis.delete(*keys)
    port = free_port()
    env = {
        **os.environ,
        "JOINTCHECK_DATABASE_URL": db_url,
        "JOINTCHECK_REDIS_URL": redis_url,
        "JOINTCHECK_BOT_TOKEN": emulator.token,
        "JOINTCHECK_BOT_API_URL": emulator.base_url,
        "JOINTCHECK_SITE_PORT": str(port),
        "JOINTCHECK_SITE_REUSE_PORT": "1",
        "JOINTCHECK_WEBHOOK_URL": webhook_url(port),
        "JOINTCHECK_WEBHOOK_SECRET": SECRET,
        "JOINTCHECK_LEADER_RETRY_SECONDS": str(RETRY),
        "JOINTCHECK_OUTBOX_INTERVAL": "0.05",
        "JOINTCHECK_LOG_LEVEL": "INFO",
    }
    first, second = Worker(env), Worker(env)
    samr, tax, stranger = emulator.user(LEAD, "samr"), emulator.user(INVITED, "tax"), emulator.user(STRANGER, "李")
    try:
        await first.start()
        await first.wait_log(LEADS)
        await run(samr, TO_RATIOS[:5])  # the dialogue begins on the only worker
        assert await lead_fsm_keys(redis)  # the conversation's state is in Redis, not in the database
        async with uow_factory() as uow:
            assert (await uow.session.execute(select(func.count()).select_from(FsmState))).scalar_one() == 0
        await second.start()
        await second.wait_log("site on")

        # the kernel spreads new connections over both: each handles some of a stranger's /help
        before = first.logged(HANDLED), second.logged(HANDLED)

        def both_handled() -> bool:
            return first.logged(HANDLED) > before[0] and second.logged(HANDLED) > before[1]

        for _ in range(40):
            if both_handled():
                break
            await stranger.send("/help")
            await stranger.wait_for("/start")
        await _wait(both_handled, timeout=5)  # the last one's log line may still be on its way
        await asyncio.sleep(5 * RETRY)  # the second tried to lead, more than once
        assert (first.logged(LEADS), second.logged(LEADS)) == (1, 0)

        first.process.kill()
        await first.process.wait()
        await second.wait_log(LEADS, timeout=5)

        # the dialogue carries on on the second worker, from the state the first one left in Redis
        await run(samr, TO_RATIOS[5:])
        await run(samr, TO_SUMMARY)
        await confirm(samr)
        await tax.wait_for("联合抽查邀请", timeout=10)  # sent by the new leader's outbox sender
        assert emulator.pending_updates == []
        first_set, second_set = emulator.calls_to("setWebhook")
        assert first_set.params == second_set.params and first_set.params["url"] == webhook_url(port)
    finally:
        for worker in (first, second):
            if worker.process is not None:
                await worker.stop()
        if keys := await lead_fsm_keys(redis):
            await redis.delete(*keys)
        await redis.aclose()
    assert second.process.returncode == 0, "".join(second.lines)
