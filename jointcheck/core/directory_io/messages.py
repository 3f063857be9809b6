"""An import's messages in the operator's language: English msgids with {fields}, from the catalogs."""

from __future__ import annotations

from collections.abc import Iterable

from jointcheck.i18n import translations

__all__ = ["translate"]


def translate(template: str, params: dict | Iterable = (), language: str = "en") -> str:
    """`template` (an English msgid with {fields}) in `language` ('en' or 'zh_CN'), filled in."""
    if language != "en":
        template = translations(language).gettext(template)
    return template.format(**dict(params)) if params else template
