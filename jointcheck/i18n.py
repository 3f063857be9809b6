"""Loading the compiled gettext catalogs that the bot and the site render with."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "jointcheck"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


def normalize_language(code: str | None) -> str:
    """Telegram sends IETF tags such as 'zh-hans', 'zh-TW' or 'en-US'; any zh* is zh_CN."""
    if not code:
        return DEFAULT_LANGUAGE
    code = code.replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog; a missing .mo is an install error (run `make catalogs`), not a fallback."""
    return gettext.translation(DOMAIN, localedir=LOCALES_DIR, languages=[language])


def console_language(environ) -> str:
    """The operator's language at a console: JOINTCHECK_LANGUAGE, else the locale (LC_ALL,
    LC_MESSAGES, LANG); 'zh_CN' for any Chinese, 'en' otherwise."""
    for name in ("JOINTCHECK_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"
