"""The simulator in a real browser: an owner orders, a merchant presses 接单, the owner is told."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo import data
from bot.demo.runner import DemoServer
from tests.demo.browser import ARTIFACTS, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

OWNER = next(o for o in data.OWNERS if o.bound and o.community == "翠苑")


async def open_sim(browser: Any, demo: DemoServer) -> Any:  # noqa: F811
    """A page on /sim, ready (cast loaded, event stream open)."""
    page = await browser.new_page(viewport={"width": 1500, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(f"{demo.base_url}/sim?owner={OWNER.openid}")
    await page.wait_for_selector('body[data-ready="1"]')
    await page.wait_for_selector("#conn-dot.on")
    return page


async def test_owner_pane_chats_through_wechat_and_menu(browser: Any, demo: DemoServer) -> None:  # noqa: F811
    page = await open_sim(browser, demo)
    await page.fill("[data-testid=owner-input]", "你好")
    await page.click("[data-testid=owner-send]")
    reply = page.locator("#owner-log .row.them .bubble").last
    await reply.wait_for()
    assert "家政管家" in await reply.inner_text()
    before = await page.locator("#owner-log .row.them").count()
    await page.locator("#owner-menu button").first.click()
    await page.wait_for_function(
        f"document.querySelectorAll('#owner-log .row.them').length > {before}", timeout=10_000
    )
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "sim-owner.png"))
    assert page.errors == []
    await page.close()
