"""Message text rules Telegram enforces: HTML parse mode, lengths, keyboards, commands.

HTML is parsed the way Telegram does it, strictly: only the supported tags, properly nested, and
every `<` that does not open a tag must be escaped, else 400 "can't parse entities". The text a user
sees is the tag-free, unescaped text. Markdown modes are passed through unparsed.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from jointcheck.testing.emulator.state import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span", "blockquote", "tg-emoji"}
COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise bad_request('can\'t parse entities: Unsupported start tag: a "<" must be escaped as &lt;')
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        # only these named entities are supported; others stay as written
        self.parts.append(html.unescape(f"&{name};") if name in ("lt", "gt", "amp", "quot") else f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.parts.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise bad_request('can\'t parse entities: Unsupported start tag "!--"')


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text as the user sees it; raises 400 where Telegram refuses the markup."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise bad_request(f"can't parse entities: Can't find end tag corresponding to start tag \"{parser.open[-1]}\"")
    return "".join(parser.parts)


def check_length(text: str, caption: bool) -> None:
    if caption and len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    if not caption and len(text) > MAX_TEXT:
        raise bad_request("message is too long")


def check_reply_markup(markup: Any, inline_only: bool = False) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text must be non-empty")
                if len(button) < 2:
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
    elif inline_only:
        raise bad_request("inline keyboard expected")
    elif not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
        raise bad_request("can't parse reply keyboard markup JSON object")


def check_commands(commands: Any) -> None:
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for item in commands:
        if not isinstance(item, dict) or not COMMAND.match(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(item.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def command_entities(text: str) -> list[dict[str, Any]] | None:
    """The bot_command entity Telegram attaches to a message starting with /command."""
    match = re.match(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if not match:
        return None
    return [{"type": "bot_command", "offset": 0, "length": len(match.group(0))}]
