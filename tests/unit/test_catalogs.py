"""Both catalogs are compiled and translate every message the code marks."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS, ROLE_LABELS
from jointcheck.i18n import LANGUAGES, LOCALES_DIR, normalize_language, translations

MARKED = [*CATEGORIES.values(), *FOLLOW_UPS.values(), *ROLE_LABELS.values()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_message_is_translated(language):
    with open(LOCALES_DIR / language / "LC_MESSAGES" / "jointcheck.po", "rb") as fh:
        catalog = read_po(fh)
    missing = [m for m in MARKED if m not in catalog or not catalog[m].string]
    assert missing == []


def test_compiled_catalogs_are_used():
    assert translations("zh_CN").gettext(CATEGORIES["1"]) == "未发现问题"
    assert translations("zh_CN").gettext(CATEGORIES["9"]) == "已注销 / 已吊销 / 已迁出"
    assert translations("en").gettext(CATEGORIES["C"]) == "disclosed information false"


@pytest.mark.parametrize(
    "tag, expected", [("zh-hans", "zh_CN"), ("zh-TW", "zh_CN"), ("zh", "zh_CN"), ("en-US", "en"), ("de", "zh_CN"), (None, "zh_CN")]
)
def test_telegram_language_tags(tag, expected):
    assert normalize_language(tag) == expected
