"""The site's texts: Jinja2 templates under templates/web/, translated by the same gettext catalogs
as the bot. One Environment per language, built once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment

from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS
from jointcheck.i18n import N_, template_environment, translations

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "web"
# The language of each page's <html lang>, and the path prefix that selects it (zh-CN has none).
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
PREFIX = {"zh_CN": "", "en": "/en"}


TARGET_KINDS = {
    "enterprise": N_("enterprise"),
    "individual": N_("individual business"),
    "cooperative": N_("farmers' cooperative"),
    "product": N_("product"),
    "project": N_("project"),
    "behaviour": N_("behaviour"),
}
ROUND_STATUSES = {
    "approved": N_("approved, waiting for the seed"),
    "seeded": N_("seeded, waiting for the draw"),
    "drawn": N_("drawn"),
}
ITEM_CATEGORIES = {"general": N_("general"), "key": N_("key")}
SCOPE_LABELS = {
    "regions": N_("Regions"),
    "kinds": N_("Target kinds"),
    "industries": N_("Industries"),
    "tags": N_("Tags"),
    "departments": N_("Responsible departments"),
    "stratify_by_region": N_("Drawn separately in each region"),
}


def _local(value) -> str:
    if value is None:
        return ""
    return value.astimezone(DOMAIN_TZ).strftime("%Y-%m-%d %H:%M")


@cache
def environment(language: str) -> Environment:
    catalog = translations(language)
    env = template_environment(TEMPLATES_DIR, language)
    env.filters["category_label"] = lambda code: catalog.gettext(CATEGORIES[str(code)]) if str(code) in CATEGORIES else str(code)
    env.filters["follow_up_label"] = lambda code: catalog.gettext(FOLLOW_UPS[str(code)]) if str(code) in FOLLOW_UPS else str(code)
    env.filters["kind_label"] = lambda code: catalog.gettext(TARGET_KINDS[str(code)]) if str(code) in TARGET_KINDS else str(code)
    env.filters["status_label"] = lambda code: catalog.gettext(ROUND_STATUSES[str(code)]) if str(code) in ROUND_STATUSES else str(code)
    env.filters["item_category_label"] = lambda code: catalog.gettext(ITEM_CATEGORIES.get(str(code), str(code)))
    env.filters["local_time"] = _local
    env.filters["scope_label"] = lambda key: catalog.gettext(SCOPE_LABELS[key]) if key in SCOPE_LABELS else key
    env.globals["category_labels"] = {code: catalog.gettext(label) for code, label in CATEGORIES.items()}
    env.globals["follow_up_labels"] = {code: catalog.gettext(label) for code, label in FOLLOW_UPS.items()}
    env.globals["html_lang"] = HTML_LANG[language]
    env.globals["language"] = language
    env.globals["prefix"] = PREFIX[language]
    return env


def render(language: str, template: str, **params) -> str:
    return environment(language).get_template(template).render(**params)


def template_names() -> list[str]:
    return sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*.html"))
