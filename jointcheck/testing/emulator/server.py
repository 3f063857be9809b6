"""HTTP side: Telegram's URL shapes, parameter decoding, recording, and the gate before each method.

aiogram posts every call as a form (urlencoded, or multipart when a file is attached): strings are
sent as they are, numbers and booleans as JSON text ("42", "true"), objects and lists (reply_markup,
commands, scope, allowed_updates) as JSON strings, and an upload as `document=attach://<key>` plus
a file part named `<key>`. Plain JSON bodies and query strings are accepted too, as Telegram does.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from typing import Any

from aiohttp import web

from jointcheck.testing.emulator.limits import DELIVERY_METHODS, Disconnect, Gate
from jointcheck.testing.emulator.methods import BotAPI, Files, Params
from jointcheck.testing.emulator.state import APICall, ApiError, EmulatorState, UploadedFile, bad_request

MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for files bots upload
# What `hold_answers` holds: every call that reaches a chat (a slow Telegram is slow at those), not
# getUpdates, so updates keep arriving meanwhile.
HELD_METHODS = DELIVERY_METHODS | {"answerCallbackQuery"}
INT_PARAMS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "reply_to_message_id",
    "message_thread_id",
    "cache_time",
    "user_id",
    "from_chat_id",
}
BOOL_PARAMS = {
    "show_alert",
    "disable_notification",
    "protect_content",
    "drop_pending_updates",
    "allow_sending_without_reply",
    "disable_web_page_preview",
    "disable_content_type_detection",
    "has_spoiler",
    "show_caption_above_media",
}
JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "entities",
    "caption_entities",
    "reply_parameters",
    "link_preview_options",
}


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            if name == "chat_id":
                return value  # @username
            raise bad_request(f"invalid {name} specified") from None
    if name in BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


async def read_params(request: web.Request) -> tuple[Params, Files]:
    raw: dict[str, Any] = dict(request.query)
    files: Files = {}
    if request.content_type == "application/json" and request.can_read_body:
        try:
            raw.update(await request.json())
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
    elif request.method == "POST":
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                raw[name] = value
    return {name: _coerce(name, value) for name, value in raw.items()}, files


class ApiServer:
    def __init__(self, token: str, state: EmulatorState, api: BotAPI, gate: Gate) -> None:
        self.token = token
        self.state = state
        self.api = api
        self.gate = gate
        self.answering = asyncio.Event()  # cleared: sends take effect, their answers wait
        self.answering.set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)
        return app

    async def handle_method(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        method = self.api.canonical(name)
        call = APICall(method=method or name, params={}, time=time.monotonic())
        self.state.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            call.params, call.files = await read_params(request)
            if method is None:
                raise ApiError(404, "Not Found: method not emulated")
            chat_id = call.params.get("chat_id")
            chat = self.state.chats.get(chat_id) if isinstance(chat_id, int) else None
            self.gate.check(method, chat_id, chat)
            result = self.api.call(method, call.params, call.files)
            if inspect.isawaitable(result):
                result = await result
            self.gate.record(method, chat_id, chat)
            if method in HELD_METHODS:
                await self.answering.wait()
        except ApiError as error:
            call.ok, call.status = False, error.code
            call.description, call.retry_after = error.description, error.retry_after
            return web.json_response(error.payload(), status=error.code)
        except Disconnect:
            call.ok, call.description = False, "connection closed without an answer"
            request.transport.close()
            return web.Response()  # never reaches the client
        except asyncio.CancelledError:
            call.description = "the client closed the connection"
            raise
        call.ok, call.status, call.result = True, 200, result
        return web.json_response({"ok": True, "result": result})

    async def handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = self.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.content, headers={"Content-Type": stored.mime_type or "application/octet-stream"})
