"""The bot's commands and who may see them: the one list /help and the command menus are built from.

A feature router that adds a command adds it here, with the roles that may use it (None: everyone);
its description is a gettext message id. A command listed here without a handler yet answers
"not available yet" (routers/fallback.py), so the menu never promises something silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.models import Role
from jointcheck.i18n import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class CommandSpec:
    command: str
    description: str  # gettext message id
    roles: frozenset[Role] | None = None  # None: everyone, bound or not

    def allowed(self, actor: Actor) -> bool:
        return self.roles is None or any(actor.has_role(role) for role in self.roles)


_VIEWERS = frozenset({Role.OFFICER, Role.CONVENER, Role.INSPECTOR})

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", N_("bind your account with an invite code")),
    CommandSpec("help", N_("what you can do here")),
    CommandSpec("lang", N_("switch language: 中文 / English")),
    CommandSpec("propose", N_("propose a joint round (lead department)"), frozenset({Role.OFFICER})),
    CommandSpec("rounds", N_("the rounds you take part in"), _VIEWERS),
    CommandSpec("round", N_("the status of one round: /round ID"), _VIEWERS),
    CommandSpec("pending", N_("rounds awaiting your approval, seed or draw"), frozenset({Role.CONVENER})),
    CommandSpec("tasks", N_("your inspection tasks"), frozenset({Role.INSPECTOR})),
    CommandSpec("review", N_("results awaiting your review"), frozenset({Role.OFFICER})),
    CommandSpec("publish", N_("publish your department's accepted results"), frozenset({Role.OFFICER})),
    CommandSpec("case", N_("record a case lead: an immediate task for your inspectors"), frozenset({Role.OFFICER})),
    CommandSpec("cases", N_("open case leads"), frozenset({Role.OFFICER, Role.CONVENER})),
    CommandSpec("credit", N_("a target's credit class and its history: /credit CODE"), frozenset({Role.OFFICER, Role.CONVENER})),
    CommandSpec("stats", N_("statistics of the year, with a chart"), frozenset({Role.OFFICER, Role.CONVENER})),
)


def commands_for(actor: Actor) -> list[CommandSpec]:
    return [spec for spec in COMMANDS if spec.allowed(actor)]


def spec_of(command: str) -> CommandSpec | None:
    return next((spec for spec in COMMANDS if spec.command == command), None)


def bot_commands(actor: Actor, texts: Texts) -> list[BotCommand]:
    return [BotCommand(command=spec.command, description=texts.gettext(spec.description)) for spec in commands_for(actor)]


async def set_chat_menu(bot: Bot, chat_id: int, actor: Actor, texts: Texts) -> None:
    """The command menu of one private chat, for the user's roles, in the user's stored language.

    Set with no language_code: Telegram then shows it whatever the client's language, and the
    user's choice in /lang (not the client's setting) decides the language.
    """
    await bot.set_my_commands(bot_commands(actor, texts), scope=BotCommandScopeChat(chat_id=chat_id))


async def set_default_menus(bot: Bot) -> None:
    """Everyone else's menu (not bound yet): the public commands, Chinese by default, English for en clients."""
    nobody = Actor(label="menu")
    await bot.set_my_commands(bot_commands(nobody, Texts(DEFAULT_LANGUAGE)), scope=BotCommandScopeDefault())
    await bot.set_my_commands(bot_commands(nobody, Texts("en")), scope=BotCommandScopeDefault(), language_code="en")
