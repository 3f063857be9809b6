"""Middlewares: one unit of work and the Actor per update, the language, core refusals."""

from jointcheck.bot.middlewares.database import DatabaseMiddleware
from jointcheck.bot.middlewares.i18n import I18nMiddleware
from jointcheck.bot.middlewares.refusals import RefusalMiddleware

__all__ = ["DatabaseMiddleware", "I18nMiddleware", "RefusalMiddleware"]
