"""`jointcheck stats`: the year's statistics as text, an XLSX workbook (--out) and a chart (--chart)."""

from __future__ import annotations

from pathlib import Path

from jointcheck.cli.context import add_actor_option
from jointcheck.cli.rounds import _run
from jointcheck.core.services.stats import statistics
from jointcheck.i18n import DEFAULT_LANGUAGE, LANGUAGES, translations


def register(commands) -> None:
    p = commands.add_parser("stats", help="statistics of a year: coverage, problems, timeliness, caps, load, credit moves")
    p.add_argument("--year", type=int, help="the year in China (default: this year)")
    p.add_argument("--region", help="only rounds of this jurisdiction (6 digits)")
    p.add_argument("--out", metavar="FILE.xlsx", help="write the tables to this workbook")
    p.add_argument("--chart", metavar="FILE.png", help="write the chart to this PNG (as /stats sends it)")
    p.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help="language of the workbook and chart")
    add_actor_option(p)
    p.set_defaults(handler=stats_command)


async def stats_command(args, settings) -> int:
    stats = await _run(settings, args.as_user, statistics, year=args.year, region=args.region, commit=False)
    gettext = translations(args.lang).gettext
    coverage = stats.coverage_by_department()
    print(f"year {stats.year}: {len(stats.caps)} frozen rounds, {sum(p for p, _ in coverage.values())} planned item checks")
    for department, (planned, checked) in coverage.items():
        print(f"coverage\t{department}\t{checked}/{planned}")
    print(f"problem rate\t{stats.problems}/{stats.results}")
    t = stats.completion
    print(f"on-time completion\t{t.on_time}/{t.on_time + t.late + t.overdue}")
    t = stats.publication_total
    print(f"on-time publication\t{t.on_time}/{t.on_time + t.late + t.overdue}")
    print(f"ratio caps respected\t{stats.caps_respected}/{len(stats.caps)}")
    if args.out:
        from jointcheck.core.stats_export import stats_workbook

        Path(args.out).write_bytes(stats_workbook(stats, gettext))
        print(f"tables written to {args.out}")
    if args.chart:
        from jointcheck.core.charts import stats_png  # matplotlib loads only when a chart is asked for

        Path(args.chart).write_bytes(stats_png(stats, gettext))
        print(f"chart written to {args.chart}")
    return 0
