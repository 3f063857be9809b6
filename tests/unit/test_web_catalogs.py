"""Both catalogs carry every text of the public site (templates/web and jointcheck/web), translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from jointcheck.i18n import LANGUAGES, LOCALES_DIR
from jointcheck.web.texts import TEMPLATES_DIR

WEB_DIR = Path(__file__).resolve().parents[2] / "jointcheck" / "web"


def _ids() -> set[str]:
    found = set()
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trim_blocks": "true", "lstrip_blocks": "true"}}
    for *_, message, _, _ in extract_from_dir(TEMPLATES_DIR, method_map=[("**.html", "jinja2")], options_map=options):
        found.add(message if isinstance(message, str) else message[0])
    for *_, message, _, _ in extract_from_dir(WEB_DIR, method_map=[("**.py", "python")], keywords={"N_": None}):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_site_text_is_translated(language):
    with open(LOCALES_DIR / language / "LC_MESSAGES" / "jointcheck.po", "rb") as po:
        catalog = read_po(po)
    ids = _ids()
    assert len(ids) > 100
    missing = sorted(m for m in ids if m not in catalog or not catalog[m].string or catalog[m].fuzzy)
    assert missing == []
    if language == "zh_CN":
        untranslated = sorted(m for m in ids if catalog[m].string == m)
        assert untranslated == []
