"""Charts of the statistics: a PNG for the chat, an SVG for the public site.

Chinese text needs a CJK font, and a fresh machine has none that matplotlib would find: the font
comes with the project (the `mplfonts` package ships Noto Sans CJK SC) and is registered with
matplotlib's font manager explicitly, by its file, never looked up among the machine's fonts.
Texts arrive translated (`gettext` of the reader's language): core knows no language.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: rendered to bytes only

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from jointcheck.core.services.stats import Statistics  # noqa: E402

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_PROBLEM, _OTHER, _DONE, _PLANNED = "#c0392b", "#7f8c8d", "#2e86c1", "#d6eaf8"


def N_(message: str) -> str:
    return message


TITLE = N_("Inspection statistics %(year)s")
COVERAGE = N_("Coverage by department (tasks checked / planned)")
CATEGORIES = N_("Results by category (red: problems)")
PLANNED = N_("planned")
CHECKED = N_("checked")
NOTHING = N_("No results yet")


@cache
def cjk_font_path() -> Path:
    """The CJK font file shipped by mplfonts (found without importing the package, which would
    change matplotlib's global settings)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package is not installed: charts cannot show Chinese")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / CJK_FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall mplfonts")
    return path


@cache
def cjk_font() -> font_manager.FontProperties:
    """The font registered with matplotlib's font manager, as properties naming it by family."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(family=font_manager.FontProperties(fname=str(path)).get_name())


def _figure(stats: Statistics, gettext: Callable[[str], str]) -> Figure:
    font = cjk_font()
    family = font.get_family()
    figure = Figure(figsize=(8, 7), dpi=100, layout="constrained")
    figure.suptitle(gettext(TITLE) % {"year": stats.year}, fontproperties=font, fontsize=15)
    top, bottom = figure.subplots(2, 1)

    by_department = stats.coverage_by_department()
    names = list(by_department)
    planned = [by_department[d][0] for d in names]
    checked = [by_department[d][1] for d in names]
    positions = range(len(names))
    top.barh(positions, planned, color=_PLANNED, label=gettext(PLANNED))
    top.barh(positions, checked, color=_DONE, label=gettext(CHECKED))
    top.set_yticks(list(positions), names)
    top.invert_yaxis()
    for y, (p, c) in enumerate(zip(planned, checked)):
        top.text(p, y, f" {c}/{p} ({c / p:.0%})" if p else " 0", va="center", fontsize=9)
    top.set_title(gettext(COVERAGE), fontproperties=font, fontsize=11)
    top.legend(prop=font, loc="lower right")

    codes = list(stats.categories)
    if codes:
        bars = bottom.bar(range(len(codes)), [stats.categories[c] for c in codes])
        for bar, code in zip(bars, codes):
            bar.set_color(_PROBLEM if code in stats.problem_categories else _OTHER)
        bottom.set_xticks(range(len(codes)), codes)
    else:
        bottom.text(0.5, 0.5, gettext(NOTHING), ha="center", va="center", fontproperties=font, transform=bottom.transAxes)
        bottom.set_xticks([])
    bottom.set_title(gettext(CATEGORIES), fontproperties=font, fontsize=11)
    for axes in (top, bottom):
        for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
            label.set_family(family)
    return figure


def stats_png(stats: Statistics, gettext: Callable[[str], str]) -> bytes:
    """The chart as a PNG, for the chat."""
    buffer = io.BytesIO()
    _figure(stats, gettext).savefig(buffer, format="png")
    return buffer.getvalue()


def stats_svg(stats: Statistics, gettext: Callable[[str], str]) -> str:
    """The chart as an SVG document for the public site (public_statistics gives what it may show).

    Text is drawn as paths, so the page needs no font and no JavaScript to show the Chinese."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "jointcheck"}):
        _figure(stats, gettext).savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
