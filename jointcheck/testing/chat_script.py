"""People in chat, scripted: the steps a Chinese-speaking user takes through the bot's screens, for
the demo and the end-to-end tests (driving emulator users; see jointcheck/testing/emulator).

Each function acts as one person and waits for the bot's answer before returning, so a script
reads like the conversation it stands for.
"""

from __future__ import annotations

from jointcheck.testing.emulator import UserHandle


async def bind(user: UserHandle, code: str) -> str:
    """/start CODE; returns the welcome text."""
    await user.send(f"/start {code}")
    return (await user.wait_for("欢迎")).text


async def open_task(user: UserHandle, task_id: int, target: str) -> str:
    """/tasks, paging forward until the task shows, then open it; returns the task's view."""
    await user.send("/tasks")
    listing = await user.wait_for("未完成的检查任务")
    while f"{task_id} · {target}" not in listing.buttons:
        if "»" not in listing.buttons:
            raise LookupError(f"task {task_id} is not among {user.id}'s open tasks")
        await user.press("»")
        await user.wait_for_answer()
        listing = await user.wait_for(lambda m: "«" in m.buttons)
    await user.press(f"{task_id} · {target}")
    # The listing turns into the task's view; the task's notice, which may arrive meanwhile, names it too.
    return (await user.wait_for(lambda m: m.message_id == listing.message_id and f"第 {task_id} 号任务" in (m.text or ""))).text


async def record_and_submit(user: UserHandle, task_id: int, target: str, items: list[str], category: str = "1 · 未发现问题") -> str:
    """Open the task, choose `category` for each item (labels as on the buttons: "CODE name"),
    review and submit; returns the task's view after the submission."""
    await open_task(user, task_id, target)
    for item in items:
        await user.press(f"✎ {item}")
        await user.wait_for("请选择检查结果类别")
        await user.press(category)
        await user.wait_for(lambda m, item=item: f"☑ {item}" in m.buttons)
        await user.wait_for_answer()
    await user.press("提交")
    await user.wait_for("确认提交")
    await user.press("提交")
    return (await user.wait_for("已提交，待审核")).text


async def accept(officer: UserHandle, task_id: int, department: str, target: str) -> str:
    """/review, open the department's submission on the task, accept it; returns the answer."""
    await officer.send("/review")
    await officer.wait_for("待您审核的结果")
    await officer.press(f"{task_id} · {department} · {target}")
    await officer.wait_for(lambda m: m.buttons[:1] == ["通过"] and m.buttons[-1:] == ["退回"])  # with a note, "通过并公开备注" between
    await officer.press("通过")
    return (await officer.wait_for("已通过审核")).text


async def publish_first(officer: UserHandle) -> str:
    """/publish and confirm the first entry listed; returns the answer."""
    await officer.send("/publish")
    listing = await officer.wait_for("已通过、尚未公示的结果")
    await officer.press(next(b for b in listing.buttons if b.startswith("公示 ")))
    await officer.wait_for("公示后即对外公开")
    await officer.press("公示")
    return (await officer.wait_for("条结果已公示")).text
