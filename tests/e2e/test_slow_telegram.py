"""Telegram taking its time to answer holds up no one else: an update's transaction is never open
while the bot waits for a Bot API answer (bot/middlewares/database.py, CommitBeforeTelegram)."""

from __future__ import annotations

import asyncio
import time

from jointcheck.cli.main import main


async def test_console_and_other_users_go_on_while_telegram_holds_its_answers(emulator, db_url, running, monkeypatch):
    monkeypatch.setenv("JOINTCHECK_DATABASE_URL", db_url)
    ann, bob = emulator.user(1001, "Ann", language_code="en"), emulator.user(1002, "Bob", language_code="en")
    emulator.hold_answers()
    try:
        await ann.send("/help")
        await ann.wait_for("/start")  # sent: the bot waits for Telegram's answer from now on
        started = time.monotonic()
        code = await asyncio.to_thread(main, ["admin", "department", "add", "SAMR", "市场监管局"])
        elapsed = time.monotonic() - started
        assert code == 0 and elapsed < 1.0, f"the console waited {elapsed:.1f}s for the bot's Telegram call"
        await bob.send("/help")
        await bob.wait_for("/start", timeout=3)  # another user's update is handled meanwhile
        cat = emulator.user(1003, "Cat", language_code="en")
        await cat.press_data(9999, "lang:1003:zh_CN")  # and a write, while both wait for their answers
        await cat.wait_for("语言已设置", timeout=3)
    finally:
        emulator.release_answers()
