"""Every order notice is one WeChat will show: keyword fields only, ≤20 characters, no line breaks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.wechat.notices import KEYWORD_MAX_CHARS, template_data, violations
from bot.wording.steps import STEP_WORDING
from dialogs import texts
from storage import dispatch, merchants, outbox
from storage.db import unit_of_work
from storage.orders import Order, OrderStatus
from tests.conftest import Backend, make_settings, start_hub
from tests.dialogs.conftest import bound_owner, drain, owner_row

TEMPLATE = "/cgi-bin/message/template/send"


async def test_every_order_notice_is_within_wechats_template_rules(backend: Backend, fake_wechat: FakeWeChatAPI) -> None:
    hub = await start_hub(make_settings(backend, fake_wechat, wechat_template_order="TPL-ORDER"), fake_wechat)
    try:
        me, _ = await bound_owner(hub)
        reply = await me.say("明天上午想请个阿姨打扫卫生")
        while "下单成功" not in reply:
            reply = await me.say("1")
        owner = await owner_row(hub, me.openid)
        async with unit_of_work(hub.runtime.sessions) as session:
            order = await session.scalar(select(Order).where(Order.owner_id == owner.id))
            assert order is not None
            merchant = await merchants.create(session=session, name="王师傅家政服务有限公司长名字", telegram_id=order.id + 7_000_000,
                                              services=[order.service])
            order.merchant = merchant
            order.failure_reason = "业主不在家\n改天再约"
            for status in texts.OWNER_TEXTS:  # accepted, on the way, arrived, completed, failed
                dispatch._notify_owner(session, order, status, f"订单{status}", STEP_WORDING)
            code = order.code
        await drain(hub)
        calls = [c for c in fake_wechat.calls_to(TEMPLATE) if c.body.get("touser") == me.openid]
        assert len(calls) == len(texts.OWNER_TEXTS)
        for call in calls:
            data = call.body["data"]
            assert violations(data) == [], data
            assert "first" not in data and "remark" not in data
            assert data["character_string2"]["value"] == code and data["thing1"]["value"] == "钟点工"
            assert all(len(v["value"]) <= KEYWORD_MAX_CHARS and "\n" not in v["value"] for v in data.values())
        statuses = [c.body["data"]["phrase4"]["value"] for c in calls]
        assert statuses == ["已接单", "师傅已出发", "师傅已到达", "已完成", "未能完成"]
        async with hub.runtime.sessions() as session:
            failed = [e for e in await session.scalars(select(outbox.OutboxEvent)) if e.kind == "owner.notify"
                      and e.payload.get("openid") == me.openid and (e.processed_at is None or e.last_error)]
        assert failed == []
    finally:
        await hub.client.close()


def test_the_mapping_from_settings_decides_the_keywords_and_the_fake_refuses_what_wechat_hides() -> None:
    mapping = {"service": "thing7", "code": "character_string9", "status": "phrase3"}
    data = template_data(mapping=mapping, tz=ZoneInfo("Asia/Shanghai"), title="月度挂账账单",
                         text="您 2026-11 的挂账服务共 3 单，合计 450 元，将随物业账单一并结算。")
    assert set(data) == {"thing7", "phrase3"}
    assert data["thing7"] == "月度挂账账单" and len(data["phrase3"]) <= KEYWORD_MAX_CHARS
    assert violations({"first": {"value": "x"}, "remark": {"value": "y"}, "thing1": {"value": "a" * 21},
                       "thing2": {"value": "a\nb"}}) == [
        "first: not displayed since 2023-05-04", "remark: not displayed since 2023-05-04",
        "thing1: 21 characters (at most 20)", "thing2: line break",
    ]
    assert OrderStatus.ACCEPTED in texts.OWNER_TEXTS
