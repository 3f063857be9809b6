"""Test-facing handles: a user in a private chat with the bot, and a group chat.

A handle acts like a Telegram client (send a message, press a button) by putting updates in the
queue the bot polls, and reads back what the bot sent to its chat.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from jointcheck.testing.emulator.formatting import command_entities
from jointcheck.testing.emulator.methods import message_api
from jointcheck.testing.emulator.state import (
    CallbackAnswer,
    CallbackQuery,
    ChatMessage,
    ChatState,
    EmulatorState,
)

Match = str | re.Pattern[str] | Callable[[ChatMessage], bool]


class ButtonNotFound(LookupError):
    """No message from the bot in this chat has an inline button with that label."""


class WaitTimeout(AssertionError):
    """The bot did not send (or edit) a matching message, or answer a callback, in time."""


def _matcher(match: Match) -> tuple[Callable[[ChatMessage], bool], str]:
    if isinstance(match, str):
        return (lambda m: match in (m.text or "")), f"text containing {match!r}"
    if isinstance(match, re.Pattern):
        return (lambda m: bool(match.search(m.text or ""))), f"text matching /{match.pattern}/"
    return match, getattr(match, "__name__", "predicate")


class ChatHandle:
    def __init__(self, state: EmulatorState, chat: ChatState) -> None:
        self._state = state
        self.chat = chat
        self._mark = 0  # change sequence at this chat's last user action
        self._last_query: str | None = None

    @property
    def chat_id(self) -> int:
        return self.chat.chat_id

    @property
    def messages(self) -> list[ChatMessage]:
        """Everything the bot sent to this chat, in order, with edits applied (deleted ones flagged)."""
        return self.chat.bot_messages

    @property
    def last(self) -> ChatMessage | None:
        return self.messages[-1] if self.messages else None

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answerCallbackQuery calls for presses made in this chat, in press order."""
        return [q.answer for q in self._callbacks() if q.answer is not None]

    @property
    def unanswered_callbacks(self) -> list[CallbackQuery]:
        return [q for q in self._callbacks() if q.answer is None]

    def _callbacks(self) -> list[CallbackQuery]:
        return [q for q in self._state.callbacks.values() if q.chat_id == self.chat_id]

    async def wait_for(self, match: Match, timeout: float = 5.0, *, since_last_action: bool = True) -> ChatMessage:
        """The first bot message sent or edited (after this chat's last send/press) that matches.

        `match` is a substring of the visible text, a compiled regex, or a predicate on ChatMessage.
        """
        test, what = _matcher(match)
        mark = self._mark if since_last_action else 0
        deadline = time.monotonic() + timeout
        while True:
            changed = sorted((m for m in self.messages if m.seq > mark and not m.deleted), key=lambda m: m.seq)
            for message in changed:
                if test(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "\n".join(f"  {m!r}" for m in changed) or "  (nothing)"
                raise WaitTimeout(
                    f"no bot message with {what} in chat {self.chat_id} within {timeout}s; sent or edited since the last action:\n{seen}"
                )
            await self._state.changed.wait(remaining)

    async def wait_for_answer(self, query_id: str | None = None, timeout: float = 5.0) -> CallbackAnswer:
        """The bot's answer to a press (default: the latest press in this chat)."""
        query_id = query_id or self._last_query
        if query_id not in self._state.callbacks:
            raise LookupError(f"no callback query {query_id!r} was pressed in chat {self.chat_id}")
        query = self._state.callbacks[query_id]
        deadline = time.monotonic() + timeout
        while query.answer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"callback {query.query_id} ({query.data!r}) not answered within {timeout}s")
            await self._state.changed.wait(remaining)
        return query.answer

    # -- acting as a client --------------------------------------------------------------------------

    async def _post(self, sender: ChatState, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            chat_id=self.chat_id,
            message_id=self.chat.new_message_id(),
            date=int(time.time()),
            sender=sender.user_api(),
            from_bot=False,
            **fields,
        )
        self._state.add_message(self.chat, message)
        self._state.updates.put("message", message_api(self._state, message))
        self._mark = self._state.last_seq
        await asyncio.sleep(0)
        return message

    async def _send_text(self, sender: ChatState, text: str) -> ChatMessage:
        return await self._post(sender, text=text, raw_text=text, entities=command_entities(text))

    def find_button(self, label: str) -> tuple[ChatMessage, dict[str, Any]]:
        """The newest bot message in this chat with an inline button labelled `label`, and the button."""
        for message in reversed(self.messages):
            if not message.deleted and (button := message.button(label)) is not None:
                return message, button
        keyboards = [f"  message {m.message_id}: {m.buttons}" for m in self.messages if m.buttons and not m.deleted]
        raise ButtonNotFound(
            f"no inline button {label!r} in chat {self.chat_id}; buttons on screen:\n" + ("\n".join(keyboards[-5:]) or "  (none)")
        )

    async def _press(self, sender: ChatState, label: str) -> str:
        message, button = self.find_button(label)
        if "callback_data" not in button:
            raise ButtonNotFound(f"button {label!r} in chat {self.chat_id} has no callback_data: {button}")
        return await self._press_data(sender, message.message_id, button["callback_data"])

    async def _press_data(self, sender: ChatState, message_id: int, data: str) -> str:
        query_id = self._state.next_query_id()
        message = self.chat.messages.get(message_id)
        if message is not None and not message.deleted:
            shown = message_api(self._state, message)
        else:  # Telegram's InaccessibleMessage
            shown = {"chat": self.chat.api(), "message_id": message_id, "date": 0}
        self._state.callbacks[query_id] = CallbackQuery(
            query_id=query_id, chat_id=self.chat_id, user_id=sender.chat_id, message_id=message_id, data=data, time=time.monotonic()
        )
        self._state.updates.put(
            "callback_query",
            {"id": query_id, "from": sender.user_api(), "chat_instance": f"ci{abs(self.chat_id)}", "message": shown, "data": data},
        )
        self._mark = self._state.last_seq
        self._last_query = query_id
        await asyncio.sleep(0)
        return query_id


class UserHandle(ChatHandle):
    """A Telegram user and their private chat with the bot (chat id == user id)."""

    @property
    def id(self) -> int:
        return self.chat_id

    @property
    def blocked(self) -> bool:
        return self.chat.blocked

    def api(self) -> dict[str, Any]:
        """The user as a Bot API User object."""
        return self.chat.user_api()

    async def send(self, text: str) -> ChatMessage:
        """A text message to the bot; `/start CODE` arrives as a command with its payload."""
        self._unblock_by_writing()
        return await self._send_text(self.chat, text)

    async def send_document(self, content: bytes, filename: str, mime_type: str | None = None, caption: str | None = None) -> ChatMessage:
        self._unblock_by_writing()
        stored = self._state.store_file(content, "document", filename, mime_type)
        return await self._post(self.chat, kind="document", file_id=stored.file_id, text=caption, raw_text=caption)

    async def send_photo(self, content: bytes, caption: str | None = None) -> ChatMessage:
        self._unblock_by_writing()
        stored = self._state.store_file(content, "photo", None, "image/jpeg")
        return await self._post(self.chat, kind="photo", file_id=stored.file_id, text=caption, raw_text=caption)

    async def press(self, label: str) -> str:
        """Press the inline button `label` on the newest bot message showing it; returns the query id."""
        return await self._press(self.chat, label)

    async def press_data(self, message_id: int, data: str) -> str:
        """A callback query with arbitrary data, as a modified client could send."""
        return await self._press_data(self.chat, message_id, data)

    def block(self) -> None:
        """The user blocks the bot: every send to this chat now answers 403."""
        if not self.chat.blocked:
            self.chat.blocked = True
            self._member_update("member", "kicked")

    def unblock(self) -> None:
        if self.chat.blocked:
            self.chat.blocked = False
            self._member_update("kicked", "member")

    def _unblock_by_writing(self) -> None:
        self.unblock()  # a user who blocked the bot must unblock it to write to it

    def _member_update(self, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            body = {"status": status, "user": self._state.bot_user}
            return {**body, "until_date": 0} if status == "kicked" else body

        self._state.updates.put(
            "my_chat_member",
            {
                "chat": self.chat.api(),
                "from": self.api(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )


class GroupHandle(ChatHandle):
    """A group chat the bot is a member of."""

    async def send(self, from_user: UserHandle, text: str) -> ChatMessage:
        return await self._send_text(from_user.chat, text)

    async def press(self, from_user: UserHandle, label: str) -> str:
        return await self._press(from_user.chat, label)

    async def press_data(self, from_user: UserHandle, message_id: int, data: str) -> str:
        return await self._press_data(from_user.chat, message_id, data)
