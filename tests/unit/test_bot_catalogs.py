"""Both catalogs cover every bot text, and every template renders in both languages.

Message ids are extracted the way a translator's tools would (Jinja2's extractor for the templates,
Babel's Python extractor with N_ for the bot's code and the core labels templates show); each must
have a non-fuzzy translation in both .po files, the compiled .mo must agree with the .po, and each
template, rendered with every sample below, must be valid Telegram HTML showing translated text only.
A new template needs its samples here: one per branch, so that every message is shown at least once.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from jointcheck.bot.filters import HasRole, IsBound
from jointcheck.bot.texts import TEMPLATES_DIR, Texts, environment, template_names
from jointcheck.core import result_categories
from jointcheck.core.authz import Actor, Grant
from jointcheck.core.models import Role
from jointcheck.i18n import LANGUAGES, LOCALES_DIR, translations
from jointcheck.testing.emulator.formatting import visible_text

BOT_DIR = Path(__file__).resolve().parents[2] / "jointcheck" / "bot"
COMMANDS = [{"command": "help", "description": "what you can do here"}, {"command": "propose", "description": "x & <y>"}]

# The /propose wizard: one sample per step and per reason a step is asked again.
_FINDINGS = [{"code": "SAMR-001", "name": "食品<经营>", "category": "1"}, {"code": "SAMR-K01", "name": "特种设备", "category": "A"}]
_REASONS = ("title", "region", "subregions", "ratios", "team", "cooling", "buttons")
_STEPS = (
    "title",
    "lead",
    "items",
    "invited",
    "region",
    "subregions",
    "kinds",
    "industries",
    "tags",
    "departments",
    "ratios",
    "teams",
    "cooling",
    "draw_at",
    "due",
)
_SUMMARY = {
    "title": "食品<联合>抽查 & Co",
    "lead": "市场监管局",
    "items": [{"code": "SAMR-001", "name": "食品经营许可检查 <a>"}],
    "invited": ["税务局", "生态环境局"],
    "region": "440100",
    "subregions": ["440106", "440111"],
    "kinds": ["产品"],
    "industries": ["F51"],
    "tags": ["食品"],
    "responsible": ["SAMR", "TAX"],
    "ratios": [("A", 30), ("B", 50), ("C", 200), ("D", 600)],
    "teams": [("市场监管局", 2), ("税务局", 1)],
    "cooling": [("A", 365), ("B", 180), ("C", 90), ("D", 30)],
    "draw_at": "2026-12-01 10:00",
    "due": "2026-12-31",
}
PROPOSE_SAMPLES: dict[str, list[dict]] = {
    "propose/step.html": [
        {
            "step": s,
            "reason": r,
            "detail": d,
            "lead": "市场监管局",
            "department": "税务局 <x>",
            "region": "广州市 (440100)",
            "max_title": 300,
            "max_team": 20,
        }
        for s, r, d in zip(_STEPS, [*_REASONS, "", "", "", "", "", "", "", ""], [*[""] * 10, "抽取时间 <已过>", *[""] * 5])
    ],
    "propose/summary.html": [
        {**_SUMMARY, "reason": "buttons", "problems": []},
        {**_SUMMARY, "reason": "", "problems": ["完成期限 <早于> 抽取时间", "比例"]},
        {
            **_SUMMARY,
            "problems": [],
            "reason": "",
            "subregions": [],
            "kinds": [],
            "industries": [],
            "tags": [],
            "responsible": [],
            "cooling": [],
            "draw_at": "",
            "due": "",
        },
    ],
    "errors/reason.txt": [
        {"code": "ratio.above_cap", "ratio_percent": "50%", "risk": "A", "cap_percent": "40%", "item": "SAMR-001", "name": "Food & drink"},
        {"code": "department.unknown", "department": "N<O>PE"},
        {"code": "scope.region_outside", "subregion_name": "徐汇区 (310104)", "region_name": "广州市 (440100)"},
        {"code": "note.empty"},
        {"code": "note.too_long", "chars": 2001, "limit": 2000},
        {"code": "review.reason_missing"},
        {"code": "title.empty"},
        {"code": "title.too_long", "chars": 301, "max": 300},
        {"code": "kind.unknown", "kind": "odd"},
        {"code": "items.none", "department": "市场监管局"},
        {"code": "items.not_current", "item": "SAMR-001", "department": "市场监管局"},
        {"code": "items.changed", "department": "市场监管局"},
        {"code": "invited.self"},
        {"code": "invited.none"},
        {"code": "region.not_code", "region": "4401"},
        {"code": "scope.kind_unknown", "kind": "odd"},
        {"code": "scope.industry_unreadable", "industry": "f5x"},
        {"code": "ratio.unknown_class", "risk": "E"},
        {"code": "ratio.out_of_range", "text": "120%", "risk": "A"},
        {"code": "ratio.all_zero"},
        {"code": "ratio.unreadable", "text": "三", "risk": "A"},
        {"code": "ratio.too_fine", "text": "2.55%", "risk": "A"},
        {"code": "team.out_of_range", "department": "TAX", "max": 20},
        {"code": "cooling.out_of_range", "risk": "A"},
        {"code": "batch.too_small"},
        {"code": "draw_at.past", "draw_at": "2020-12-01 10:00", "now": "2026-12-06 12:00"},
        {"code": "draw_at.unreadable", "text": "明天上午"},
        {"code": "draw_at.no_zone", "text": "2026-12-01T10:00"},
        {"code": "due.before_draw", "due": "2026-11-30", "draw_at": "2026-12-01 10:00"},
        {"code": "due.unreadable", "text": "月底"},
        {"code": "date.unreadable", "text": "月底"},
        {"code": "seed.not_digit", "char": "x", "min": 20},
        {"code": "seed.too_short", "count": 8, "min": 20},
        {"code": "seed.too_long", "count": 201, "max": 200},
    ],
    "propose/refused.html": [{"kind": "invalid", "problems": ["ratio 500‰ for class A is above the cap 400‰ of item <SAMR-001>", "x"]}],
    "propose/proposed.html": [{"round_id": 7, "title": "T<&>"}],
    "propose/cancelled.html": [{}],
    "propose/choose_first.txt": [{"what": "items"}, {"what": "invited"}],
}

SAMPLES: dict[str, list[dict]] = {
    "errors/button_refused.txt": [{}],
    "errors/core_error.txt": [
        {"kind": k, "detail": d}
        for k, d in [("denied", "not allowed: round.approve"), ("not_found", ""), ("conflict", ""), ("invalid", ""), ("other", "")]
    ],
    "errors/core_error.html": [
        {"kind": k, "detail": d}
        for k, d in [("denied", "role <x> & y"), ("not_found", ""), ("conflict", ""), ("invalid", ""), ("other", "")]
    ],
    "fallback/unhandled.html": [{"reason": r} for r in ("not_yet", "not_allowed", "unknown", "text")],
    "onboarding/bound.html": [
        {"name": "A<b>&c", "role": "officer", "scope": "市场监管局 & Co", "commands": COMMANDS},
        {"name": "Zoe", "role": "admin", "scope": "", "commands": COMMANDS[:1]},
    ],
    "onboarding/help.html": [
        {"roles": ["convener", "inspector"], "commands": COMMANDS},
        {"roles": [], "commands": COMMANDS[:1]},
    ],
    "onboarding/start_no_code.html": [{"roles": ["officer"], "bot_username": "jc_bot"}, {"roles": [], "bot_username": "jc_bot"}],
    "onboarding/invite_refused.html": [{"reason": r} for r in ("invalid", "used", "expired", "inspector_taken", "role_held", "other")],
    "onboarding/language_prompt.html": [{}],
    "onboarding/language_set.html": [{"language": "English"}],
    "outbox/round_invitation.html": [{"round_id": 7, "title": "食品<联合>抽查 & Co", "lead": "市场监管局"}],
    "outbox/round_response.html": [
        {"round_id": 7, "title": "x<y>", "department": "TAX", "department_name": "税务局", "accepted": a} for a in (True, False)
    ],
    "outbox/round_commitment.html": [{"round_id": 7, "title": "T", "commitment": "ab" * 32}],
    "outbox/round_seed.html": [{"round_id": 7, "title": "T", "seed": "123456|beef"}],
    "outbox/round_drawn.html": [
        {
            "round_id": 7,
            "title": "T",
            "selected": 12,
            "unstaffed": u,
            "commitment": "ab" * 32,
            "seed": "123456|beef",
            "selected_sha256": "cd" * 32,
            "assignments_sha256": "ef" * 32,
            "audit_head": "12:" + "ab" * 32,
        }
        for u in (0, 2)
    ],
    "outbox/tasks_assigned.html": [
        {"round_id": 7, "title": "T", "tasks": 40, "task_list": []},
        {
            "round_id": 7,
            "title": "T",
            "tasks": 2,
            "task_list": [
                {
                    "id": 41,
                    "target": "甲<店>",
                    "code": "T0001",
                    "address": "中山路1号",
                    "item_names": ["SAMR-001 食品经营许可检查"],
                    "team": ["检查员乙 (税务局)"],
                    "due_date": "2026-12-31",
                },
                {"id": 42, "target": "乙", "code": "T0002", "address": "", "item_names": [], "team": [], "due_date": ""},
            ],
        },
    ],
    "outbox/results_submitted.html": [
        {"task_id": 42, "round_id": 7, "title": "T", "items": ["SAMR-001", "SAMR-K01"]},
        {"task_id": 42, "round_id": 7, "title": "T", "items": ["SAMR-001"], "target": "甲<店>", "findings": _FINDINGS},
    ],
    "outbox/results_to_review.html": [
        {"task_id": 42, "round_id": 7, "title": "T", "items": ["SAMR-001"]},
        {"task_id": 42, "round_id": 7, "title": "T", "items": ["SAMR-001"], "target": "甲<店>", "findings": _FINDINGS},
    ],
    "outbox/results_returned.html": [
        {"task_id": 42, "items": ["SAMR-001"], "reason": "请补充照片 <b>"},
        {"task_id": 42, "items": ["SAMR-001"], "reason": "请补充照片", "target": "甲<店>"},
    ],
    "outbox/task_staffed.html": [{"task_id": 42}],
    "outbox/recipient_unreachable.html": [
        *(
            {"recipient": "检查员<甲>", "outbox_id": 1234, "cause": c, "notice": "<b>您有 2 项新的检查任务（联合抽查“T &amp; Co”）。</b>"}
            for c in ("blocked", "no_chat", "refused")
        ),
        {"recipient": "检查员<甲>", "outbox_id": 1234, "blocked": True, "notice": "<b>x</b>"},  # queued before causes were told
    ],
    "invitations/checklist.html": [{"round_id": 7, "title": "T<&>", "department": "税务局"}],
    "invitations/declined.html": [{"round_id": 7, "title": "T", "department": "生态环境局"}],
    "invitations/confirmed.html": [
        {"round_id": 7, "title": "T", "department": "税务局", "items": [{"code": "TAX-001", "name": "发票使用检查 <a>"}]},
    ],
    "invitations/choose_first.txt": [{}],
    "rounds/list.html": [
        {"rounds": [{"id": 7, "status": "proposed, awaiting approval", "title": "食品<联合>抽查 & Co"}]},
        {"rounds": []},
    ],
    "rounds/usage.html": [{}],
    "rounds/detail.html": [
        {
            "round_id": 7,
            "title": "T<&>",
            "status": "drawn",
            "region": "440100",
            "lead": "市场监管局",
            "due_date": "2026-12-31",
            "participants": [
                {
                    "name": "市场监管局",
                    "code": "SAMR",
                    "team_size": 2,
                    "status": "lead department",
                    "chosen": [{"code": "SAMR-001", "name": "食品经营许可检查"}],
                },
                {"name": "生态环境局", "code": "EPB", "team_size": 1, "status": "has declined", "chosen": []},
            ],
            "items": [{"code": "SAMR-001", "name": "食品经营许可检查 <a>"}],
            "commitment": "ab" * 32,
            "seed": "3141 5926",
            "tasks": 45,
        },
        {
            "round_id": 8,
            "title": "T",
            "status": "proposed",
            "region": "440100",
            "lead": "市场监管局",
            "due_date": "",
            "participants": [],
            "items": [],
            "commitment": "",
            "seed": "",
            "tasks": 0,
        },
    ],
    "tasks/list.html": [
        {
            "total": 12,
            "first": 1,
            "last": 2,
            "tasks": [
                {"id": 41, "target": "甲<店>", "code": "T0001", "round": "R", "due_date": "2026-12-31"},
                {"id": 42, "target": "乙", "code": "T0002", "round": "R", "due_date": ""},
            ],
        },
        {"total": 0, "first": 1, "last": 0, "tasks": []},
    ],
    "tasks/detail.html": [
        {
            "task_id": 41,
            "round_id": 7,
            "round_title": "T<&>",
            "target_name": "甲",
            "target_code": "T0001",
            "address": "中山路1号",
            "due_date": "2026-12-31",
            "visit": 3,
            "batch": 1,
            "team": [
                {"name": "张三", "department": "市场监管局", "by_hand": False},
                {"name": "专家甲", "department": "市场监管局", "by_hand": True},
            ],
            "items": [
                {
                    "code": "SAMR-001",
                    "name": "食品<经营>",
                    "department": "SAMR",
                    "category": "A",
                    "follow_up": "order correction",
                    "note": "后门\n堵塞",
                    "attachments": 2,
                    "reason": "补充",
                    "status": "returned",
                    "mine": True,
                },
                {
                    "code": "TAX-001",
                    "name": "发票",
                    "department": "TAX",
                    "category": None,
                    "follow_up": "",
                    "note": "",
                    "attachments": 0,
                    "reason": "",
                    "status": "not recorded",
                    "mine": False,
                },
            ],
        },
        {
            "task_id": 41,
            "round_id": 7,
            "round_title": "T",
            "target_name": "甲",
            "target_code": "T0001",
            "address": "",
            "due_date": "",
            "visit": 3,
            "batch": None,
            "team": [],
            "items": [],
        },
    ],
    "tasks/item.html": [
        {
            "task_id": 41,
            "item": {
                "code": "SAMR-001",
                "name": "食品<经营>",
                "department": "SAMR",
                "category": "A",
                "follow_up": "order correction",
                "note": "后门\n堵塞",
                "attachments": 2,
                "reason": "补充",
                "status": "returned",
                "mine": True,
            },
        },
        {
            "task_id": 41,
            "item": {
                "code": "TAX-001",
                "name": "发票",
                "department": "TAX",
                "category": None,
                "follow_up": "",
                "note": "",
                "attachments": 0,
                "reason": "",
                "status": "not recorded",
                "mine": False,
            },
        },
    ],
    "tasks/follow_up.html": [{"task_id": 41, "code": "SAMR-001", "name": "食品", "category": "A"}],
    "tasks/note_prompt.html": [{"code": "SAMR-001", "name": "食品<经营>"}],
    "tasks/note_saved.html": [{}],
    "tasks/attached.html": [{"kind": "photo"}, {"kind": "document"}],
    "tasks/saved.txt": [{}],
    "tasks/submit_confirm.html": [
        {
            "task_id": 41,
            "target_name": "甲",
            "items": [
                {
                    "code": "SAMR-001",
                    "name": "食品<经营>",
                    "department": "SAMR",
                    "category": "A",
                    "follow_up": "order correction",
                    "note": "后门\n堵塞",
                    "attachments": 2,
                    "reason": "补充",
                    "status": "returned",
                    "mine": True,
                }
            ],
        }
    ],
    "review/list.html": [
        {"entries": [{"task_id": 41, "target": "甲<店>", "department": "SAMR", "count": 2, "round": "R"}]},
        {"entries": []},
    ],
    "review/reason_prompt.html": [{"department": "市场监管局", "task_id": 41}],
    "review/history.html": [
        {
            "entries": [
                {
                    "at": "2026-12-01 10:00",
                    "author": "王<五>",
                    "code": "SAMR-001",
                    "kind": "finding",
                    "category": "A",
                    "follow_up": "责令改正",
                    "text": "",
                },
                {
                    "at": "2026-12-01 10:01",
                    "author": "",
                    "code": "SAMR-001",
                    "kind": "finding",
                    "category": "1",
                    "follow_up": "",
                    "text": "",
                },
                {
                    "at": "2026-12-01 10:02",
                    "author": "王五",
                    "code": "SAMR-001",
                    "kind": "note",
                    "category": "",
                    "follow_up": "",
                    "text": "a<b>\nc",
                },
                {
                    "at": "2026-12-02 09:00",
                    "author": "李科长",
                    "code": "SAMR-001",
                    "kind": "returned",
                    "category": "",
                    "follow_up": "",
                    "text": "补<照片>",
                },
            ]
        },
    ],
    "review/cancelled.html": [{}],
    "review/decided.html": [
        {"accepted": True, "department": "市场监管局", "task_id": 41, "completed": True},
        {"accepted": False, "department": "市场监管局", "task_id": 41, "completed": False},
    ],
    "review/publish_list.html": [
        {"entries": [{"round_id": 7, "title": "T<&>", "department": "SAMR", "count": 3}]},
        {"entries": []},
    ],
    "review/publish_confirm.html": [{"count": 3, "department": "市场监管局", "title": "T", "round_id": 7}],
    "review/published.html": [
        {"count": 3, "department": "市场监管局", "round_id": 7, "url": u} for u in ("", "https://gongshi.example.gov.cn/rounds/7")
    ],
    "review/publish_cancelled.html": [{}],
    "convener/draw_time_prompt.html": [{"round_id": 7, "title": "T<&>"}],
    "convener/draw_time_set.html": [{"round_id": 7, "title": "T", "draw_at": "2026-12-01 10:00", "seeded": s} for s in (True, False)],
    "outbox/round_draw_scheduled.html": [{"round_id": 7, "title": "T", "draw_at": "2026-12-01 10:00"}],
    "outbox/tasks_due_soon.html": [{"round_id": 7, "title": "T", "due_date": "2026-12-31", "tasks": 3}],
    "outbox/tasks_overdue.html": [{"round_id": 7, "title": "T", "due_date": "2026-12-31", "tasks": 3}],
    "outbox/invitation_reminder.html": [
        {"round_id": 7, "title": "T", "lead": "市场监管局", "department": "TAX", "department_name": "税务局", "deadline": "2026-12-03"},
        {
            "round_id": 7,
            "title": "T",
            "lead": "市场监管局",
            "department": "TAX",
            "department_name": "税务局",
            "deadline": "2027-01-06",
            "unknown_years": [2027],
        },
    ],
    "outbox/calendar_unknown.html": [
        {"round_id": 7, "title": "T<&>", "deadline": "2027-01-06", "year": 2027, "what": w} for w in ("invitation", "publication")
    ],
    "outbox/invitation_unanswered.html": [
        {"round_id": 7, "title": "T", "lead": "市场监管局", "department": "TAX", "department_name": "税务局", "deadline": "2026-12-03"}
    ],
    "outbox/publication_due.html": [
        {"round_id": 7, "title": "T", "deadline": "2026-10-29", "results": 12, "working_days_left": 3, "overdue": o} for o in (False, True)
    ],
    "convener/pending.html": [
        {"rounds": [{"id": 7, "status": "approved, awaiting the seed", "title": "T & <x>"}]},
        {"rounds": []},
    ],
    "convener/approved.html": [
        {
            "round_id": 7,
            "title": "T",
            "commitment": "ab" * 32,
            "population": 200,
            "expected_tasks": 45,
            "warnings": [
                {"department": "EPB", "pool": 1, "team_size": 2, "targets": 45, "certain": True},
                {"department": "TAX", "pool": 4, "team_size": 1, "targets": 3, "certain": False},
            ],
        },
        {"round_id": 7, "title": "T", "commitment": "ab" * 32, "population": 200, "expected_tasks": 45, "warnings": []},
    ],
    "convener/seed_prompt.html": [{"round_id": 7, "title": "T<&>"}],
    "convener/seed_cancelled.html": [{}],
    "convener/seeded.html": [{"round_id": 7, "title": "T", "digits": "314159", "seed": "314159;" + "ef" * 32}],
    "convener/drawn.html": [
        {"round_id": 7, "title": "T", "selected": 45, "assignments": 135, "unstaffed": u, "selected_sha256": "cd" * 32} for u in (0, 3)
    ],
}

SAMPLES |= PROPOSE_SAMPLES

# Cases, the credit history and the statistics (routers/cases.py, credit.py, stats.py).
SAMPLES |= {
    "cases/usage.html": [{"sources": ["投诉举报", "转办移送", "数据监测"]}],
    "cases/opened.html": [
        {"case_id": 3, "task_id": 42, "target": "对象<甲>", "code": "T0005", "source": "投诉举报", "inspectors": ["SAMR-00", "SAMR-01"]}
    ],
    "cases/list.html": [
        {
            "cases": [
                {
                    "id": 3,
                    "target": "对象<甲>",
                    "code": "T0005",
                    "source": "投诉举报",
                    "summary": "销售过期食品 & Co",
                    "task_id": 42,
                    "department": "SAMR",
                    "opened": "2026-03-02",
                },
                {
                    "id": 4,
                    "target": "乙",
                    "code": "T0006",
                    "source": "数据监测",
                    "summary": "",
                    "task_id": 43,
                    "department": "SAMR",
                    "opened": "2026-03-03",
                },
            ]
        },
        {"cases": []},
    ],
    "credit/usage.html": [{}],
    "credit/history.html": [
        {
            "name": "对象<甲>",
            "code": "T0005",
            "risk": "C",
            "changes": [{"day": "2026-03-02", "reason": "上调", "from": "B", "to": "C", "categories": ["A"], "round_id": 9}],
            "results": [{"day": "2026-03-02", "item": "SAMR-001", "category": "A", "round_id": 9}],
        },
        {"name": "乙", "code": "T0006", "risk": "B", "changes": [], "results": []},
    ],
    "stats/usage.html": [{}],
    "stats/summary.html": [
        {
            "year": 2026,
            "coverage": [{"department": "市场监管局", "checked": 2, "planned": 5, "rate": "40%"}],
            "results": 4,
            "problems": 2,
            "problem_rate": "50%",
            "on_time": 1,
            "settled": 3,
            "completion_rate": "33%",
            "published_on_time": 2,
            "published_settled": 4,
            "publication_rate": "50%",
            "rounds": 2,
            "caps_respected": 1,
            "loads": [{"department": "市场监管局", "least": 0, "most": 2, "mean": "0.8"}],
            "raised": 1,
            "lowered": 1,
        },
        {
            "year": 2027,
            "coverage": [],
            "results": 0,
            "problems": 0,
            "problem_rate": "—",
            "on_time": 0,
            "settled": 0,
            "completion_rate": "—",
            "published_on_time": 0,
            "published_settled": 0,
            "publication_rate": "—",
            "rounds": 0,
            "caps_respected": 0,
            "loads": [],
            "raised": 0,
            "lowered": 0,
        },
    ],
}

CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def rendered_templates() -> list[str]:
    """Templates that are rendered on their own; `_name` files are partials, included by others."""
    return [name for name in template_names() if not Path(name).name.startswith("_")]


def template_msgids() -> set[str]:
    env = environment("en")
    ids = set()
    for name in template_names():
        for _, _, message in env.extract_translations((TEMPLATES_DIR / name).read_text(encoding="utf-8")):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def code_msgids() -> set[str]:
    keywords = {"N_": None, "_": None, "gettext": None}
    method_map = [("**.py", "python")]
    ids = {message for _, _, message, *_ in extract_from_dir(str(BOT_DIR), method_map, keywords=keywords)}
    # labels the templates show through the role_label / category_label filters
    ids |= {message for _, message, *_ in extract_from_file("python", result_categories.__file__, keywords=keywords)}
    return {m if isinstance(m, str) else m[0] for m in ids}


def catalog(language: str):
    with open(LOCALES_DIR / language / "LC_MESSAGES" / "jointcheck.po", "rb") as f:
        return read_po(f, locale=language)


def test_every_msgid_is_translated_in_both_catalogs():
    wanted = template_msgids() | code_msgids()
    assert len(wanted) > 40 and "propose a joint round (lead department)" in wanted and "Unknown command." in wanted
    for language in LANGUAGES:
        po = catalog(language)
        compiled = translations(language)
        problems = []
        for msgid in sorted(wanted):
            message = po.get(msgid)
            if message is None or not message.string or message.fuzzy:
                problems.append(f"missing or fuzzy: {msgid!r}")
                continue
            if language == "zh_CN" and not CJK.search(message.string):
                problems.append(f"not Chinese: {msgid!r} -> {message.string!r}")
            if sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(msgid)):
                problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
            if compiled.gettext(msgid) != message.string:
                problems.append(f".mo out of date (run pybabel compile): {msgid!r}")
        problems += [f"{m.id!r}: {errors}" for m, errors in po.check()]
        assert problems == [], f"{language}:\n" + "\n".join(problems)


def test_samples_cover_every_template():
    assert sorted(SAMPLES) == rendered_templates()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_translated_valid_telegram_text(language):
    texts = Texts(language)
    shown: list[str] = []
    for name in rendered_templates():
        for params in SAMPLES[name]:
            output = texts.render(name, **params)
            visible = visible_text(output, "HTML") if name.endswith(".html") else output
            assert visible.strip(), f"{name} {params} renders nothing"
            assert len(visible) <= (4096 if name.endswith(".html") else 200), f"{name} is too long for Telegram"
            if language == "zh_CN":
                assert CJK.search(visible), f"{name} {params} shows no Chinese: {visible!r}"
            shown.append(visible)
    everything = "\n".join(shown)
    # every message of every template is shown by some sample, in this language
    for msgid in template_msgids():
        translated = translations(language).gettext(msgid)
        # a template's gettext always %-formats, so a literal percent sign is written %%
        longest = max((part.strip() for part in PLACEHOLDER.split(translated)), key=len).replace("%%", "%")
        assert longest in everything or html.unescape(longest) in everything, f"no sample shows {msgid!r}"
        if language == "zh_CN":
            assert msgid not in everything, f"English shown to a Chinese reader: {msgid!r}"


def test_html_templates_escape_their_parameters():
    output = Texts("en").render("onboarding/bound.html", name="A<b>&c", role="officer", scope="x<y", commands=COMMANDS)

    assert "A&lt;b&gt;&amp;c" in output and "x&lt;y" in output and "x &amp; &lt;y&gt;" in output
    assert "<b>Commands you can use:</b>" in output  # the template's own markup stays


async def test_role_filters():
    officer = Actor("u1", (Grant(Role.OFFICER, department_id=1),))
    inspector = Actor("u2", (Grant(Role.INSPECTOR, inspector_id=3),))
    stranger = Actor("tg:5")

    assert await HasRole(Role.OFFICER)(None, actor=officer) is True
    assert await HasRole(Role.OFFICER)(None, actor=inspector) is False
    assert await HasRole(Role.OFFICER, Role.INSPECTOR)(None, actor=inspector) is True
    assert await HasRole(Role.CONVENER)(None, actor=None) is False
    assert (await IsBound()(None, actor=officer), await IsBound()(None, actor=stranger)) == (True, False)
    with pytest.raises(ValueError):
        HasRole()


def test_every_reason_core_gives_is_explained_in_both_languages():
    import re as _re

    from jointcheck.bot.reasons import explain
    from jointcheck.bot.texts import Texts
    from jointcheck.core.errors import InvalidInput

    samples = SAMPLES["errors/reason.txt"]
    explained = set(_re.findall(r'"([a-z_]+\.[a-z_]+)"', (TEMPLATES_DIR / "errors" / "reason.txt").read_text()))
    assert {sample["code"] for sample in samples} == explained
    core = Path(__file__).resolve().parents[2] / "jointcheck" / "core"
    raised = {code for path in core.rglob("*.py") for code in _re.findall(r'code="([a-z_]+\.[a-z_]+)"', path.read_text())}
    # invite.* refusals have their own message (onboarding/invite_refused.html)
    assert {code for code in raised if not code.startswith("invite.")} <= explained
    for language in ("zh_CN", "en"):
        for sample in samples:
            assert Texts(language).render("errors/reason.txt", **sample).strip(), (language, sample["code"])
    # plain text, escaped once by the message that shows it
    error = InvalidInput("x", code="ratio.above_cap", params={k: v for k, v in samples[0].items() if k != "code"})
    assert "Food &amp; drink" in explain(error, Texts("en"), "errors/core_error.html")
    assert "Food & drink" in explain(error, Texts("en"), "errors/core_error.txt")
