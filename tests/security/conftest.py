"""Security tests (issue 14): each runs one attack from the black-box test, through the real
WeChat path (signed, encrypted POSTs) and the fake Telegram Bot API server."""

from __future__ import annotations

import uuid

from bot.app import RELAY
from bot.devtools.fake_telegram import bot_message_json
from storage import communities, staff
from storage.base import utcnow
from storage.db import unit_of_work
from storage.owners import Owner
from storage.staff import StaffRole
from tests.telegram.conftest import STAFF_CHAT, TgHub, fake_telegram, tg_hub, unique_int

__all__ = ["fake_telegram", "tg_hub"]  # fixtures


async def register_staff(
    tg: TgHub, *, community_ids: list[int] = (), admin: bool = False, active: bool = True  # type: ignore[assignment]
) -> int:
    """A staff member on Telegram; returns their Telegram user id."""
    telegram_id = unique_int()
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        places = [c for c in [await session.get(communities.Community, i) for i in community_ids] if c is not None]
        member = await staff.create(
            session=session, name=f"员工{telegram_id % 10000}", telegram_id=telegram_id,
            role=StaffRole.ADMIN if admin else StaffRole.STAFF, communities=places,
        )
        member.active = active
    return telegram_id


async def new_community(tg: TgHub, name: str) -> int:
    """A community with a unique name starting with `name` (the databases are shared)."""
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        return (await communities.create(session=session, name=f"{name}{uuid.uuid4().hex[:6]}")).id


async def handoff_alert(tg: TgHub, owner_id: int) -> dict[str, object]:
    """Open a hand-off for the owner and return the staff-chat alert as a message to reply to."""
    from dialogs import handoff

    async with unit_of_work(tg.hub.runtime.sessions) as session:
        owner = await session.get(Owner, owner_id)
        assert owner is not None
        owner.last_message_at = utcnow()  # inside WeChat's 48-hour window
        await handoff.open_handoff(session=session, owner=owner, reason="human_agent")
    await tg.hub.client.app[RELAY].drain()
    (alert,) = [c for c in tg.fake.sent_to(STAFF_CHAT) if "/close" in c.text and f"(#{owner_id})" in c.text]
    alert_id = next(k[1] for k, m in tg.fake.messages.items() if k[0] == STAFF_CHAT and m["text"] == alert.text)
    return bot_message_json(chat_id=STAFF_CHAT, message_id=alert_id, text=alert.text)
