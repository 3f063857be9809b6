"""A whole joint round in chat, three departments, from invite codes to published results: every
step a person takes goes through the real bot polling the emulator; the outbox sender delivers
the notices between them. At the end the archived bundle verifies offline."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

from sqlalchemy import select

from jointcheck.core.models import Result, Round, Target, Task
from jointcheck.core.public_proof import __file__ as VERIFIER
from jointcheck.core.services.archive import archive_round
from jointcheck.core.services.invites import issue_invite
from jointcheck.core.uow import UnitOfWork
from jointcheck.testing import chat_script as chat
from tests.e2e.test_bot_propose import TO_RATIOS, confirm, run
from tests.integration.test_round_lifecycle import SEED
from tests.round_world import OPERATOR, POOLS, build_province

OFFICERS = {"SAMR": 1000, "TAX": 1001, "EPB": 1002}
CONVENER = 1003
INSPECTOR_IDS = {f"{d}-{k:02d}": 3000 + 10 * i + k for i, (d, n) in enumerate(POOLS.items()) for k in range(n)}
ITEMS = {
    "SAMR": ["SAMR-001 食品经营许可检查", "SAMR-K01 特种设备重点检查"],
    "TAX": ["TAX-001 发票使用检查"],
    "EPB": ["EPB-001 排污许可检查"],
}


async def bind(emulator, uow_factory, telegram_id: int, role: str, **scope):
    async with uow_factory() as uow:  # the operator's `jointcheck admin invite`
        issued = await issue_invite(uow, OPERATOR, role, **scope)
        await uow.commit()
    user = emulator.user(telegram_id, f"u{telegram_id}", language_code="zh-hans")
    await chat.bind(user, issued.code)
    return user


async def test_a_whole_joint_round_in_chat(emulator, sessionmaker, uow_factory, running, deliver, tmp_path):
    await build_province(uow_factory)
    officers = {code: await bind(emulator, uow_factory, tid, "officer", department=code) for code, tid in OFFICERS.items()}
    convener = await bind(emulator, uow_factory, CONVENER, "convener", region="440100")
    inspectors = {cert: await bind(emulator, uow_factory, tid, "inspector", inspector=cert) for cert, tid in INSPECTOR_IDS.items()}
    samr, tax, epb = officers["SAMR"], officers["TAX"], officers["EPB"]

    # the lead proposes with the wizard, inviting TAX and EPB
    today = dt.date.today()
    draw_day, due = today + dt.timedelta(days=2), today + dt.timedelta(days=30)
    await samr.send("/propose")
    await run(samr, TO_RATIOS[1:])
    await run(
        samr,
        [
            ("send", "100 200 300 300", "市场监管局的检查组人数"),
            ("press", "2", "生态环境局的检查组人数"),
            ("press", "1", "税务局的检查组人数"),
            ("press", "1", "间隔期"),
            ("send", "365 180 0 0", "抽取时间"),
            ("send", f"{draw_day.isoformat()} 10:00", "完成期限"),
            ("send", due.isoformat(), "请核对"),
        ],
    )
    round_id = await confirm(samr)

    # both invited departments join with their own items
    await deliver()
    for officer, item in ((tax, ITEMS["TAX"][0]), (epb, ITEMS["EPB"][0])):
        await officer.wait_for("联合抽查邀请")
        await officer.press("加入")
        await officer.wait_for("请选择")
        await officer.press(f"☐ {item}")
        await officer.wait_for(lambda m, item=item: f"☑ {item}" in m.buttons)
        await officer.press("确认")
        await officer.wait_for("已加入")

    # the convener approves (the commitment goes to everyone), enters the seed, draws
    await convener.send("/pending")
    await convener.wait_for("等待")
    await convener.press(next(b for b in convener.messages[-1].buttons if b.startswith(f"{round_id} · ")))
    await convener.wait_for(lambda m: "批准" in m.buttons)
    await convener.press("批准")
    approved = await convener.wait_for("承诺值")
    commitment = re.search(r"[0-9a-f]{64}", approved.text).group(0)
    await convener.press("录入随机种子")
    await convener.wait_for("下一条消息")
    await convener.send(SEED)
    await convener.wait_for("随机种子已录入")
    await convener.press("立即抽取")
    await convener.wait_for("已完成抽取")
    await deliver()
    for officer in officers.values():
        assert commitment in (await officer.wait_for("承诺值", since_last_action=False)).text
        await officer.wait_for("已完成抽取", since_last_action=False)
    notice = await inspectors["EPB-00"].wait_for("新的检查任务", since_last_action=False)
    assert "同组检查人员" in notice.text and "EPB-001 排污许可检查" in notice.text

    # one task, all three departments' inspectors record and submit their own items
    async with UnitOfWork(sessionmaker) as uow:
        task = (await uow.session.execute(select(Task).where(Task.round_id == round_id).order_by(Task.visit_order).limit(1))).scalar_one()
        target = await uow.session.get(Target, task.target_id)
        team = {
            d.code: [i.cert_no for m, i, d2 in await uow.tasks.team([task.id]) if d2.code == d.code]
            for _, d in await uow.rounds.participants(round_id)
        }
        uow.session.expunge_all()  # read after the unit of work ends
    for department, members in team.items():
        await chat.record_and_submit(inspectors[members[0]], task.id, target.name, ITEMS[department])
    await deliver()

    # each officer reviews and accepts their department's results, then publishes
    answers = []
    for department, officer in officers.items():
        await officer.wait_for("待您审核", since_last_action=False)
        answers.append(await chat.accept(officer, task.id, department, target.name))
    assert ["任务已完成" in a for a in answers] == [False, False, True]  # the last acceptance completes the task
    for officer in officers.values():
        await chat.publish_first(officer)

    async with UnitOfWork(sessionmaker) as uow:
        statuses = sorted((await uow.session.execute(select(Result.status).where(Result.task_id == task.id))).scalars())
        completed = (await uow.session.get(Task, task.id)).completed_at
        round_status = (await uow.session.get(Round, round_id)).status
    assert statuses == ["published"] * 4 and completed is not None and round_status == "drawn"
    assert emulator.unanswered_callbacks() == []

    # the bundle verifies offline with the standalone verifier, published results included
    async with UnitOfWork(sessionmaker) as uow:
        path = await archive_round(uow, OPERATOR, round_id, str(tmp_path / "bundle.zip"))
    checked = subprocess.run([sys.executable, "-I", "-S", VERIFIER, str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    import zipfile

    with zipfile.ZipFile(path) as bundle:
        results_csv = next(bundle.read(n) for n in bundle.namelist() if n.endswith("results.csv")).decode()
    assert results_csv.count(",published,") == 4 and target.code in results_csv
