"""Shared helpers for issue-6 tests: seeding owners and staff, talking to the hub as staff."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app import SERVICES
from bot.devtools.wechat_sender import text_xml
from storage import communities, staff
from storage.base import utcnow
from storage.broadcasts import Broadcast, Delivery
from storage.db import unit_of_work
from storage.outbox import OutboxEvent
from storage.owners import BindingStatus, Owner, OwnerTag
from storage.staff import StaffRole
from tests.conftest import Hub


def uid() -> str:
    """A short unique suffix (test databases are shared across tests)."""
    return uuid.uuid4().hex[:8]


@dataclass
class Place:
    """One test's community, its staff and owners."""

    community_id: int
    community: str
    staff_openid: str
    staff_id: int
    admin_openid: str
    owners: dict[str, str] = field(default_factory=dict)  # label -> openid


async def make_place(hub: Hub, *, fee_fen: int = 0) -> Place:
    """A community with a scoped staff member and an admin, both on WeChat."""
    tag = uid()
    async with unit_of_work(hub.runtime.sessions) as session:
        c = await communities.create(session=session, name=f"翠苑{tag}", property_fee_monthly_fen=fee_fen)
        member = await staff.create(session=session, name=f"客服{tag}", openid=f"s-{tag}", communities=[c])
        await staff.create(session=session, name=f"经理{tag}", openid=f"a-{tag}", role=StaffRole.ADMIN)
        return Place(c.id, c.name, member.openid or "", member.id, f"a-{tag}")


async def add_owner(
    hub: Hub, place: Place, label: str, *, building: str = "1", tags: tuple[str, ...] = (),
    window_open: bool = False, following: bool = True, opted_out: bool = False,
    bound: bool = True, name: str = "王女士",
) -> str:
    """An owner in the place; `window_open` means they wrote to us an hour ago."""
    openid = f"o-{label}-{uid()}"
    async with unit_of_work(hub.runtime.sessions) as session:
        session.add(Owner(
            openid=openid, name=name, community_id=place.community_id, building=building, unit="1",
            room="101", following=following, push_opt_out=opted_out,
            binding_status=BindingStatus.VERIFIED if bound else BindingStatus.UNBOUND,
            last_message_at=utcnow() - timedelta(hours=1) if window_open else utcnow() - timedelta(days=5),
            tags=[OwnerTag(tag=t) for t in tags],
        ))
    place.owners[label] = openid
    return openid


async def say(hub: Hub, openid: str, text: str) -> str:
    """Send a WeChat text as `openid`; returns the passive reply text ('' for none)."""
    status, reply = await hub.post(text_xml(openid, text))
    assert status == 200
    return reply.get("Content", "")


async def wait_broadcast(hub: Hub, broadcast_id: int, *, timeout: float = 20) -> Broadcast:
    """Run the sender until the broadcast is finished."""
    sender = hub.client.app[SERVICES].sender
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await sender.run_once()
        async with hub.runtime.sessions() as session:
            row = await session.get(Broadcast, broadcast_id)
            assert row is not None
            if row.status in ("done", "cancelled"):
                return row
        assert asyncio.get_running_loop().time() < deadline, f"broadcast {broadcast_id} still {row.status}"
        await asyncio.sleep(0.1)


async def latest_broadcast_id(hub: Hub, staff_id: int) -> int:
    async with hub.runtime.sessions() as session:
        found = await session.scalar(select(func.max(Broadcast.id)).where(Broadcast.staff_id == staff_id))
        assert found is not None
        return int(found)


async def deliveries(hub: Hub, broadcast_id: int) -> dict[str, Delivery]:
    """openid -> delivery row."""
    async with hub.runtime.sessions() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id))
        return {d.openid: d for d in rows}


async def outbox_events(hub: Hub, kind: str, **match: Any) -> list[dict[str, Any]]:
    """Payloads of outbox events of a kind whose payload contains `match`."""
    async with hub.runtime.sessions() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id))
        return [r.payload for r in rows if all(r.payload.get(k) == v for k, v in match.items())]


def cs_texts_to(hub: Hub, openid: str) -> list[str]:
    """Customer-service texts the fake WeChat API received for one openid."""
    return [c.body["text"]["content"] for c in hub.fake_wechat.calls_to("/cgi-bin/message/custom/send")
            if c.body.get("touser") == openid]


def mass_calls_with(hub: Hub, openid: str) -> list[dict[str, Any]]:
    """Mass-send bodies that included an openid."""
    return [c.body for c in hub.fake_wechat.calls_to("/cgi-bin/message/mass/send") if openid in c.body.get("touser", [])]
