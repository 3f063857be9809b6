"""What the emulated Telegram knows: chats and their messages, files, pending updates, recorded calls.

Everything here is plain data plus the update queue that `getUpdates` long-polls on, or that the
webhook sender drains while a webhook is set. Nothing is created at import time; one
`EmulatorState` belongs to one `BotAPIEmulator`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": code, "description": ...}`."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


@dataclass
class APICall:
    """One HTTP call to the emulated API, successful or not."""

    method: str
    params: dict[str, Any]
    time: float  # monotonic clock
    files: dict[str, UploadedFile] = field(default_factory=dict)
    ok: bool | None = None  # None while a long poll is still waiting
    status: int | None = None
    description: str | None = None
    retry_after: int | None = None
    result: Any = None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    content: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes)"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def api(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.content), "file_path": self.file_path}


@dataclass
class Version:
    """An earlier state of an edited message."""

    text: str | None
    raw_text: str | None
    reply_markup: dict[str, Any] | None
    time: float


@dataclass
class ChatMessage:
    """A message in a chat, sent by the bot or by a user. Edits update it in place."""

    chat_id: int
    message_id: int
    date: int
    sender: dict[str, Any]  # a Bot API User object
    from_bot: bool
    text: str | None = None  # as the user sees it (HTML tags parsed away); the caption for media
    raw_text: str | None = None  # as the bot sent it
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # as sent: inline keyboard, reply keyboard, removal...
    reply_to_message_id: int | None = None
    kind: str = "text"  # text | document | photo
    file_id: str | None = None
    entities: list[dict[str, Any]] | None = None  # only on users' messages (bot commands)
    history: list[Version] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    seq: int = 0  # position in the emulator's change order, bumped by every edit

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return (self.reply_markup or {}).get("inline_keyboard") or []

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline keyboard, row by row."""
        return [button.get("text", "") for row in self.inline_keyboard for button in row]

    def button(self, label: str) -> dict[str, Any] | None:
        return next((b for row in self.inline_keyboard for b in row if b.get("text") == label), None)

    def __repr__(self) -> str:
        edited = f" edited x{len(self.history)}" if self.history else ""
        return f"<ChatMessage {self.chat_id}/{self.message_id} {self.kind}{edited} {self.text!r} buttons={self.buttons}>"


@dataclass
class CallbackQuery:
    """A button press sent to the bot, and the bot's answer once it arrives."""

    query_id: str
    chat_id: int
    user_id: int
    message_id: int
    data: str
    time: float
    answer: CallbackAnswer | None = None


@dataclass
class CallbackAnswer:
    query_id: str
    data: str
    message_id: int
    text: str | None
    show_alert: bool
    url: str | None
    time: float


@dataclass
class Webhook:
    """What setWebhook set; while there is one, updates are posted to `url` and getUpdates is refused."""

    url: str
    secret_token: str | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class WebhookPost:
    """One POST of an update to the webhook."""

    update_id: int
    url: str
    time: float  # monotonic clock
    status: int | None = None  # the webhook's HTTP answer; None when there was none
    error: str | None = None  # set when the post failed, as getWebhookInfo's last_error_message


@dataclass
class ChatState:
    chat_id: int
    type: str  # private | group | supergroup
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None  # private chats: the user's
    blocked: bool = False  # private chats: the user blocked the bot
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1

    def api(self) -> dict[str, Any]:
        if self.type == "private":
            chat = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
            chat.update({k: v for k, v in (("last_name", self.last_name), ("username", self.username)) if v})
            return chat
        return {"id": self.chat_id, "type": self.type, "title": self.title}

    def user_api(self) -> dict[str, Any]:
        """The User object of a private chat's user."""
        user = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        user.update(
            {k: v for k, v in (("last_name", self.last_name), ("username", self.username), ("language_code", self.language_code)) if v}
        )
        return user

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [m for m in self.messages.values() if m.from_bot]


class Notifier:
    """Wakes everyone waiting for "something changed"; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass


class UpdateQueue:
    """Telegram's per-bot update queue with getUpdates semantics.

    `offset` confirms (forgets) every update with a smaller id; a request waits up to `timeout`
    seconds for one; a newer request ends a waiting one with 409 Conflict, as Telegram does when two
    bot instances poll.
    """

    CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    WEBHOOK_SET = "Conflict: terminated by setWebhook request"

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.allowed_updates: list[str] = []  # empty: every type
        self._ids = itertools.count(1)
        self._poll_generation = 0
        self._ended_by = self.CONFLICT  # why a waiting poll of an older generation ends
        self._closed = False
        self._changed = Notifier()

    def put(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._ids), kind: payload}
        self.pending.append(update)
        self._changed.notify()
        return update

    def clear(self) -> None:
        self.pending.clear()

    def end_polls(self, reason: str) -> None:
        """A waiting getUpdates answers 409 `reason` now."""
        self._poll_generation += 1
        self._ended_by = reason
        self._changed.notify()

    def deliverable(self) -> list[dict[str, Any]]:
        """The pending updates of the allowed types, oldest first (for the webhook sender)."""
        self._drop_not_allowed()
        return list(self.pending)

    def remove(self, update: dict[str, Any]) -> None:
        """Forget an update the webhook took (or that it gave up on)."""
        self.pending = [u for u in self.pending if u["update_id"] != update["update_id"]]

    async def wait_for_change(self, timeout: float) -> None:
        """Until an update arrives (or the queue closes), at most `timeout` seconds."""
        await self._changed.wait(timeout)

    def close(self) -> None:
        self._closed = True
        self._changed.notify()

    async def get(self, offset: int | None, limit: int, timeout: float, allowed_updates: list[str] | None) -> list[dict[str, Any]]:
        self._poll_generation += 1
        self._ended_by = self.CONFLICT
        generation = self._poll_generation
        if allowed_updates is not None:
            self.allowed_updates = list(allowed_updates)
        if offset is not None:
            self._confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            self._drop_not_allowed()
            if self.pending or self._closed:
                return self.pending[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self._changed.wait(remaining)
            if generation != self._poll_generation:
                raise ApiError(409, self._ended_by)

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def _drop_not_allowed(self) -> None:
        if self.allowed_updates:
            self.pending = [u for u in self.pending if _update_kind(u) in self.allowed_updates]


def _update_kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


class EmulatorState:
    """All mutable state of one emulator; the HTTP methods and the test handles both work on it."""

    def __init__(self, bot_id: int, bot_username: str, bot_name: str) -> None:
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.bot_sender = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates = UpdateQueue()
        self.webhook: Webhook | None = None
        self.webhook_posts: list[WebhookPost] = []
        self.calls: list[APICall] = []
        self.delivered: list[ChatMessage] = []  # every message the bot sent, in order
        self.callbacks: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.changed = Notifier()  # a bot message was sent, edited or deleted, or a callback answered
        self._seq = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._query_ids = itertools.count(1)
        self.last_seq = 0

    def next_seq(self) -> int:
        self.last_seq = next(self._seq)
        return self.last_seq

    def next_query_id(self) -> str:
        return f"{next(self._query_ids):016d}"

    def store_file(self, content: bytes, kind: str, file_name: str | None, mime_type: str | None) -> StoredFile:
        number = next(self._file_numbers)
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photo":
            extension = ".jpg"
        stored = StoredFile(
            file_id=f"emu-{kind}-{number:06d}",
            file_unique_id=f"emu-u-{number:06d}",
            file_path=f"{kind}s/file_{number}{extension}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def add_message(self, chat: ChatState, message: ChatMessage) -> ChatMessage:
        message.seq = self.next_seq()
        chat.messages[message.message_id] = message
        if message.from_bot:
            self.delivered.append(message)
            self.changed.notify()
        return message

    def touch(self, message: ChatMessage) -> None:
        """Record that a bot message changed (edit, delete)."""
        message.seq = self.next_seq()
        self.changed.notify()
