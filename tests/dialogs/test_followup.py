"""Follow-up visits (回访), ratings and complaints, with the owner answering over WeChat."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from dialogs import followup, texts
from storage import catalog, communities, feedback, merchants, orders, owners, staff
from storage.base import utcnow
from storage.db import unit_of_work
from storage.feedback import Complaint, ComplaintStatus, Rating
from storage.orders import OrderStatus
from tests.conftest import Hub
from tests.dialogs.conftest import bound_owner, drain, events, sent_texts


async def completed_order(hub: Hub, openid: str) -> tuple[int, int]:
    """(order id, merchant id) of a finished 钟点工 job for this owner."""
    async with unit_of_work(hub.runtime.sessions) as session:
        service = await catalog.get_service_by_name(session=session, name="钟点工")
        assert service is not None
        owner = await owners.get_by_openid(session=session, openid=openid)
        assert owner is not None and owner.community_id is not None
        community = await communities.get(session=session, community_id=owner.community_id)
        # Scoped to this test's community: the shared database must not offer it to others' jobs.
        merchant = await merchants.create(session=session, name="回访测试商家", telegram_id=random.randint(10**9, 10**10),
                                          services=[service], communities=[community])  # type: ignore[list-item]
        order = await orders.create(session=session, owner=owner, service=service, scheduled_at=None,
                                    address="3号楼2单元301室", contact_phone=owner.phone)
        order.merchant_id = merchant.id
        order.move_to(OrderStatus.ACCEPTED)
        order.move_to(OrderStatus.COMPLETED)
        return order.id, merchant.id


async def test_low_rating_opens_a_complaint_and_feeds_the_merchant_score(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    order_id, merchant_id = await completed_order(hub, me.openid)
    async with unit_of_work(hub.runtime.sessions) as session:
        assert await followup.start_followup(session=session, kv=hub.runtime.kv, order_id=order_id) == followup.Start.ASKED
    await drain(hub)
    assert "请为本次服务打分" in sent_texts(hub, me.openid)[-1]
    assert "请回复1到5" in await me.say("还没想好")
    assert await me.say("2") == texts.FOLLOWUP_SORRY
    async with hub.runtime.sessions() as session:
        complaint = await session.scalar(select(Complaint).where(Complaint.order_id == order_id))
    assert complaint is not None and complaint.status == ComplaintStatus.OPEN and complaint.merchant_id == merchant_id
    assert await events(hub, "staff.notify", complaint_id=complaint.id)
    assert f"投诉编号 T{complaint.id}" in await me.say("师傅迟到了一个小时")  # issue 16: number + time frame
    async with hub.runtime.sessions() as session:
        rating = await session.scalar(select(Rating).where(Rating.order_id == order_id))
        assert rating is not None and (rating.score, rating.comment, rating.merchant_id) == (2, "师傅迟到了一个小时", merchant_id)
        average = await feedback.merchant_average_rating(
            session=session, merchant_id=merchant_id, since=utcnow() - timedelta(days=1), until=utcnow() + timedelta(days=1))
    assert average == 2.0
    async with unit_of_work(hub.runtime.sessions) as session:
        rated_once = await followup.start_followup(session=session, kv=hub.runtime.kv, order_id=order_id)
        assert rated_once == followup.Start.NOT_NEEDED
        manager = await staff.create(session=session, name="王经理", openid=f"s_{random.getrandbits(40)}")
        await feedback.close_complaint(session=session, complaint_id=complaint.id, staff_id=manager.id, note="已致电道歉")
    async with hub.runtime.sessions() as session:
        closed = await session.get(Complaint, complaint.id)
        assert closed is not None and closed.status == ComplaintStatus.CLOSED and closed.note == "已致电道歉"


async def test_a_rating_outside_a_followup_goes_to_the_last_order_but_a_complaint_to_the_property(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert await me.say("给个5分") == texts.RATE_NO_ORDER
    order_id, merchant_id = await completed_order(hub, me.openid)
    assert "打5分吗" in await me.say("给个5分")  # outside a 回访 a score is confirmed first
    assert await me.say("是") == texts.FOLLOWUP_COMMENT
    assert await me.say("没有") == texts.FOLLOWUP_DONE
    async with hub.runtime.sessions() as session:
        rating = await session.scalar(select(Rating).where(Rating.order_id == order_id))
        assert rating is not None and rating.score == 5 and rating.merchant_id == merchant_id
    assert "已经评价过" in await me.say("给个5分")
    assert "您是想投诉“服务太差了投诉”吗" in await me.say("服务太差了投诉")
    # Issue 13: a complaint is never pinned to whatever order came last (tests/workflows covers the rest).
    assert "投诉编号 T" in await me.say("是")
    async with hub.runtime.sessions() as session:
        complaint = await session.scalar(
            select(Complaint).where(Complaint.owner_id == rating.owner_id).order_by(Complaint.id.desc()))
        assert complaint is not None and complaint.text == "服务太差了投诉"
        assert complaint.order_id is None and complaint.merchant_id is None
    assert await events(hub, "staff.notify", complaint_id=complaint.id)


async def test_a_followup_arriving_mid_dialog_is_answered_first_then_the_dialog_resumes(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    order_id, _ = await completed_order(hub, me.openid)
    assert "什么时间" in await me.say("我想请个钟点工")
    async with unit_of_work(hub.runtime.sessions) as session:
        assert await followup.start_followup(session=session, kv=hub.runtime.kv, order_id=order_id) == followup.Start.ASKED
    assert await me.say("5") == texts.FOLLOWUP_COMMENT
    reply = await me.say("阿姨很细心")
    assert texts.FOLLOWUP_DONE in reply and "什么时间" in reply  # back to the order it interrupted
    assert "请确认" in await me.say("后天上午9点")
