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
    page.set_default_timeout(45_000)  # generous: CI runs this next to a busy suite on 2 cores
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(f"{demo.base_url}/sim?owner={OWNER.openid}")
    await page.wait_for_selector('body[data-ready="1"]')
    await page.wait_for_selector("#conn-dot.on")
    return page


async def owner_log_has(page: Any, text: str) -> None:
    """Wait for a message to the owner containing text."""
    await page.locator("#owner-log .row.them", has_text=text).last.wait_for(timeout=45_000)


async def test_owner_pane_chats_through_wechat_and_menu(browser: Any, demo: DemoServer) -> None:  # noqa: F811
    page = await open_sim(browser, demo)
    # A sub-menu button: 社区 → 社区活动 lists the seeded activity of the owner's community.
    await page.locator("#owner-menu .wx-menu-item > button", has_text="社区").click()
    await page.locator("#owner-menu .wx-submenu button", has_text="社区活动").click()
    await owner_log_has(page, "重阳节社区义诊")
    await page.fill("[data-testid=owner-input]", "你好")
    await page.click("[data-testid=owner-send]")
    await owner_log_has(page, "管家服务")
    before = await page.locator("#owner-log .row.them").count()
    await page.locator("#owner-menu .wx-menu-item > button", has_text="管家服务").click()
    await page.wait_for_function(
        f"document.querySelectorAll('#owner-log .row.them').length > {before}", timeout=30_000
    )
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "sim-owner.png"))
    assert page.errors == []
    await page.close()


ORDERING_OWNER = data.OWNERS[4]
MERCHANT = data.MERCHANTS[0]


async def test_order_in_owner_pane_becomes_a_job_card_and_acceptance_reaches_the_owner(
    browser: Any, demo: DemoServer  # noqa: F811
) -> None:
    """The issue's acceptance path: order as an owner, press 接单 as a merchant, owner is told."""
    page = await open_sim(browser, demo)
    await page.select_option("[data-testid=owner-select]", ORDERING_OWNER.openid)
    owner_log = page.locator("#owner-log")

    async def owner_says(text: str, expect: str) -> str:
        await page.fill("[data-testid=owner-input]", text)
        await page.click("[data-testid=owner-send]")
        bubble = owner_log.locator(".row.them", has_text=expect).last
        await bubble.wait_for(timeout=45_000)
        return await bubble.inner_text()

    await owner_says("明天上午想请个阿姨打扫卫生", "确认下单")
    done = await owner_says("1", "下单成功")
    code = done.split("订单号", 1)[1].strip().split("。")[0].strip()

    card = page.locator("#merchant-log [data-testid=tg-card]", has_text=code)
    await card.wait_for(timeout=45_000)
    await page.select_option("[data-testid=merchant-select]", str(MERCHANT.telegram_id))
    await card.get_by_role("button", name="接单").click()

    notice = owner_log.locator(".row.them", has_text="接单").last
    await notice.wait_for(timeout=45_000)
    assert code in await notice.inner_text()
    await page.locator("#merchant-log [data-testid=tg-card]", has_text="已接单").wait_for(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "sim-order-accepted.png"))
    assert page.errors == []
    await page.close()


async def test_staff_pane_broadcast_with_preview_and_a_handoff_reply(
    browser: Any, demo: DemoServer  # noqa: F811
) -> None:
    """Staff type /broadcast, confirm the preview; a hand-off arrives and ↩ 回复 answers the owner."""
    page = await open_sim(browser, demo)
    staff_log = page.locator("#staff-log")
    await page.fill("[data-testid=staff-input]", "/broadcast 小区=阳光花园 标签=有孩子 | 周末亲子手工课开始报名啦")
    await page.click("[data-testid=staff-send]")
    preview = staff_log.locator("[data-testid=tg-card]", has_text="广播预览")
    await preview.get_by_role("button", name="确认发送").click()
    await staff_log.locator("[data-testid=tg-card]", has_text="已发送完毕").wait_for(timeout=45_000)

    asker = data.OWNERS[9]  # bound, so the alert names them
    await page.select_option("[data-testid=owner-select]", asker.openid)
    await page.fill("[data-testid=owner-input]", "我要找人工客服")
    await page.click("[data-testid=owner-send]")
    alert = staff_log.locator("[data-testid=tg-card]", has_text=asker.phone)
    await alert.get_by_role("button", name="↩ 回复").click()
    await page.fill("[data-testid=staff-input]", "您好，我是王经理，请讲")
    await page.click("[data-testid=staff-send]")
    await owner_log_has(page, "我是王经理")
    # Staff follow the account too: on WeChat the same command answers with a preview.
    await page.select_option("[data-testid=owner-select]", data.STAFF[0].openid)
    await page.fill("[data-testid=owner-input]", "/broadcasts")
    await page.click("[data-testid=owner-send]")
    await owner_log_has(page, "广播")
    assert page.errors == []
    await page.close()
