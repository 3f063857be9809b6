"""The statistics chart: a PNG whose Chinese title is drawn with the CJK font the project ships,
on any machine (never a system font), with no missing glyph; and the SVG for the site."""

from __future__ import annotations

import logging
import warnings

from matplotlib import font_manager

from jointcheck.core.charts import cjk_font, cjk_font_path, stats_png, stats_svg
from jointcheck.core.services.stats import Coverage, Statistics
from jointcheck.i18n import translations

STATS = Statistics(
    2026,
    "440100",
    coverage=[Coverage("市场监管局", "SAMR-001", "食品经营许可检查", 10, 4), Coverage("税务局", "TAX-001", "发票使用检查", 5, 5)],
    categories={"1": 5, "A": 2, "6": 1},
    problem_categories=frozenset({"A", "6"}),
)


def test_the_title_is_chinese_in_the_shipped_cjk_font_and_no_glyph_is_missing(caplog, monkeypatch):
    from jointcheck.core import charts

    figures = []
    original = charts._figure
    monkeypatch.setattr(charts, "_figure", lambda *a: figures.append(original(*a)) or figures[-1])
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("always")
        png = stats_png(STATS, translations("zh_CN").gettext)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert not [w for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)], [str(w.message) for w in caught]
    assert not [r for r in caplog.records if "findfont" in r.getMessage() or "Glyph" in r.getMessage()]
    title = figures[0].get_suptitle()
    assert title == "2026年抽查统计"
    used = font_manager.findfont(figures[0]._suptitle.get_fontproperties(), fallback_to_default=False)
    assert used == str(cjk_font_path()) and "site-packages/mplfonts/" in used
    assert font_manager.get_font(used).get_char_index(ord("抽")) != 0  # the glyph is in the font itself
    # the department names on the axis are drawn with it too
    labels = figures[0].axes[0].get_yticklabels()
    assert [label.get_text() for label in labels] == ["市场监管局", "税务局"]
    assert {font_manager.findfont(label.get_fontproperties()) for label in labels} == {used}
    assert cjk_font().get_family() == ["Noto Sans CJK SC"]


def test_the_site_svg_draws_text_as_paths_and_is_stable():
    svg = stats_svg(STATS, translations("en").gettext)
    assert svg.startswith("<?xml") and "<svg" in svg and "<text" not in svg  # shapes: no font needed to read it
    assert svg == stats_svg(STATS, translations("en").gettext)  # no date, no random ids: cacheable
