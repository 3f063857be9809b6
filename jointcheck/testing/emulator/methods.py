"""The emulated Bot API methods: decoded parameters in, a Bot API result (or an ApiError) out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jointcheck.testing.emulator.formatting import (
    check_commands,
    check_length,
    check_reply_markup,
    visible_text,
)
from jointcheck.testing.emulator.state import (
    ApiError,
    CallbackAnswer,
    ChatMessage,
    ChatState,
    EmulatorState,
    StoredFile,
    UploadedFile,
    Version,
    Webhook,
    bad_request,
)
from jointcheck.testing.emulator.webhook import WebhookSender

Params = dict[str, Any]
Files = dict[str, UploadedFile]

SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_ACTIVE = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


def message_api(state: EmulatorState, message: ChatMessage, with_reply: bool = True) -> dict[str, Any]:
    """A Message object as Telegram returns it. Only inline keyboards are echoed, as Telegram does."""
    chat = state.chats[message.chat_id]
    body: dict[str, Any] = {"message_id": message.message_id, "from": message.sender, "chat": chat.api(), "date": message.date}
    if message.edit_date:
        body["edit_date"] = message.edit_date
    if message.kind == "text":
        body["text"] = message.text
    else:
        stored = state.files[message.file_id]
        if message.kind == "photo":
            body["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 0,
                    "height": 0,
                    "file_size": len(stored.content),
                }
            ]
        else:
            body["document"] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.content)}
            body["document"].update({k: v for k, v in (("file_name", stored.file_name), ("mime_type", stored.mime_type)) if v})
        if message.text:
            body["caption"] = message.text
    if message.entities:
        body["entities"] = message.entities
    if message.inline_keyboard:
        body["reply_markup"] = {"inline_keyboard": message.inline_keyboard}
    if with_reply and message.reply_to_message_id in chat.messages:
        body["reply_to_message"] = message_api(state, chat.messages[message.reply_to_message_id], with_reply=False)
    return body


def _required(params: Params, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(f"{name} is empty" if name in params else f"parameter {name} is required")
    return value


class BotAPI:
    def __init__(self, state: EmulatorState, webhooks: WebhookSender) -> None:
        self.state = state
        self.webhooks = webhooks
        self.methods: dict[str, Callable[[Params, Files], Any]] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action,
            "getFile": self.get_file,
        }
        self._by_lower = {name.lower(): name for name in self.methods}

    def canonical(self, name: str) -> str | None:
        """Method names are case-insensitive in the Bot API."""
        return self._by_lower.get(name.lower())

    def call(self, method: str, params: Params, files: Files) -> Any | Awaitable[Any]:
        return self.methods[method](params, files)

    # -- helpers ---------------------------------------------------------------------------------

    def chat(self, params: Params) -> ChatState:
        chat_id = _required(params, "chat_id")
        chat = self.state.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _bot_message(self, params: Params) -> tuple[ChatState, ChatMessage]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not emulated")
        chat = self.chat(params)
        message = chat.messages.get(_required(params, "message_id"))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _reply_target(self, chat: ChatState, params: Params) -> int | None:
        reply = params.get("reply_parameters") or {}
        target = reply.get("message_id") or params.get("reply_to_message_id")
        if target is None:
            return None
        if target not in chat.messages:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def _text(self, params: Params, name: str, caption: bool) -> tuple[str | None, str | None]:
        """(visible text, raw text) of a text or caption parameter."""
        raw = params.get(name)
        if raw is None:
            return None, None
        text = visible_text(str(raw), params.get("parse_mode"))
        check_length(text, caption)
        return text, str(raw)

    def _deliver(self, chat: ChatState, params: Params, **fields: Any) -> dict[str, Any]:
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        message = ChatMessage(
            chat_id=chat.chat_id,
            message_id=0,
            date=int(time.time()),
            sender=self.state.bot_sender,
            from_bot=True,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=self._reply_target(chat, params),
            **fields,
        )
        message.message_id = chat.new_message_id()
        self.state.add_message(chat, message)
        return message_api(self.state, message)

    def _input_file(self, params: Params, files: Files, name: str, kind: str) -> StoredFile:
        value = params.get(name)
        if value is None and name in files:  # a raw multipart upload under the parameter's own name
            upload = files[name]
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} not found in the request")
        elif isinstance(value, str) and value in self.state.files:
            return self.state.files[value]
        elif value is None:
            raise bad_request(f"there is no {name} in the request")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self.state.store_file(upload.content, kind, upload.filename, upload.content_type)

    # -- methods -----------------------------------------------------------------------------------

    def get_me(self, params: Params, files: Files) -> dict[str, Any]:
        return self.state.bot_user

    async def get_updates(self, params: Params, files: Files) -> list[dict[str, Any]]:
        if self.state.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        return await self.state.updates.get(params.get("offset"), limit, float(params.get("timeout") or 0), params.get("allowed_updates"))

    async def set_webhook(self, params: Params, files: Files) -> bool:
        url = params.get("url") or ""
        if not url:  # Telegram: an empty URL removes the webhook
            return await self.delete_webhook(params, files)
        # Telegram wants HTTPS; a self-hosted Bot API server, like this loopback one, takes HTTP too.
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        if params.get("allowed_updates") is not None:
            self.state.updates.allowed_updates = list(params["allowed_updates"])
        max_connections = min(max(int(params.get("max_connections") or 40), 1), 100)
        self.state.webhook = Webhook(url, secret, max_connections)
        self.state.updates.end_polls(self.state.updates.WEBHOOK_SET)
        self.webhooks.start()
        return True

    async def delete_webhook(self, params: Params, files: Files) -> bool:
        await self.webhooks.stop()
        self.state.webhook = None
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        return True

    def get_webhook_info(self, params: Params, files: Files) -> dict[str, Any]:
        hook = self.state.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates.pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info.update(last_error_date=hook.last_error_date, last_error_message=hook.last_error_message)
            if self.state.updates.allowed_updates:
                info["allowed_updates"] = self.state.updates.allowed_updates
        return info

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def set_my_commands(self, params: Params, files: Files) -> bool:
        commands = _required(params, "commands")
        check_commands(commands)
        self.state.commands[self._commands_key(params)] = commands
        return True

    def get_my_commands(self, params: Params, files: Files) -> list[dict[str, Any]]:
        return self.state.commands.get(self._commands_key(params), [])

    def delete_my_commands(self, params: Params, files: Files) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    def send_message(self, params: Params, files: Files) -> dict[str, Any]:
        chat = self.chat(params)
        text, raw = self._text(params, "text", caption=False)
        if not text or not text.strip():
            raise bad_request("message text is empty")
        return self._deliver(chat, params, text=text, raw_text=raw)

    def send_photo(self, params: Params, files: Files) -> dict[str, Any]:
        return self._send_file(params, files, "photo")

    def send_document(self, params: Params, files: Files) -> dict[str, Any]:
        return self._send_file(params, files, "document")

    def _send_file(self, params: Params, files: Files, kind: str) -> dict[str, Any]:
        chat = self.chat(params)
        caption, raw = self._text(params, "caption", caption=True)
        stored = self._input_file(params, files, kind, kind)
        return self._deliver(chat, params, text=caption, raw_text=raw, kind=kind, file_id=stored.file_id)

    def _edit(self, message: ChatMessage, text: str | None, raw: str | None, parse_mode: str | None, params: Params) -> dict[str, Any]:
        markup = params.get("reply_markup")  # omitted: the inline keyboard is removed
        check_reply_markup(markup, inline_only=True)
        inline = message.reply_markup if message.inline_keyboard else None  # a reply keyboard is not the message's
        if (text, raw, parse_mode, markup) == (message.text, message.raw_text, message.parse_mode, inline):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.history.append(Version(message.text, message.raw_text, message.reply_markup, time.monotonic()))
        message.text, message.raw_text, message.parse_mode = text, raw, parse_mode
        if markup is not None or inline is not None:
            message.reply_markup = markup
        message.edit_date = int(time.time())
        self.state.touch(message)
        return message_api(self.state, message)

    def edit_message_text(self, params: Params, files: Files) -> dict[str, Any]:
        _chat, message = self._bot_message(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, raw = self._text(params, "text", caption=False)
        if not text or not text.strip():
            raise bad_request("message text is empty")
        return self._edit(message, text, raw, params.get("parse_mode"), params)

    def edit_message_reply_markup(self, params: Params, files: Files) -> dict[str, Any]:
        _chat, message = self._bot_message(params)
        return self._edit(message, message.text, message.raw_text, message.parse_mode, params)

    def delete_message(self, params: Params, files: Files) -> bool:
        chat = self.chat(params)
        message = chat.messages.get(_required(params, "message_id"))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        self.state.touch(message)
        return True

    def answer_callback_query(self, params: Params, files: Files) -> bool:
        query = self.state.callbacks.get(str(_required(params, "callback_query_id")))
        if query is None or query.answer is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = CallbackAnswer(
            query_id=query.query_id,
            data=query.data,
            message_id=query.message_id,
            text=text,
            show_alert=bool(params.get("show_alert")),
            url=params.get("url"),
            time=time.monotonic(),
        )
        self.state.changed.notify()
        return True

    def send_chat_action(self, params: Params, files: Files) -> bool:
        self.chat(params)
        _required(params, "action")
        return True

    def get_file(self, params: Params, files: Files) -> dict[str, Any]:
        stored = self.state.files.get(_required(params, "file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.api()
