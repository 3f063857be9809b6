"""The Bot API emulator, driven by a real aiogram Bot + Dispatcher over aiogram's own HTTP session."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from jointcheck.testing.emulator import BotAPIEmulator, ButtonNotFound, WaitTimeout


def throwaway_router(presses: list[str]) -> Router:
    """/start echoes its payload; any text gets an inline keyboard; a press edits and answers."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"start payload: {command.args}")

    @router.message(F.text)
    async def offer(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Approve", callback_data="approve:1"),
                    InlineKeyboardButton(text="Reject", callback_data="reject:1"),
                ]
            ]
        )
        await message.answer(f"you said: {message.text}", reply_markup=keyboard)

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        presses.append(query.data)
        if query.data in ("approve:1", "reject:1"):
            await query.message.edit_text(f"done: {query.data}")
            await query.answer("ok")
        else:
            await query.answer(f"unknown: {query.data}", show_alert=True)

    return router


async def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def session_for(emulator: BotAPIEmulator) -> AiohttpSession:
    return AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))


@pytest.fixture
async def emulator():
    async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
        yield emulator


@pytest.fixture
async def bot(emulator):
    bot = Bot(emulator.token, session=session_for(emulator))
    yield bot
    await bot.session.close()


@pytest.fixture
async def presses(emulator, bot):
    """Real long polling through getUpdates; yields the callback data the bot received."""
    presses: list[str] = []
    dispatcher = Dispatcher()
    dispatcher.include_router(throwaway_router(presses))
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5))
    await until(lambda: emulator.calls_to("getUpdates") or task.done())
    yield presses
    await dispatcher.stop_polling()
    await task


async def test_start_payload_arrives_through_long_polling(emulator, presses):
    alice = emulator.user(1001, "Alice", username="alice")
    sent = await alice.send("/start INV-42")

    reply = await alice.wait_for("start payload")

    assert reply.text == "start payload: INV-42"
    assert reply.reply_markup is None and reply.sender["username"] == "jc_test_bot"
    assert (sent.message_id, reply.message_id) == (1, 2)  # one counter per chat, both sides
    polls = emulator.calls_to("getUpdates")
    assert polls[0].params["timeout"] == 5  # aiogram's polling_timeout, sent as a form field
    assert sorted(polls[0].params["allowed_updates"]) == ["callback_query", "message"]
    # the next poll confirms the update by its offset, and the queue forgets it
    await until(lambda: not emulator.pending_updates)
    assert any(c.params.get("offset") == 2 for c in emulator.calls_to("getUpdates"))


async def test_pressing_a_button_reaches_the_handler_edits_and_answers(emulator, presses):
    alice = emulator.user(1001, "Alice")
    await alice.send("hello")
    offer = await alice.wait_for("you said: hello")
    assert offer.buttons == ["Approve", "Reject"]

    query_id = await alice.press("Approve")
    edited = await alice.wait_for("done: approve:1")
    answer = await alice.wait_for_answer(query_id)

    assert presses == ["approve:1"]
    assert edited is offer and len(alice.messages) == 1  # edited in place, not sent again
    assert [v.text for v in edited.history] == ["you said: hello"]
    assert edited.buttons == []  # editMessageText without reply_markup drops the keyboard, as Telegram does
    assert (answer.text, answer.show_alert, answer.data) == ("ok", False, "approve:1")
    assert emulator.unanswered_callbacks() == []
    assert all(c.ok for c in emulator.calls_to("answerCallbackQuery"))
    with pytest.raises(ButtonNotFound, match="Approve"):
        await alice.press("Approve")


async def test_a_forged_callback_is_delivered_as_given(emulator, presses):
    alice = emulator.user(1001, "Alice")
    await alice.send("hello")
    offer = await alice.wait_for("you said")

    forged = await alice.press_data(offer.message_id, "approve:999;DROP")
    gone = await alice.press_data(4242, "approve:1x")  # a message the bot never sent: InaccessibleMessage

    assert (await alice.wait_for_answer(forged)).text == "unknown: approve:999;DROP"
    assert (await alice.wait_for_answer(gone)).show_alert is True
    assert presses == ["approve:999;DROP", "approve:1x"]
    assert offer.history == []  # the forged press edited nothing
    assert len(alice.callback_answers) == 2 and alice.unanswered_callbacks == []


async def test_group_messages_and_wait_for_timeout(emulator, presses):
    alice = emulator.user(1001, "Alice")
    team = emulator.group(-100500, "Inspection team")

    await team.send(alice, "/start@jc_test_bot G-7")
    reply = await team.wait_for("start payload")

    assert reply.text == "start payload: G-7" and reply.chat_id == -100500
    assert alice.messages == []
    with pytest.raises(WaitTimeout, match="start payload"):
        await team.wait_for("never sent", timeout=0.2)


async def test_429_injection_surfaces_as_retry_after(emulator, bot):
    alice = emulator.user(1001, "Alice")
    fault = emulator.inject(method="sendMessage", chat_id=alice.id, error=429, retry_after=7, times=1)

    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(alice.id, "first try")
    await bot.send_message(alice.id, "second try")

    assert refused.value.retry_after == 7 and fault.hits == 1
    assert [m.text for m in emulator.sent_to(alice.id)] == ["second try"]
    assert [(c.method, c.status, c.retry_after) for c in emulator.rejected] == [("sendMessage", 429, 7)]


async def test_a_blocked_user_answers_403(emulator, bot):
    alice, bob, carol = emulator.user(1001, "Alice"), emulator.user(1002, "Bob"), emulator.user(1003, "Carol")
    alice.block()
    emulator.inject(method="sendMessage", chat_id=carol.id, error=403, times=None)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "notice")
    await bot.send_message(bob.id, "notice")
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(carol.id, "notice")

    assert emulator.delivered_counts() == {bob.id: 1}
    assert [c.params["chat_id"] for c in emulator.rejected] == [alice.id, carol.id, carol.id]
    assert emulator.pending_updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    await alice.send("I'm back")  # writing to the bot means the user unblocked it
    await bot.send_message(alice.id, "welcome back")
    assert emulator.delivered_counts() == {bob.id: 1, alice.id: 1}


async def test_rate_limiter_rejects_a_second_message_to_a_chat_within_a_second(emulator, bot):
    alice = emulator.user(1001, "Alice")
    emulator.limit()  # Telegram's documented limits, on the monotonic clock
    await bot.send_message(alice.id, "now")
    with pytest.raises(TelegramRetryAfter) as real_clock:
        await bot.send_message(alice.id, "again at once")
    assert real_clock.value.retry_after == 1
    assert [m.text for m in emulator.sent_to(alice.id)] == ["now"]


async def test_rate_limiter_windows(emulator, bot):
    now = [1000.0]
    emulator.limit(global_per_second=30, per_chat_per_second=1, per_group_per_minute=2, clock=lambda: now[0])
    alice, bob = emulator.user(1001, "Alice"), emulator.user(1002, "Bob")
    team = emulator.group(-100500, "Inspection team")

    await bot.send_message(alice.id, "one")
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(alice.id, "two")
    await bot.send_message(bob.id, "one")  # another chat has its own window
    now[0] += 1.0
    await bot.send_message(alice.id, "two")

    assert refused.value.retry_after == 1
    assert [m.text for m in emulator.sent_to(alice.id)] == ["one", "two"]  # nothing lost, nothing duplicated
    # 2 per minute in a group: the third must wait until the first leaves the window
    await bot.send_message(team.chat_id, "g1")
    now[0] += 1.5
    await bot.send_message(team.chat_id, "g2")
    now[0] += 1.5
    with pytest.raises(TelegramRetryAfter) as group_refused:
        await bot.send_message(team.chat_id, "g3")
    assert group_refused.value.retry_after == 57
    assert len(emulator.rejected) == 2 and len(emulator.delivered) == 5


async def test_send_document_then_get_file_and_download_returns_the_same_bytes(emulator, bot):
    alice = emulator.user(1001, "Alice")
    content = bytes(range(256)) * 40

    sent = await bot.send_document(alice.id, BufferedInputFile(content, filename="名单.xlsx"), caption="<b>名单</b>", parse_mode="HTML")
    file = await bot.get_file(sent.document.file_id)
    downloaded = await bot.download_file(file.file_path)
    again = await bot.send_document(alice.id, sent.document.file_id)

    assert downloaded.read() == content
    assert (sent.document.file_name, sent.document.file_size, sent.caption) == ("名单.xlsx", len(content), "名单")
    assert again.document.file_id == sent.document.file_id and emulator.file_content(file.file_id) == content
    upload, by_id = emulator.calls_to("sendDocument")
    assert upload.params["document"].startswith("attach://") and list(upload.files.values())[0].content == content
    assert by_id.params["document"] == sent.document.file_id and by_id.files == {}


async def test_send_photo_is_recorded_and_its_file_downloads(emulator, bot):
    alice = emulator.user(1001, "Alice")
    content = b"\xff\xd8\xff\xe0" + bytes(range(200))

    sent = await bot.send_photo(alice.id, BufferedInputFile(content, filename="现场.jpg"), caption="现场照片")
    largest = sent.photo[-1]
    downloaded = await bot.download_file((await bot.get_file(largest.file_id)).file_path)
    again = await bot.send_photo(alice.id, largest.file_id)

    assert downloaded.read() == content and sent.caption == "现场照片"
    assert again.photo[-1].file_id == largest.file_id
    upload, by_id = emulator.calls_to("sendPhoto")
    assert upload.params["photo"].startswith("attach://") and by_id.params["photo"] == largest.file_id
    assert [m.kind for m in alice.messages[-2:]] == ["photo", "photo"]


async def test_a_wrong_token_is_unauthorized(emulator):
    intruder = Bot("987654321:not-the-emulators-token", session=session_for(emulator))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()

    assert (emulator.calls[-1].method, emulator.calls[-1].status) == ("getMe", 401)


async def test_unknown_methods_answer_404_and_are_recorded(emulator, bot):
    with pytest.raises(TelegramNotFound, match="method not emulated"):
        await bot.send_dice(1001)

    assert [(c.method, c.status) for c in emulator.rejected] == [("sendDice", 404)]
    assert (await bot.get_me()).username == "jc_test_bot"


async def test_long_poll_waits_for_an_update_and_offset_confirms(emulator, bot):
    alice = emulator.user(1001, "Alice", language_code="en")

    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9  # held until the timeout

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    await alice.send("ping")
    (update,) = await asyncio.wait_for(poll, 2)
    assert update.message.text == "ping" and update.message.from_user.language_code == "en"

    assert len(await bot.get_updates(offset=update.update_id)) == 1  # not yet confirmed
    assert await bot.get_updates(offset=update.update_id + 1) == []


async def test_telegram_text_rules(emulator, bot):
    alice = emulator.user(1001, "Alice")
    question = await alice.send("which one?")

    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(alice.id, "A<B company", parse_mode="HTML")
    sent = await bot.send_message(
        alice.id,
        "<b>A&amp;B</b> &lt;co&gt;",
        parse_mode="HTML",
        reply_to_message_id=question.message_id,
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Yes")]]),
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("<b>A&amp;B</b> &lt;co&gt;", chat_id=alice.id, message_id=sent.message_id, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            alice.id,
            "too long",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]),
        )

    assert sent.text == "A&B <co>" and alice.last.raw_text == "<b>A&amp;B</b> &lt;co&gt;"
    assert sent.reply_to_message.message_id == question.message_id
    assert sent.reply_markup is None  # Telegram echoes only inline keyboards...
    assert alice.last.reply_markup["keyboard"][0][0]["text"] == "Yes"  # ...the emulator keeps what was sent


async def test_set_my_commands_is_stored_per_scope_and_language(emulator, bot):
    await bot.set_my_commands([BotCommand(command="start", description="开始")])
    await bot.set_my_commands(
        [BotCommand(command="rounds", description="Rounds")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="capitals are refused")])

    assert emulator.commands() == [{"command": "start", "description": "开始"}]
    assert emulator.commands({"type": "all_private_chats"}, "en")[0]["command"] == "rounds"
    assert emulator.commands({"type": "all_private_chats"}) == []
    assert await bot.delete_webhook(drop_pending_updates=True) is True


async def test_the_bot_builds_each_answer_model_once_across_garbage_collections(emulator):
    """aiogram parses answers with pydantic's Response[T], which pydantic caches only weakly: a
    full garbage collection used to drop it, and the next call rebuilt it (about 10 ms)."""
    import gc
    import weakref

    from aiogram.methods.base import Response
    from aiogram.types import User
    from pydantic import SecretStr

    from jointcheck.bot.app import create_bot
    from jointcheck.config import Settings

    bot = create_bot(Settings(bot_token=SecretStr(emulator.token), bot_api_url=emulator.base_url))
    try:
        assert (await bot.get_me()).is_bot
        built = weakref.ref(Response[User])
        gc.collect()
        assert built() is not None and Response[User] is built()
    finally:
        await bot.session.close()
