"""Regenerate the README's simulator screenshot: `python -m tests.demo.readme_screenshot docs/sim.png`.

Plays the guided tour on a fresh demo (short pauses), then photographs the three panes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from bot.demo.runner import start_demo
from bot.demo.tour import TOUR_OWNER
from tests.demo.browser import CHROMIUM, CHROMIUM_ARGS


async def main(target: Path) -> None:
    """Run the tour in a headless browser and save the page."""
    with tempfile.TemporaryDirectory() as folder:
        demo = await start_demo(db_path=Path(folder) / "demo.db", port=0, followup_delay_hours=1 / 3600)
        demo.simulator.tour.pause = 0.6
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = await browser.new_page(viewport={"width": 1600, "height": 900})
                await page.goto(f"{demo.base_url}/sim")
                await page.wait_for_selector('body[data-ready="1"]')
                await page.click("[data-testid=tour-start]")
                await page.wait_for_function(
                    "(c => c.textContent.includes('演示完成') || c.classList.contains('failed'))"
                    "(document.getElementById('tour-caption'))",
                    timeout=180_000,
                )
                await page.select_option("[data-testid=owner-select]", TOUR_OWNER.openid)
                await page.wait_for_timeout(4000)  # let the last toast fade
                await page.screenshot(path=str(target))
                await browser.close()
        finally:
            await demo.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/sim.png")))
