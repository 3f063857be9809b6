"""The bot's foundation end to end: the real Bot and Dispatcher, aiogram's HTTP session, real long
polling against the loopback emulator, on SQLite and PostgreSQL.

Onboarding (/start with and without a code), /lang and its survival across a restart, /help and
the command menus per role, refused button presses and core refusals.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy import func, select

from jointcheck.core.authz import Actor
from jointcheck.core.errors import Conflict, PermissionDenied
from jointcheck.core.models import AuditEvent, Inspector
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.invites import issue_invite
from jointcheck.core.uow import UnitOfWork
from jointcheck.testing.harness import PollingBot

OPERATOR = Actor.operator("cli:test")


@pytest.fixture
async def province(uow_factory):
    """One department (SAMR, 市场监管局) and one of its inspectors (SAMR-00)."""
    async with uow_factory() as uow:
        department = await add_department(uow, OPERATOR, "SAMR", "市场监管局")
        uow.session.add(Inspector(cert_no="SAMR-00", name="张检查", department_id=department.id, kind="enforcement"))
        await uow.commit()
    return department


async def invite(sessionmaker, role: str, clock=None, ttl_hours: int = 72, **scope) -> str:
    uow = UnitOfWork(sessionmaker, clock)
    async with uow:
        issued = await issue_invite(uow, OPERATOR, role, ttl_hours=ttl_hours, **scope)
        await uow.commit()
    return issued.code


async def stored_user(sessionmaker, telegram_id: int):
    """(language, [(role, department_id, inspector_id)]) from a fresh unit of work, or None."""
    async with UnitOfWork(sessionmaker) as uow:
        user = await uow.users.by_telegram_id(telegram_id)
        if user is None:
            return None
        grants = await uow.users.grants_of(user.id)
        return user.language, [(g.role, g.department_id, g.inspector_id) for g in grants]


def chat_menu(emulator, chat_id: int, language_code: str = "") -> list[str]:
    return [c["command"] for c in emulator.commands({"type": "chat", "chat_id": chat_id}, language_code)]


async def test_start_with_an_officer_invite_binds_and_answers_in_chinese(emulator, sessionmaker, province, running):
    code = await invite(sessionmaker, "officer", department="SAMR")
    alice = emulator.user(1001, "Alice", language_code="zh-hans")

    await alice.send(f"/start {code}")
    reply = await alice.wait_for("欢迎")

    assert "部门管理员" in reply.text and "市场监管局" in reply.text and "/propose" in reply.text
    assert "department officer" not in reply.text
    assert await stored_user(sessionmaker, alice.id) == ("zh_CN", [("officer", province.id, None)])
    # the private chat's menu now follows the role, in the user's language
    assert chat_menu(emulator, alice.id) == [
        "start",
        "help",
        "lang",
        "propose",
        "rounds",
        "round",
        "review",
        "publish",
        "case",
        "cases",
        "credit",
        "stats",
    ]
    described = {c["command"]: c["description"] for c in emulator.commands({"type": "chat", "chat_id": alice.id})}
    assert described["propose"] == "发起联合抽查（牵头部门）"


async def test_start_with_an_inspector_invite_answers_in_english(emulator, sessionmaker, province, running):
    code = await invite(sessionmaker, "inspector", inspector="SAMR-00")
    bob = emulator.user(1002, "Bob", language_code="en")

    await bob.send(f"/start {code}")
    reply = await bob.wait_for("Welcome, Bob!")

    assert "Your account is now bound as inspector: 张检查 SAMR-00." in reply.text
    assert "/tasks" in reply.text and "/propose" not in reply.text
    language, grants = await stored_user(sessionmaker, bob.id)
    assert language == "en" and [g[0] for g in grants] == ["inspector"]
    assert "tasks" in chat_menu(emulator, bob.id) and "propose" not in chat_menu(emulator, bob.id)


async def test_a_convener_is_bound_to_a_region_by_name_and_keeps_the_username(emulator, sessionmaker, province, running):
    code = await invite(sessionmaker, "convener", region="440100")
    chen = emulator.user(1003, "陈主任", username="chen_zr")
    await chen.send(f"/start {code}")
    reply = await chen.wait_for("欢迎")
    assert "广州市 (440100)" in reply.text
    async with UnitOfWork(sessionmaker) as uow:
        found = [u.telegram_id for u in await uow.users.matching("@CHEN_ZR")]
    assert found == [1003]  # what the console's --as finds them by


async def test_a_used_code_is_refused_politely_and_binds_nothing(emulator, sessionmaker, province, running):
    code = await invite(sessionmaker, "officer", department="SAMR")
    alice, mallory = emulator.user(1001, "Alice"), emulator.user(1003, "Mallory", language_code="zh-TW")
    await alice.send(f"/start {code}")
    await alice.wait_for("欢迎")

    await mallory.send(f"/start {code}")
    refusal = await mallory.wait_for("邀请码")

    assert "已被使用" in refusal.text and "used" not in refusal.text  # no English core text for a zh user
    assert await stored_user(sessionmaker, mallory.id) is None
    assert chat_menu(emulator, mallory.id) == []
    _, grants = await stored_user(sessionmaker, alice.id)
    assert len(grants) == 1  # still only Alice's


async def test_an_expired_or_unknown_code_is_refused(emulator, sessionmaker, province, running):
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    expired = await invite(sessionmaker, "officer", clock=lambda: two_hours_ago, ttl_hours=1, department="SAMR")
    carol, dave = emulator.user(1004, "Carol"), emulator.user(1005, "Dave", language_code="en-US")

    await carol.send(f"/start {expired}")
    assert "已过期" in (await carol.wait_for("邀请码")).text
    await dave.send("/start not-a-real-code")
    refusal = await dave.wait_for("invite")

    assert "this invite code is not valid" in refusal.text.lower()
    assert "new invite link" in refusal.text
    assert await stored_user(sessionmaker, carol.id) is None and await stored_user(sessionmaker, dave.id) is None


async def test_start_without_a_code_explains_how_to_get_one(emulator, running):
    erin, frank = emulator.user(1006, "Erin"), emulator.user(1007, "Frank", language_code="en")

    await erin.send("/start")
    await frank.send("/start")
    chinese = await erin.wait_for("邀请链接")
    english = await frank.wait_for("invite link")

    assert "t.me/jc_test_bot?start=" in chinese.text and "t.me/jc_test_bot?start=" in english.text
    assert "/lang" in english.text
    # the default menu, for everyone not bound yet, in Chinese and for English clients
    assert [c["description"] for c in emulator.commands()][:1] == ["用邀请码绑定账号"]
    assert [c["command"] for c in emulator.commands(language_code="en")] == ["start", "help", "lang"]


async def test_lang_switches_the_language_and_it_survives_a_restart(emulator, sessionmaker, province, running):
    code = await invite(sessionmaker, "officer", department="SAMR")
    alice = emulator.user(1001, "Alice", language_code="zh-hans")
    await alice.send(f"/start {code}")
    await alice.wait_for("欢迎")

    await alice.send("/lang")
    prompt = await alice.wait_for("请选择")
    assert prompt.buttons == ["中文", "English"]
    query = await alice.press("English")
    confirmed = await alice.wait_for("Language set: English.")
    answer = await alice.wait_for_answer(query)

    assert confirmed is prompt and answer.text == "English"
    assert (await stored_user(sessionmaker, alice.id))[0] == "en"
    async with sessionmaker() as session:  # a choice made through core, audited like any other
        events = (await session.execute(select(AuditEvent.actor, AuditEvent.payload).where(AuditEvent.action == "user.language"))).all()
    assert len(events) == 1 and json.loads(events[0].payload) == {"language": "en"}
    await alice.send("/lang")  # the same choice again changes nothing and audits nothing
    await alice.wait_for("Choose the language")
    await alice.press("English")
    await alice.wait_for("Language set: English.")
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).where(AuditEvent.action == "user.language"))).scalar_one() == 1
    described = {c["command"]: c["description"] for c in emulator.commands({"type": "chat", "chat_id": alice.id})}
    assert described["propose"] == "propose a joint round (lead department)"
    await alice.send("/help")
    assert "department officer" in (await alice.wait_for("Commands you can use")).text

    await running.restart()  # a new Bot and Dispatcher: only the database remembers
    await alice.send("/help")
    after = await alice.wait_for("Your roles")

    assert "department officer" in after.text and "部门管理员" not in after.text
    assert len(emulator.calls_to("getMe")) >= 2


async def test_lang_before_binding_is_kept_for_the_binding(emulator, sessionmaker, province, running):
    gina = emulator.user(1008, "Gina", language_code="en")
    await gina.send("/lang")
    await gina.wait_for("Choose the language")
    await gina.press("中文")
    await gina.wait_for("语言已设置为：中文。")

    code = await invite(sessionmaker, "officer", department="SAMR")
    await gina.send(f"/start {code}")
    welcome = await gina.wait_for("欢迎")

    assert "部门管理员" in welcome.text
    assert await stored_user(sessionmaker, gina.id) == ("zh_CN", [("officer", province.id, None)])


async def test_help_and_menus_follow_the_roles(emulator, sessionmaker, province, running):
    officer, inspector = emulator.user(1001, "Olga"), emulator.user(1002, "Ivan")
    stranger = emulator.user(1009, "Sam", language_code="en")
    await officer.send(f"/start {await invite(sessionmaker, 'officer', department='SAMR')}")
    await inspector.send(f"/start {await invite(sessionmaker, 'inspector', inspector='SAMR-00')}")
    await officer.wait_for("欢迎")
    await inspector.wait_for("欢迎")

    await officer.send("/help")
    await inspector.send("/help")
    await stranger.send("/help")
    officer_help = await officer.wait_for("您的角色")
    inspector_help = await inspector.wait_for("您的角色")
    stranger_help = await stranger.wait_for("not bound yet")

    assert "/propose" in officer_help.text and "/tasks" not in officer_help.text
    assert "/tasks" in inspector_help.text and "/propose" not in inspector_help.text
    assert "执法检查人员" in inspector_help.text
    assert "/propose" not in stranger_help.text and "/tasks" not in stranger_help.text and "/lang" in stranger_help.text
    assert chat_menu(emulator, officer.id) == [
        "start",
        "help",
        "lang",
        "propose",
        "rounds",
        "round",
        "review",
        "publish",
        "case",
        "cases",
        "credit",
        "stats",
    ]
    assert chat_menu(emulator, inspector.id) == ["start", "help", "lang", "rounds", "round", "tasks"]
    assert chat_menu(emulator, stranger.id) == []  # strangers keep the default menu

    # a command of another role is refused; one of the user's own works
    await inspector.send("/propose")
    assert "不能使用" in (await inspector.wait_for("命令")).text
    await officer.send("/propose")
    await officer.wait_for("发起联合抽查")
    await stranger.send("/frobnicate")
    assert "Unknown command" in (await stranger.wait_for("/help")).text


async def test_forged_callbacks_are_refused_and_change_nothing(emulator, sessionmaker, running):
    alice = emulator.user(1001, "Alice")
    await alice.send("/lang")
    prompt = await alice.wait_for("请选择")

    forged = [
        await alice.press_data(prompt.message_id, "garbage"),
        await alice.press_data(prompt.message_id, "lang:1001:fr"),  # no such language
        await alice.press_data(prompt.message_id, "lang:abc:en"),  # owner is not an id
        await alice.press_data(prompt.message_id, "lang:2002:en"),  # a button made for someone else
        # ids beyond the database's integers (INTEGER, BIGINT): refused before any query could overflow
        await alice.press_data(prompt.message_id, f"ropn:{2**31}"),
        await alice.press_data(prompt.message_id, f"topn:{2**64}"),
        await alice.press_data(prompt.message_id, "tpg:-1"),
        await alice.press_data(prompt.message_id, f"lang:{2**64}:en"),
    ]
    answers = [await alice.wait_for_answer(query) for query in forged]

    assert all("不属于您或已失效" in a.text for a in answers)
    assert prompt.history == [] and prompt.buttons == ["中文", "English"]  # nothing was edited
    assert await stored_user(sessionmaker, alice.id) is None
    # Alice's own, well-formed button data on a message too old to show still counts: it edits nothing
    # and the confirmation comes as a new message
    await alice.press_data(9999, "lang:1001:en")
    confirmation = await alice.wait_for("Language set: English.")
    assert confirmation is not prompt and prompt.history == []
    assert (await stored_user(sessionmaker, alice.id))[0] == "en"
    # Alice holds no role: toggling her language again and again adds nothing to the audit chain
    for data in ("lang:1001:zh_CN", "lang:1001:en", "lang:1001:zh_CN"):
        await alice.press_data(9999, data)
        await alice.wait_for("语言已设置" if data.endswith("zh_CN") else "Language set")
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(AuditEvent))).scalar_one() == 0
    assert emulator.unanswered_callbacks() == []


async def test_another_users_button_in_a_group_is_refused(emulator, sessionmaker, running):
    alice, bob = emulator.user(1001, "Alice"), emulator.user(1002, "Bob", language_code="en")
    team = emulator.group(-100500, "检查组")
    await team.send(alice, "/lang@jc_test_bot")
    prompt = await team.wait_for("请选择")

    query = await team.press(bob, "English")
    answer = await team.wait_for_answer(query)

    assert answer.text == "Sorry, this button is not for you or no longer valid. Nothing has changed."  # Bob's language
    assert prompt.history == []
    assert await stored_user(sessionmaker, alice.id) is None and await stored_user(sessionmaker, bob.id) is None

    await team.press(alice, "English")
    await team.wait_for("Language set: English.")
    assert (await stored_user(sessionmaker, alice.id))[0] == "en"
    assert emulator.unanswered_callbacks() == []


def refusing_handlers(dispatcher) -> None:
    """Handlers that let core refusals through, after writing something that must be rolled back."""

    async def boom(message: Message, uow: UnitOfWork) -> None:
        await uow.users.add(message.from_user.id, "half-written")
        raise PermissionDenied("not allowed: round.approve")

    async def stale(query: CallbackQuery, uow: UnitOfWork) -> None:
        await uow.users.add(query.from_user.id, "half-written")
        raise Conflict("the round has moved on")

    async def crash(query: CallbackQuery) -> None:
        raise RuntimeError("a bug")

    dispatcher.message.register(boom, Command("boom"))
    dispatcher.callback_query.register(stale, F.data == "stale")
    dispatcher.callback_query.register(crash, F.data == "crash")


async def test_core_refusals_are_translated_rolled_back_and_answered(emulator, sessionmaker):
    alice, bob = emulator.user(1001, "Alice"), emulator.user(1002, "Bob", language_code="en")
    async with PollingBot(sessionmaker, emulator.token, emulator.base_url, configure=refusing_handlers):
        await alice.send("/boom")
        chinese = await alice.wait_for("无权")
        await bob.send("/boom")
        english = await bob.wait_for("not allowed")
        stale = await alice.press_data(chinese.message_id, "stale")
        crash = await bob.press_data(english.message_id, "crash")
        stale_answer = await alice.wait_for_answer(stale)
        await bob.wait_for_answer(crash)

    assert "round.approve" not in chinese.text  # core's English detail only for English readers
    assert "not allowed: round.approve" in english.text
    assert stale_answer.show_alert is True and "当前状态" in stale_answer.text
    assert await stored_user(sessionmaker, alice.id) is None and await stored_user(sessionmaker, bob.id) is None
    assert emulator.unanswered_callbacks() == []  # even the handler that crashed was answered
