"""The demo's chat part: `jointcheck run` (bot, scheduler, sender, site) against the local Bot API
emulator, on the database demo.sh filled. The inspectors of round 1's first task and their
officers bind their accounts with invite codes, record and submit results, review and publish them;
meanwhile the scheduler draws round 2 at the time demo.sh set. Prints the conversation as it goes.

    python scripts/demo_chat.py            # JOINTCHECK_DATABASE_URL names the demo's database
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jointcheck.config import Settings  # noqa: E402
from jointcheck.core.authz import Actor  # noqa: E402
from jointcheck.core.db import make_engine, make_sessionmaker  # noqa: E402
from jointcheck.core.models import Target, Task  # noqa: E402
from jointcheck.core.services.invites import issue_invite  # noqa: E402
from jointcheck.core.uow import UnitOfWork  # noqa: E402
from jointcheck.testing import chat_script as chat  # noqa: E402
from jointcheck.testing.emulator import BotAPIEmulator, UserHandle  # noqa: E402

OPERATOR = Actor.operator("demo:operator")
ROUND = 1


class Transcript:
    """Prints what each person did and what the bot showed them since."""

    def __init__(self) -> None:
        self._seen: dict[int, int] = {}

    def __call__(self, user: UserHandle, name: str, action: str) -> None:
        print(f"\n[{name}] {action}")
        messages = [m for m in user.messages if not m.deleted]
        for message in messages[self._seen.get(user.id, 0) :]:
            lines = (message.text or "").strip().splitlines()
            shown = lines[:6] + (["  …"] if len(lines) > 6 else [])
            print("  bot ▸ " + "\n        ".join(shown) + (f"\n        [{' | '.join(message.buttons)}]" if message.buttons else ""))
        self._seen[user.id] = len(messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def first_task(sessionmaker) -> tuple[int, str, dict[str, tuple[str, list[str]]]]:
    """Round 1's first task: its id, target name and, per department, one team member and the items."""
    async with UnitOfWork(sessionmaker) as uow:
        task = (await uow.session.execute(select(Task).where(Task.round_id == ROUND).order_by(Task.visit_order).limit(1))).scalar_one()
        target = await uow.session.get(Target, task.target_id)
        items: dict[str, list[str]] = {}
        for item, department in await uow.tasks.items(ROUND):
            items.setdefault(department.code, []).append(f"{item.code} {item.name}")
        team: dict[str, tuple[str, list[str]]] = {}
        for _, inspector, department in await uow.tasks.team([task.id]):
            team.setdefault(department.code, (inspector.cert_no, items[department.code]))
        return task.id, target.name, team


async def invite(sessionmaker, role: str, **scope) -> str:
    async with UnitOfWork(sessionmaker) as uow:
        issued = await issue_invite(uow, OPERATOR, role, **scope)
        await uow.commit()
        return issued.code


async def main() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    say = Transcript()
    port = free_port()
    async with BotAPIEmulator(bot_username="jointcheck_demo_bot") as emulator:
        env = {
            **os.environ,
            "JOINTCHECK_BOT_TOKEN": emulator.token,
            "JOINTCHECK_BOT_API_URL": emulator.base_url,
            "JOINTCHECK_SITE_PORT": str(port),
            "JOINTCHECK_OUTBOX_INTERVAL": "0.2",
            "JOINTCHECK_SWEEP_SECONDS": "2",
        }
        service = await asyncio.create_subprocess_exec("jointcheck", "run", env=env)
        try:
            await run_demo(emulator, sessionmaker, say, port)
        finally:
            service.terminate()
            await service.wait()
    await engine.dispose()


async def wait_healthy(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        print(f"site: http://127.0.0.1:{port}/healthz → {await response.text()}")
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the service did not start")


async def run_demo(emulator: BotAPIEmulator, sessionmaker, say: Transcript, port: int) -> None:
    await wait_healthy(port)
    task_id, target, team = await first_task(sessionmaker)
    officers = {}
    for number, (department, name) in enumerate((("SCJG", "市场监管王科长"), ("SWJ", "税务李科长")), start=101):
        officers[department] = emulator.user(number, name, language_code="zh-hans")
        await chat.bind(officers[department], await invite(sessionmaker, "officer", department=department))
        say(officers[department], name, "/start <邀请码>")
    inspectors = {}
    for number, (department, (cert, _)) in enumerate(sorted(team.items()), start=201):
        inspectors[department] = emulator.user(number, f"{cert}", language_code="zh-hans")
        await chat.bind(inspectors[department], await invite(sessionmaker, "inspector", inspector=cert))
        say(inspectors[department], cert, "/start <邀请码>")

    for department, (cert, items) in sorted(team.items()):
        if department not in officers:
            continue
        await chat.record_and_submit(inspectors[department], task_id, target, items)
        say(inspectors[department], cert, f"/tasks → 第 {task_id} 号任务 → 每个事项选「1 · 未发现问题」→ 提交")
    for department, officer in officers.items():
        await officer.wait_for("待您审核", timeout=15, since_last_action=False)
        await chat.accept(officer, task_id, department, target)
        say(officer, officer.api()["first_name"], f"/review → 第 {task_id} 号任务 → 通过")
    for department, officer in officers.items():
        if department in team:
            await chat.publish_first(officer)
            say(officer, officer.api()["first_name"], "/publish → 公示")

    scjg = officers["SCJG"]
    await scjg.wait_for("（编号 2）已完成抽取", timeout=90, since_last_action=False)
    say(scjg, scjg.api()["first_name"], "(nothing: the scheduler drew round 2 at its time and the sender told the participants)")

    convener = emulator.user(301, "联席会议办公室", language_code="zh-hans")
    await chat.bind(convener, await invite(sessionmaker, "convener", region="440100"))
    await convener.send(f"/round {ROUND}")
    await convener.wait_for("联合抽查")
    say(convener, "联席会议办公室", f"/round {ROUND}")
    print(f"\ndemo chat done at {dt.datetime.now().isoformat(timespec='seconds')}")


if __name__ == "__main__":
    asyncio.run(main())
