"""Loading the compiled gettext catalogs that the bot and the site render with, and the Jinja2
environment both render their templates in."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

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


def N_(message: str) -> str:
    """Marks a message id for extraction; translated where it is shown."""
    return message


def template_environment(templates_dir: Path, language: str) -> Environment:
    """Templates of one folder in one language: `.html` autoescaped, gettext installed (new style).
    The bot and the site each build theirs once per language and add their own filters."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the code: asking the file system whether they changed, on every
        # render, only costs time.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    return env


def console_language(environ) -> str:
    """The operator's language at a console: JOINTCHECK_LANGUAGE, else the locale (LC_ALL,
    LC_MESSAGES, LANG); 'zh_CN' for any Chinese, 'en' otherwise."""
    for name in ("JOINTCHECK_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"
