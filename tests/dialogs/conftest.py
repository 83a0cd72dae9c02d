"""Helpers for dialog tests: talk to the hub like an owner on WeChat, set up data, read the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.devtools.wechat_sender import event_xml, text_xml
from storage import communities, outbox, owners, roster
from storage.db import unit_of_work
from storage.owners import BindingStatus
from tests.conftest import Hub


def uid(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class OwnerChat:
    """One owner's side of the chat, through signed+encrypted XML."""

    hub: Hub
    openid: str

    async def say(self, text: str) -> str:
        status, reply = await self.hub.post(text_xml(self.openid, text))
        assert status == 200
        return reply.get("Content", "")

    async def event(self, name: str, key: str = "", *, at: int | None = None) -> str:
        status, reply = await self.hub.post(event_xml(self.openid, name, key=key, at=at))
        assert status == 200
        return reply.get("Content", "")


def chat(hub: Hub) -> OwnerChat:
    return OwnerChat(hub, f"o_{uuid.uuid4().hex[:20]}")


async def make_community(hub: Hub, *, fee_yuan: int = 0, households: int = 0) -> str:
    name = uid("小区")
    async with unit_of_work(hub.runtime.sessions) as session:
        await communities.create(session=session, name=name, property_fee_monthly_fen=fee_yuan * 100, households=households)
    return name


async def add_roster(hub: Hub, community: str, building: str, unit: str, room: str, phone: str, name: str = "王先生") -> None:
    async with unit_of_work(hub.runtime.sessions) as session:
        c = await communities.get_by_name(session=session, name=community)
        assert c is not None
        await roster.upsert(session=session, row=roster.RosterRow(c.id, building, unit, room, name, phone))


async def bound_owner(hub: Hub, *, phone: str = "13900001111") -> tuple[OwnerChat, str]:
    """An owner already verified in a fresh community."""
    me = chat(hub)
    community = await make_community(hub, fee_yuan=30000, households=100)
    async with unit_of_work(hub.runtime.sessions) as session:
        c = await communities.get_by_name(session=session, name=community)
        owner = await owners.get_or_create(session=session, openid=me.openid)
        owner.community_id, owner.building, owner.unit, owner.room = c.id, "3", "2", "301"  # type: ignore[union-attr]
        owner.phone, owner.phone_valid, owner.binding_status = phone, True, BindingStatus.VERIFIED
    return me, community


async def owner_row(hub: Hub, openid: str) -> owners.Owner:
    async with hub.runtime.sessions() as session:
        owner = await owners.get_by_openid(session=session, openid=openid)
        assert owner is not None
        await owners.load_tags(session=session, owner=owner)  # tests read tag_names after the session
        return owner


async def events(hub: Hub, kind: str, **match: Any) -> list[dict[str, Any]]:
    """Outbox payloads of one kind whose fields equal `match`."""
    async with hub.runtime.sessions() as session:
        rows = await session.scalars(select(outbox.OutboxEvent).where(outbox.OutboxEvent.kind == kind).order_by(outbox.OutboxEvent.id))
        return [r.payload for r in rows if all(r.payload.get(k) == v for k, v in match.items())]


async def drain(hub: Hub) -> None:
    """Deliver pending outbox events now (what the relay does after each commit)."""
    from bot.app import RELAY

    await hub.client.server.app[RELAY].drain()


def sent_texts(hub: Hub, openid: str) -> list[str]:
    """Customer-service texts the fake WeChat API received for an owner."""
    return [
        c.body["text"]["content"]
        for c in hub.fake_wechat.calls_to("/cgi-bin/message/custom/send")
        if c.body.get("touser") == openid and "text" in c.body
    ]


async def staff_member(hub: Hub, *, community: str | None = None, admin: bool = False) -> int:
    """A registered staff member (scoped to community, or an admin); returns their Telegram id.

    Hand-off replies are checked against the staff register (issue 14), so tests speak as one.
    """
    from storage import staff

    telegram_id = uuid.uuid4().int % 10**9 + 2 * 10**9
    async with unit_of_work(hub.runtime.sessions) as session:
        found = await communities.get_by_name(session=session, name=community) if community else None
        await staff.create(
            session=session, name=f"客服{telegram_id}", telegram_id=telegram_id,
            role=staff.StaffRole.ADMIN if admin else staff.StaffRole.STAFF,
            communities=[found] if found is not None else [],
        )
    return telegram_id
