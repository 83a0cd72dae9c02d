"""Attack 2: a stranger cannot order against, or put 挂账 on, someone else's household.

Owners bind and order through the real WeChat path; staff decide claims with /bindings, /bind_ok
and /bind_reject in the Telegram staff chat (fake Bot API server); merchants see job cards in
the fake merchant group. An order placed before the decision reaches no merchant.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from bot.app import RELAY
from dialogs import texts
from storage import communities
from storage.base import utcnow
from storage.db import unit_of_work
from storage.household_claims import ClaimStatus, HouseholdClaim
from storage.orders import Order, OrderStatus
from storage.owners import BindingStatus, Owner
from tests.dialogs.conftest import OwnerChat, add_roster
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    STAFF_CHAT,
    TgHub,
    World,
    fake_telegram,
    job_button,
    make_world,
    tg_hub,
    wechat_to,
)

__all__ = ["fake_telegram", "tg_hub"]  # fixtures


async def _community(tg_hub: TgHub, world: World) -> str:
    async with tg_hub.hub.runtime.sessions() as session:
        found = await communities.get(session=session, community_id=world.community_id)
        assert found is not None
        return found.name


async def _drain(tg_hub: TgHub) -> None:
    await tg_hub.hub.client.app[RELAY].drain()


async def _bind(owner: OwnerChat, community: str, address: str, phone: str) -> str:
    await owner.say("绑定")
    await owner.say(community)
    assert "手机号" in await owner.say(address)
    return await owner.say(phone)


async def _order(owner: OwnerChat) -> tuple[str, str]:
    """Order a cleaner by chatting; returns (reply, order code)."""
    prompt = await owner.say(f"明天上午请个阿姨打扫卫生，备注{uuid.uuid4().hex[:4]}")
    assert "请确认您的预约" in prompt, prompt
    reply = await owner.say("1")
    found = re.search(r"订单号 ([A-Z0-9]{6})", reply)
    assert found, reply
    return reply, found.group(1)


async def _staff(tg_hub: TgHub, world: World, text: str) -> str:
    before = len(tg_hub.fake.calls_to("sendMessage", chat_id=STAFF_CHAT))
    await tg_hub.say(world.staff_telegram_id, text, chat_id=STAFF_CHAT)
    sent = tg_hub.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)[before:]
    replies = [c.text for c in sent if not c.text.startswith("【")]  # alerts of other tests' rows
    assert replies, f"no reply to {text}"
    return replies[-1]


async def _claim_of(tg_hub: TgHub, openid: str) -> HouseholdClaim:
    async with tg_hub.hub.runtime.sessions() as session:
        owner = await session.scalar(select(Owner).where(Owner.openid == openid))
        assert owner is not None
        claim = await session.scalar(select(HouseholdClaim).where(HouseholdClaim.owner_id == owner.id).order_by(HouseholdClaim.id.desc()))
        assert claim is not None
        return claim


async def _order_row(tg_hub: TgHub, code: str) -> Order:
    async with tg_hub.hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.code == code))
        assert order is not None
        return order


def _cards(tg_hub: TgHub, code: str) -> list[str]:
    return [c.text for c in tg_hub.fake.sent_to(MERCHANT_CHAT) if code in c.text]


async def test_pending_claims_are_decided_by_staff_and_waiting_orders_reach_no_merchant(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    community = await _community(tg_hub, world)
    alice, bob = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}"), OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")

    # Two claims the roster cannot confirm: both wait for staff.
    assert "管家核实后会通知您" in await _bind(alice, community, "5号楼1单元502", "13700001111")
    assert "管家核实后会通知您" in await _bind(bob, community, "6号楼1单元601", "13700002222")
    a_claim, b_claim = await _claim_of(tg_hub, alice.openid), await _claim_of(tg_hub, bob.openid)
    assert a_claim.status == b_claim.status == ClaimStatus.PENDING
    await _drain(tg_hub)
    assert any(f"/bind_ok {a_claim.id}" in c.text for c in tg_hub.fake.sent_to(STAFF_CHAT))

    # Before the decision: questions are answered, orders wait and no card is posted.
    assert "钟点工" in await alice.say("钟点工多少钱")
    a_reply, a_code = await _order(alice)
    b_reply, b_code = await _order(bob)
    assert "等待管家核实" in a_reply and "等待管家核实" in b_reply
    await _drain(tg_hub)
    assert (await _order_row(tg_hub, a_code)).status == OrderStatus.AWAITING_VERIFICATION
    assert _cards(tg_hub, a_code) == [] and _cards(tg_hub, b_code) == []
    # A forged 接单 on the waiting order takes nothing, and no slip with the address goes out.
    merchant = world.merchants["张师傅"]
    pressed = await tg_hub.press(merchant, job_button((await _order_row(tg_hub, a_code)).id))
    assert tg_hub.answer_for(pressed)["text"] != "接单成功"
    assert not [c for c in tg_hub.fake.sent_to(merchant) if "5号楼" in c.text]

    listing = await _staff(tg_hub, world, "/bindings")
    assert f"#{a_claim.id}" in listing and "13700001111" in listing and "5号楼1单元502室" in listing
    assert f"#{b_claim.id}" in listing and "已等待" in listing and "花名册：无登记" in listing

    # /bind_ok: the owner is told, the waiting order goes to the merchant group.
    assert "已核实通过" in await _staff(tg_hub, world, f"/bind_ok {a_claim.id}")
    await _drain(tg_hub)
    to_alice = wechat_to(hub.fake_wechat, alice.openid)
    assert any("已由管家核实" in t and "5号楼1单元502室" in t for t in to_alice)
    assert any(a_code in t and "正在为您安排" in t for t in to_alice)
    assert len(_cards(tg_hub, a_code)) == 1
    assert (await _order_row(tg_hub, a_code)).status == OrderStatus.PENDING_DISPATCH
    assert "已处理过" in await _staff(tg_hub, world, f"/bind_ok {a_claim.id}")  # decided once

    # /bind_reject: the reason reaches the owner, the waiting order is cancelled, no card ever.
    assert "请写驳回原因" in await _staff(tg_hub, world, f"/bind_reject {b_claim.id}")
    assert "已驳回" in await _staff(tg_hub, world, f"/bind_reject {b_claim.id} 房号与物业登记不符")
    await _drain(tg_hub)
    to_bob = wechat_to(hub.fake_wechat, bob.openid)
    assert any("未通过核实" in t and "房号与物业登记不符" in t for t in to_bob)
    assert any(b_code in t and "已取消" in t for t in to_bob)
    assert (await _order_row(tg_hub, b_code)).status == OrderStatus.CANCELLED
    assert _cards(tg_hub, b_code) == []
    async with hub.runtime.sessions() as session:
        rejected = await session.scalar(select(Owner).where(Owner.openid == bob.openid))
    assert rejected is not None and rejected.binding_status == BindingStatus.UNBOUND and rejected.room == ""


async def test_staff_of_another_community_cannot_decide(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world, other = await make_world(hub), await make_world(hub)
    stranger = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")
    await _bind(stranger, await _community(tg_hub, world), "8号楼1单元801", "13700003333")
    claim = await _claim_of(tg_hub, stranger.openid)
    assert f"#{claim.id}" not in await _staff(tg_hub, other, "/bindings")
    assert "无权" in await _staff(tg_hub, other, f"/bind_ok {claim.id}")
    assert (await _claim_of(tg_hub, stranger.openid)).status == ClaimStatus.PENDING


async def test_a_second_claim_on_a_verified_household_alerts_staff_and_the_owner(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)  # 王女士 is verified on 3号楼2单元301
    community = await _community(tg_hub, world)
    # Even with the roster's own phone, a second account on the household is not trusted by itself.
    await add_roster(hub, community, "3", "2", "301", "13800138000", name="王五")
    stranger = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")
    reply = await _bind(stranger, community, "3号楼2单元301", "13800138000")
    assert "管家核实后会通知您" in reply and "王五" not in reply and "王女士" not in reply
    claim = await _claim_of(tg_hub, stranger.openid)
    assert claim.status == ClaimStatus.PENDING and claim.conflict_owner_id == world.owner_id
    await _drain(tg_hub)
    assert any("绑定冲突" in c.text and f"#{claim.id}" in c.text for c in tg_hub.fake.sent_to(STAFF_CHAT))
    assert any("有人申请绑定您的房屋" in t for t in wechat_to(hub.fake_wechat, world.owner_openid))
    _, code = await _order(stranger)
    await _drain(tg_hub)
    assert _cards(tg_hub, code) == []


async def test_a_roster_match_binds_without_echoing_the_roster_name(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    community = await _community(tg_hub, world)
    await add_roster(hub, community, "9", "1", "901", "13700009999", name="王五")
    owner = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")
    reply = await _bind(owner, community, "9号楼1单元901", "13700009999")
    assert "绑定成功" in reply and "王五" not in reply
    assert (await _claim_of(tg_hub, owner.openid)).status == ClaimStatus.VERIFIED


async def test_a_roster_import_confirms_the_claims_it_now_matches(tg_hub: TgHub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import os
    import sys
    from pathlib import Path

    hub = tg_hub.hub
    world = await make_world(hub)
    community = await _community(tg_hub, world)
    owner = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")
    await _bind(owner, community, "7号楼2单元702", "13700007777")
    _, code = await _order(owner)
    claim = await _claim_of(tg_hub, owner.openid)
    csv = tmp_path / "roster.csv"
    csv.write_text(f"community,building,unit,room,name,phone\n{community},7,2,702,赵六,13700007777\n", encoding="utf-8")
    butler = str(Path(sys.executable).with_name("butler"))
    proc = await asyncio.create_subprocess_exec(
        butler, "owner", "import", str(csv), cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"BUTLER_DATABASE_URL": hub.settings.database_url},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert f"#{claim.id}" in out.decode()
    assert (await _claim_of(tg_hub, owner.openid)).status == ClaimStatus.VERIFIED
    await _drain(tg_hub)
    assert any("核对一致" in t and "赵六" not in t for t in wechat_to(hub.fake_wechat, owner.openid))
    assert len(_cards(tg_hub, code)) == 1


async def test_a_claim_waiting_past_a_working_day_is_escalated_once(tg_hub: TgHub) -> None:
    from bot.app import SERVICES
    from scheduler.jobs import run_job

    hub = tg_hub.hub
    world = await make_world(hub)
    owner = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")
    await _bind(owner, await _community(tg_hub, world), "4号楼1单元401", "13700004444")
    claim = await _claim_of(tg_hub, owner.openid)
    async with unit_of_work(hub.runtime.sessions) as session:
        await session.execute(update(HouseholdClaim).where(HouseholdClaim.id == claim.id)
                              .values(created_at=utcnow() - timedelta(days=4)))  # past any weekend
    ctx = hub.client.app[SERVICES].job_context()
    assert await run_job("escalate_claims", ctx) >= 1
    await run_job("escalate_claims", ctx)
    await _drain(tg_hub)
    alerts = [c.text for c in tg_hub.fake.sent_to(STAFF_CHAT) if f"绑定超时 #{claim.id}】" in c.text]
    assert len(alerts) == 1 and "已等待 4天" in alerts[0]

    from dialogs import verification

    async with hub.runtime.sessions() as session:
        summary = await verification.overdue_summary(session=session, tz=hub.runtime.tz, working_days=1, now=utcnow())
    assert f"#{claim.id}" in summary and "待核实绑定超时" in summary


def test_texts_never_greet_by_a_roster_name() -> None:
    assert "{name}" not in texts.BIND_VERIFIED


async def test_staff_decide_from_wechat_and_two_decisions_at_once_make_one(hub) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from storage import staff as staff_repo
    from tests.broadcasts.kit import make_place, say

    place = await make_place(hub)
    async with unit_of_work(hub.runtime.sessions) as session:
        c = await communities.get(session=session, community_id=place.community_id)
        second = await staff_repo.create(session=session, name="另一位客服", openid=f"s2-{uuid.uuid4().hex[:8]}",
                                         communities=[c] if c else [])
        second_openid = second.openid or ""
    owner = OwnerChat(hub, f"o_{uuid.uuid4().hex[:16]}")
    await _bind(owner, place.community, "2号楼1单元201", "13700005555")
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(Owner).where(Owner.openid == owner.openid))
        assert row is not None
        claim = await session.scalar(select(HouseholdClaim).where(HouseholdClaim.owner_id == row.id))
        assert claim is not None
    listing = await say(hub, place.staff_openid, "/bindings")
    assert f"#{claim.id}" in listing and "13700005555" in listing
    # Not staff: the owner's own /bind_ok is refused and changes nothing.
    assert "仅限物业工作人员" in await owner.say(f"/bind_ok {claim.id}")

    first, other = await asyncio.gather(
        say(hub, place.staff_openid, f"/bind_ok {claim.id}"), say(hub, second_openid, f"/bind_reject {claim.id} 信息不符"),
    )
    outcomes = sorted(["ok" if "已核实通过" in first else "dup" if "已处理过" in first else first,
                       "rej" if "已驳回" in other else "dup" if "已处理过" in other else other])
    assert outcomes in (["dup", "ok"], ["dup", "rej"]), (first, other)
    async with hub.runtime.sessions() as session:
        decided = await session.get(HouseholdClaim, claim.id)
        assert decided is not None
        notices = [t for t in await _owner_notices(session, owner.openid) if "房屋" in t]
    assert decided.status in (ClaimStatus.VERIFIED, ClaimStatus.REJECTED)
    assert len(notices) == 1  # the owner hears exactly the decision that was made


async def _owner_notices(session, openid: str) -> list[str]:  # type: ignore[no-untyped-def]
    from storage.outbox import OutboxEvent

    rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "owner.notify"))
    return [r.payload["text"] for r in rows if r.payload.get("openid") == openid]
