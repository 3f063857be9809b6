"""Every user-visible text of the bot: Jinja2 templates under templates/bot/, translated by gettext.

One Environment per language, built on first use and cached. Templates ending in `.html` are
autoescaped (messages go out with parse mode HTML); `.txt` templates are plain text for places
Telegram shows verbatim (callback answers, command descriptions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment

from jointcheck.core.result_categories import CATEGORIES, ROLE_LABELS
from jointcheck.i18n import N_, template_environment, translations  # noqa: F401  (N_: routers mark messages with it)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "bot"

# Each language named in its own script: these are never translated.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


@cache
def environment(language: str) -> Environment:
    catalog = translations(language)
    env = template_environment(TEMPLATES_DIR, language)
    env.filters["role_label"] = lambda role: catalog.gettext(ROLE_LABELS[str(role)])
    env.filters["category_label"] = lambda code: catalog.gettext(CATEGORIES[str(code)])
    return env


def template_names() -> list[str]:
    """Every bot template, relative to templates/bot/ (for the catalog test)."""
    return sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*") if p.suffix in (".html", ".txt"))


@dataclass(frozen=True)
class Texts:
    """The texts of one language: `gettext` for a single message id, `render` for a template."""

    language: str

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)

    def render(self, template: str, **params) -> str:
        """Render templates/bot/<template>; surrounding whitespace is dropped, Telegram trims it anyway."""
        return environment(self.language).get_template(template).render(**params).strip()
