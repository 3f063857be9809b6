"""The public site in a real browser (headless Chromium): a citizen searches a result by credit
code, opens its round, and downloads the verifier; a screenshot of the round page is kept as a
test artefact (test-artifacts/, or JOINTCHECK_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from jointcheck.web.app import create_app
from tests.site_world import PERSON, build_site_world

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("JOINTCHECK_TEST_ARTIFACTS", "test-artifacts"))


def _browser_or_skip():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` (.ci/run does)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    return async_playwright


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_search_open_round_download_verifier(uow_factory, sessionmaker, tmp_path):
    async_playwright = _browser_or_skip()
    data = await build_site_world(uow_factory, sessionmaker)
    server = TestServer(create_app(sessionmaker))
    await server.start_server()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 412, "height": 900}, accept_downloads=True)  # a phone first
            await page.goto(str(server.make_url("/")))
            await page.get_by_label("统一社会信用代码、注册号或名称开头").fill(data.individual_code)
            await page.get_by_role("button", name="查询结果").click()
            await page.wait_for_url("**/results?q=*")
            table = page.locator("main table")
            assert data.individual_code in await table.inner_text()
            assert PERSON not in await page.content()
            await table.get_by_role("link", name=str(data.round_id), exact=True).first.click()
            await page.wait_for_url(f"**/rounds/{data.round_id}")
            assert "抽取过程及其证明" in await page.locator("h2#h-proof").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "site_round.png"
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            async with page.expect_download() as waiting:
                await page.get_by_role("link", name="下载验证程序（单个 Python 文件）").click()
            download = await waiting.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            assert download.suggested_filename == "public_proof.py"
            assert saved.read_bytes() == (Path(__file__).resolve().parents[2] / "jointcheck/core/public_proof.py").read_bytes()

            # the statistics chart, an SVG file under the site's Content-Security-Policy, draws in colour
            blocked = []
            page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
            await page.get_by_role("link", name="统计").first.click()
            await page.wait_for_url("**/statistics")
            chart = page.locator("main figure img")
            await chart.scroll_into_view_if_needed()
            assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")
            shot = ARTIFACTS / "site_statistics_chart.png"
            await chart.screenshot(path=str(shot))
            await browser.close()
    finally:
        await server.close()
    from PIL import Image

    shot_image = Image.open(shot).convert("RGB")
    colours = {
        pixel for row in range(shot_image.height) for pixel in [shot_image.getpixel((x, row)) for x in range(0, shot_image.width, 2)]
    }
    # the "checked" bars' blue (core/charts.py): with its styles blocked, the SVG would draw black
    assert any(abs(r - 0x2E) + abs(g - 0x86) + abs(b - 0xC1) < 12 for r, g, b in colours)
    assert not blocked, blocked
