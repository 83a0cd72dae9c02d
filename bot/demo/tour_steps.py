"""The story the guided tour tells, as data: one caption and one small coroutine per step."""

from __future__ import annotations

from bot.demo.tour import GOOD_MERCHANT, Step, Tour, TourFailed


async def greet(tour: Tour) -> None:
    """The owner says hello and gets the butler menu."""
    reply = await tour.owner_says("你好")
    if not reply:
        raise TourFailed("公众号没有回复")


async def order(tour: Tour) -> None:
    """The owner orders a cleaner in plain Chinese; a job card reaches the merchant group."""
    mark = tour.mark
    await tour.owner_says("明天上午想请个阿姨打扫卫生")
    card = await tour.card("group", lambda e: bool(e.get("buttons")), since=mark)
    tour.context["card"] = card


async def accept(tour: Tour) -> None:
    """A merchant presses 接单; the owner is told who is coming."""
    mark = tour.mark
    await tour.press(tour.context["card"], "接单", GOOD_MERCHANT.telegram_id)
    await tour.owner_hears(lambda t: "接单" in t or GOOD_MERCHANT.name in t, since=mark)


STEPS: list[Step] = [
    Step("① 业主在公众号里打招呼，收到管家菜单", greet),
    Step("② 业主用大白话下单：明天上午请阿姨打扫卫生 → 商家群出现派单卡片", order),
    Step("③ 商家在群里按「接单」→ 业主收到接单通知", accept),
]
