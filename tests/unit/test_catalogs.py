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


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_message_is_one_entry_of_its_own(language):
    """The catalogs merge as a union (.gitattributes): two branches adding the same message leave it
    twice, and an entry appended right after another's msgstr is glued to it; babel reads either
    without a word, keeping one translation at random."""
    text = (LOCALES_DIR / language / "LC_MESSAGES" / "jointcheck.po").read_text(encoding="utf-8")
    seen, glued = {}, []
    previous = ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(("msgid ", "#")) and previous.startswith(('"', "msgstr")):
            glued.append(number)
        if line.startswith("msgid ") and line != 'msgid ""':
            seen.setdefault(line, []).append(number)
        previous = line
    assert glued == []
    assert {m: lines for m, lines in seen.items() if len(lines) > 1} == {}
