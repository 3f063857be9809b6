"""The statistics as an XLSX workbook, one sheet per table (`jointcheck stats --out FILE.xlsx`).

Headers arrive translated through `gettext`; figures are numbers (rates as fractions formatted
as percentages), so the tables can be summed and charted again in a spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from jointcheck.core.result_categories import CATEGORIES
from jointcheck.core.services.stats import Statistics


def N_(message: str) -> str:
    return message


SHEETS = {
    "coverage": (N_("Coverage"), (N_("Department"), N_("Item code"), N_("Item"), N_("Tasks planned"), N_("Tasks checked"), N_("Coverage"))),
    "categories": (N_("Results by category"), (N_("Category"), N_("Meaning"), N_("Number of results"), N_("Problem"))),
    "timeliness": (
        N_("Timeliness"),
        (N_("What"), N_("Department"), N_("On time"), N_("Late"), N_("Overdue"), N_("Not yet due"), N_("On-time rate")),
    ),
    "caps": (
        N_("Ratio caps"),
        (N_("Round"), N_("Title"), N_("Lowest cap (‰)"), N_("Highest ratio (‰)"), N_("Drawn"), N_("Population"), N_("Cap respected")),
    ),
    "load": (N_("Inspectors' load"), (N_("Department"), N_("Inspectors"), N_("Tasks"), N_("Fewest"), N_("Most"), N_("Mean"))),
    "credit": (N_("Credit-class moves"), (N_("Direction"), N_("From class"), N_("To class"), N_("Targets"))),
}
COMPLETION = N_("Tasks completed by their due date")
PUBLICATION = N_("Results published within 20 working days")
ALL = N_("all")
YES, NO = N_("yes"), N_("no")
REASONS = {"raise": N_("raised"), "lower": N_("lowered")}


def stats_workbook(stats: Statistics, gettext: Callable[[str], str]) -> bytes:
    workbook = Workbook(write_only=True)
    sheets = {}
    for key, (title, headers) in SHEETS.items():
        sheet = workbook.create_sheet(gettext(title)[:31])
        sheet.append([gettext(h) for h in headers])
        sheets[key] = sheet

    def percent(sheet, value: float) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "0.0%"
        return cell

    yes_no = {True: gettext(YES), False: gettext(NO)}
    for row in stats.coverage:
        sheet = sheets["coverage"]
        sheet.append([row.department, row.item_code, row.item_name, row.planned, row.checked, percent(sheet, row.rate)])
    for code, n in stats.categories.items():
        sheets["categories"].append([code, gettext(CATEGORIES.get(code, code)), n, yes_no[code in stats.problem_categories]])
    sheet = sheets["timeliness"]
    t = stats.completion
    sheet.append([gettext(COMPLETION), gettext(ALL), t.on_time, t.late, t.overdue, t.pending, percent(sheet, t.rate)])
    for department, t in [*stats.publication.items(), (gettext(ALL), stats.publication_total)]:
        sheet.append([gettext(PUBLICATION), department, t.on_time, t.late, t.overdue, t.pending, percent(sheet, t.rate)])
    for c in stats.caps:
        sheets["caps"].append([c.round_id, c.title, c.cap, c.highest_ratio, c.drawn, c.population, yes_no[c.respected]])
    for load in stats.load:
        sheets["load"].append([load.department, load.inspectors, load.tasks, load.least, load.most, round(load.mean, 2)])
    for move in stats.credit:
        sheets["credit"].append([gettext(REASONS.get(move.reason, move.reason)), move.from_class, move.to_class, move.targets])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
