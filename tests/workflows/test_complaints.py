"""Complaints have a life (issue 16) and read right (issue 13): 投诉编号, no guessed order, compensation."""

from __future__ import annotations

import asyncio
import csv
from datetime import date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app as cli
from bot.wording.merchant import supplier_notice
from storage import complaints, feedback, orders, supplier
from storage.base import utcnow
from storage.catalog import Service, get_service_by_name
from storage.db import unit_of_work
from storage.merchants import Merchant
from storage.orders import OrderStatus
from storage.owners import Owner
from tests.scheduler.kit import TZ
from tests.telegram.conftest import TgHub, World, make_world
from tests.workflows.kit import (
    drain,
    latest_complaint,
    new_alerts,
    owner_says,
    owner_texts,
    staff_chat_with,
    staff_says,
)


async def _completed_order(tg: TgHub, world: World, *, service: str | None = None, fen: int = 12000) -> tuple[int, str]:
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        owner = await session.get(Owner, world.owner_id)
        svc = (await get_service_by_name(session=session, name=service) if service
               else await session.get(Service, world.service_id))
        assert owner is not None and svc is not None
        order = await orders.create(session=session, owner=owner, service=svc, scheduled_at=None,
                                    address="3号楼2单元301室", contact_phone="13800138000")
        order.status, order.merchant_id = OrderStatus.COMPLETED, world.merchant_ids["张师傅"]
        order.completed_at = utcnow()
        order.amount_fen, order.commission_fen, order.payout_fen = fen, fen // 5, fen - fen // 5
        return order.id, order.code


async def test_an_angry_complaint_is_restated_numbered_timed_and_filed_against_the_property(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    await _completed_order(tg, world, service="家居家电维修")  # an unrelated earlier order
    reply = await owner_says(hub, world.owner_openid, "你们物业怎么回事，电梯三天了还没修好！")
    complaint = await latest_complaint(hub, world.owner_id)
    assert complaint.order_id is None and complaint.merchant_id is None  # not pinned to the 家电维修 order
    assert complaint.community_id == world.community_id
    assert reply.startswith("非常抱歉") and "电梯三天了还没修好" in reply and "怎么回事" not in reply
    assert f"投诉编号 T{complaint.id}" in reply and "30分钟内" in reply and "24小时内" in reply
    assert "回复“人工”" in reply and len(reply.splitlines()) <= 6
    await drain(hub)
    assert len(staff_chat_with(tg, f"【投诉 T{complaint.id}】")) == 1

    assert await new_alerts(tg, 31, f"投诉 T{complaint.id} 超时未受理") == 1
    assert await new_alerts(tg, 40, f"T{complaint.id} ") == 0
    assert f"已受理投诉 T{complaint.id}" in await staff_says(tg, world, f"/complaint_ack T{complaint.id}")
    await drain(hub)
    (told,) = owner_texts(hub, world.owner_openid, f"T{complaint.id}")
    assert "已受理" in told
    assert f"T{complaint.id} 处理中" in await staff_says(tg, world, "/complaints")
    # Nobody bears compensation on a complaint about the property as a merchant would.
    refused = await staff_says(tg, world, f"/close_complaint T{complaint.id} 已协调维保公司 赔偿 50 商家")
    assert "只能由平台承担" in refused
    assert await new_alerts(tg, 60 * 24 + 1, f"投诉 T{complaint.id} 超时未结案") == 1
    assert "已结案" in await staff_says(tg, world, f"/close_complaint {complaint.id} 维保公司已更换主板，电梯恢复运行")
    await drain(hub)
    told = owner_texts(hub, world.owner_openid, f"T{complaint.id}")
    assert len(told) == 2 and "电梯恢复运行" in told[1] and "补偿" not in told[1]


async def test_compensation_borne_by_the_merchant_comes_off_its_payout_in_butler_statements(
    tg: TgHub, tmp_path: Path
) -> None:
    hub = tg.hub
    world = await make_world(hub)
    _, code = await _completed_order(tg, world, fen=12000)  # payout 96.00 after 20% commission
    reply = await owner_says(hub, world.owner_openid, f"我要投诉订单{code}，师傅把地板划坏了")
    complaint = await latest_complaint(hub, world.owner_id)
    assert complaint.order_id is not None and complaint.merchant_id == world.merchant_ids["张师傅"]
    assert f"（订单 {code}）" in reply and f"投诉编号 T{complaint.id}" in reply

    assert "赔偿金额写成" in await staff_says(tg, world, f"/close_complaint T{complaint.id} 已致歉 赔偿 五十 商家")
    answer = await staff_says(tg, world, f"/close_complaint T{complaint.id} 已上门修补地板并致歉 赔偿 50 商家")
    assert "赔偿 50.00 元由商家承担" in answer
    assert "已结案" in await staff_says(tg, world, f"/close_complaint T{complaint.id} 再来一次")  # decided once
    await drain(hub)
    (told,) = owner_texts(hub, world.owner_openid, f"T{complaint.id}")
    assert "已上门修补地板并致歉" in told and "补偿 50元" in told and "商家" not in told
    async with hub.runtime.sessions() as session:
        closed = await complaints.get(session=session, complaint_id=complaint.id)
        assert closed is not None and closed.compensation_fen == 5000 and closed.compensation_bearer == "merchant"
        assert closed.note == "已上门修补地板并致歉"
        merchant = await session.get(Merchant, world.merchant_ids["张师傅"])
        assert merchant is not None

    month = utcnow().astimezone(TZ).strftime("%Y-%m")
    env = {"BUTLER_DATABASE_URL": hub.settings.database_url, "BUTLER_REDIS_URL": hub.settings.redis_url,
           "BUTLER_TZ": "Asia/Shanghai"}
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["statements", "--month", month, "--out", str(tmp_path), "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    with (tmp_path / f"merchant-payouts-{month}.csv").open(encoding="utf-8-sig") as fh:
        (row,) = [r for r in csv.DictReader(fh) if r["商家编号"] == str(merchant.id)]
    assert row["营业额(元)"] == "120.00" and row["平台佣金(元)"] == "24.00"
    assert row["投诉赔偿扣款(元)"] == "50.00" and row["应付商家(元)"] == "46.00"


async def test_complaints_against_a_merchant_fail_its_quarter_even_with_good_ratings(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    merchant_id = world.merchant_ids["张师傅"]
    year, q = supplier.previous_quarter(*supplier.quarter_of(date.today()))
    start, _ = supplier.quarter_bounds(year, q)
    inside = datetime.combine(start + timedelta(days=10), datetime.min.time(), TZ)
    async with unit_of_work(hub.runtime.sessions) as session:
        for i in range(5):
            rating = await feedback.add_rating(session=session, owner_id=world.owner_id, order_id=None,
                                               merchant_id=merchant_id, score=5)
            rating.created_at = inside
            if i < 4:  # four complaints: over the default limit of three
                c = await feedback.open_complaint(session=session, owner_id=world.owner_id, text="师傅态度差",
                                                  merchant_id=merchant_id)
                c.created_at = inside
    async with unit_of_work(hub.runtime.sessions) as session:
        await supplier.evaluate_quarter(session=session, year=year, q=q, today=date.today(), tz=TZ,
                                        policy=supplier.EvaluationPolicy(), say=supplier_notice)
        (ev,) = [e for e in await supplier.latest_evaluations(session=session, merchant_id=merchant_id)
                 if e.quarter == supplier.quarter_label(year, q)]
    assert ev.outcome == "failed" and ev.complaints == 4 and ev.deadline is not None
    await drain(hub)
    notes = [c.text for c in tg.fake.sent_to(world.merchants["张师傅"])]
    assert any("投诉 4 起" in n and "整改" in n for n in notes), notes
