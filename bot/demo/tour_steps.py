"""The story the guided tour tells, as data: one caption and one small coroutine per step.

Each step acts only as a person would on WeChat or Telegram and waits to see the hub answer, so
a failing step shows which part of the product did not respond as the story expects.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.demo import data
from bot.demo.tour import ADMIN, EXPIRED_MERCHANT, GOOD_MERCHANT, TOUR_OWNER, Step, Tour, TourFailed

BROADCAST = "/broadcast 小区=翠苑 标签=有车 | 本周六上午地下车库免费洗车，欢迎带车参加。"


def _pick_community(reply: str) -> str:
    """The number in front of the tour owner's community in a numbered list."""
    found = re.search(rf"(\d+)[.、．]\s*{TOUR_OWNER.community}", reply)
    return found.group(1) if found else TOUR_OWNER.community


# What the tour's owner answers when the account asks (first matching cue wins).
ANSWERS: list[tuple[str, Any]] = [
    ("小区", _pick_community),
    ("几号楼", f"{TOUR_OWNER.building}号楼{TOUR_OWNER.unit}单元{TOUR_OWNER.room}"),
    ("几单元", TOUR_OWNER.unit),
    ("房号", TOUR_OWNER.room),
    ("手机号", TOUR_OWNER.phone),
    ("确认下单", "1"),
]


async def converse(tour: Tour, text: str, *, until: str, turns: int = 8) -> str:
    """Say text, then answer the account's questions until a reply contains `until`."""
    reply = await tour.owner_says(text)
    for _ in range(turns):
        if until in reply:
            return reply
        answer = next((a(reply) if callable(a) else a for cue, a in ANSWERS if cue in reply), None)
        if answer is None:
            raise TourFailed(f"没想到公众号这样回复：{reply[:40]}")
        reply = await tour.owner_says(answer)
    raise TourFailed(f"{turns} 轮对话后仍未看到「{until}」")


async def bind(tour: Tour) -> None:
    """The owner binds the household by chatting; the roster matches it at once."""
    await converse(tour, "你好，我想绑定房屋", until="绑定")
    tour.context["bound"] = True


async def order(tour: Tour) -> None:
    """The owner orders a cleaner in plain Chinese and confirms."""
    reply = await converse(tour, "明天上午想请个阿姨打扫卫生", until="下单成功")
    code = re.search(r"订单号\s*([A-Z0-9]{4,12})", reply)
    tour.context["code"] = code.group(1) if code else ""


async def dispatch(tour: Tour) -> None:
    """The job card reaches the merchant group; the merchant with expired papers is refused."""
    code = tour.context.get("code", "")
    card = await tour.card("group", lambda e: code in e["text"] and _has(e, "接单"), since=0)
    tour.context["card"] = card
    mark = tour.mark
    await tour.press(card, "接单", EXPIRED_MERCHANT.telegram_id)
    await tour.sim.bus.wait_for(lambda e: e["kind"] == "tg.alert", timeout=20, since=mark)


async def accept(tour: Tour) -> None:
    """A qualified merchant presses 接单; the owner is told, the merchant gets the contact slip."""
    mark = tour.mark
    await tour.press(tour.context["card"], "接单", GOOD_MERCHANT.telegram_id)
    await tour.owner_hears(lambda t: "接单" in t, since=mark)
    code = tour.context.get("code", "")
    tour.context["slip"] = await tour.card("merchant_dm", lambda e: code in e["text"] and _has(e, "已完成"), since=mark)


async def complete(tour: Tour) -> None:
    """The merchant reports 已出发, then 已完成 with the amount and how the owner paid."""
    me = GOOD_MERCHANT.telegram_id
    code = tour.context.get("code", "")
    mark = tour.mark
    await tour.press(tour.context["slip"], "已出发", me)
    slip = await tour.card("merchant_dm", lambda e: code in e["text"] or _has(e, "已完成"), since=mark)
    slip = tour.sim.telegram.card(slip["chat_id"], slip["message_id"])
    mark = tour.mark
    await tour.press(slip, "已完成", me)
    await tour.card("merchant_dm", lambda e: "金额" in e["text"], since=mark)
    mark = tour.mark
    await tour.merchant_says(me, "120")
    pay = await tour.card("merchant_dm", lambda e: _has(e, "挂账"), since=mark)
    mark = tour.context["done_mark"] = tour.mark
    await tour.press(pay, "转账", me)
    await tour.owner_hears(lambda t: "完成" in t, since=mark)


async def followup(tour: Tour) -> None:
    """回访: the hub asks the owner to rate the job; the owner answers by chatting."""
    since = tour.context.get("done_mark", 0)
    await tour.owner_hears(lambda t: "打分" in t or "评价" in t, since=since, wait=45)
    reply = await tour.owner_says("5")
    if "没有" in reply:  # asked for comments
        await tour.owner_says("师傅很细心，谢谢")


async def broadcast(tour: Tour) -> None:
    """Staff send a targeted broadcast: preview first, then confirm; owners with cars get it."""
    mark = tour.mark
    await tour.staff_says(ADMIN.telegram_id, BROADCAST)
    preview = await tour.card("staff", lambda e: _has(e, "确认"), since=mark)
    mark = tour.mark
    await tour.press(preview, "确认", ADMIN.telegram_id)
    # The result comes back to the staff chat; on a replay the same owners are skipped by the
    # one-marketing-push-per-day cap (PRODUCT.md rule 1), which the preview and result both say.
    await tour.card("staff", lambda e: "发送完毕" in e["text"], since=mark)


async def report(tour: Tour) -> None:
    """Staff ask for today's report: the figures and a chart arrive in the staff chat."""
    mark = tour.mark
    day = datetime.now(tour.sim.tz).date().isoformat()
    await tour.staff_says(ADMIN.telegram_id, f"/report {day}")
    await tour.card("staff", lambda e: bool(e.get("photo")), since=mark)


def _has(event: dict[str, Any], label: str) -> bool:
    return any(label in b["text"] for row in event.get("buttons") or [] for b in row)


STEPS: list[Step] = [
    Step("① 绑定：新业主在公众号里说“绑定房屋”，按提示报楼号和手机号，花名册当场匹配", bind,
         focus={"openid": TOUR_OWNER.openid}),
    Step("② 下单：业主用大白话说“明天上午想请个阿姨打扫卫生”，确认后下单", order),
    Step("③ 派单：商家群出现派单卡片；资质过期的「老刘水电」抢单被拒", dispatch,
         focus={"merchant": EXPIRED_MERCHANT.telegram_id, "merchant_tab": "group"}),
    Step("④ 接单：「张师傅家政」按「接单」→ 业主收到接单通知，商家私聊收到业主联系方式", accept,
         focus={"merchant": GOOD_MERCHANT.telegram_id, "merchant_tab": "group"}),
    Step("⑤ 完工：商家在私聊里按「已出发」「已完成」，报金额、选付款方式 → 业主收到完工通知", complete,
         focus={"merchant": GOOD_MERCHANT.telegram_id, "merchant_tab": "dm"}),
    Step("⑥ 回访：完工后公众号主动请业主打分，业主回复 5 分", followup,
         focus={"openid": TOUR_OWNER.openid}),
    Step("⑦ 群发：员工在员工群发 /broadcast，先看预览再确认 → 翠苑有车的业主收到通知", broadcast,
         focus={"openid": data.OWNERS[0].openid}),
    Step("⑧ 日报：员工发 /report，员工群收到今天的数据和图表", report),
]
