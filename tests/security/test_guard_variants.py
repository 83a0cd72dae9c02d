"""Attack 4: the 零物业费 guard cannot be dodged with invisible, traditional or decorated variants.

The variants are checked on the guard itself (table-driven), then through the two paths where
staff write owner-bound text: a broadcast preview over WeChat and a hand-off reply in the
Telegram staff chat. Staff see the refusal before anything is confirmed or sent.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from bot.devtools.fake_telegram import bot_message_json
from bot.telegram.deliveries import staff_message_key
from dialogs.guard import ContentGuard
from storage.broadcasts import Broadcast
from tests.broadcasts.kit import add_owner, make_place, say
from tests.conftest import Hub
from tests.dialogs.conftest import OwnerChat, drain
from tests.telegram.conftest import STAFF_CHAT, TgHub, fake_telegram, make_world, tg_hub, wechat_to

__all__ = ["fake_telegram", "tg_hub"]  # fixtures

VARIANTS = [
    "零物业费",
    "零 物业费",
    "零\n物业\t费",
    "零\u200b物业费",  # zero-width space
    "零\u200d物\u200c业\ufeff费",  # joiner, non-joiner, BOM
    "零\u2060物业\u00ad费",  # word joiner, soft hyphen
    "零\u202e物业费",  # bidi override (a format character)
    "零物業費",  # traditional
    "零物業费",  # half traditional
    "零·物业费",
    "零-物业费",
    "零—物业费",
    "零_物业费",
    "零.物.业.费",
    "【零】【物业费】",
    "（零）物业费",
    "「零」物业费",
    "零★物业费",
    "零\u3000物业费",  # ideographic space
    "零\u0301物业费",  # combining mark
    "我们推出 零 ● 物 ● 业 ● 费 计划",
    "＂零＂＂物业费＂",
]
SAFE = ["物业费每月30元", "零星维修", "零钱支付，物业费另算", "零用钱"]


@pytest.mark.parametrize("text", VARIANTS)
def test_every_variant_is_caught(text: str) -> None:
    assert ContentGuard(["零物业费"]).find(text) == "零物业费"


@pytest.mark.parametrize("text", SAFE)
def test_ordinary_words_pass(text: str) -> None:
    assert ContentGuard(["零物业费"]).find(text) is None


def test_a_traditional_term_in_the_settings_catches_the_simplified_text() -> None:
    assert ContentGuard(["零物業費"]).find("零物业费计划") == "零物業費"


async def test_broadcast_with_a_disguised_term_is_refused_at_preview(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a", window_open=True)
    for body in ("零\u200b物业费，欢迎咨询", "零物業費活动", "【零】【物业费】来了", "零·物业费"):
        reply = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | {body}")
        assert reply.startswith("不能发送") and "零物业费" not in reply, reply
    async with hub.runtime.sessions() as session:
        drafts = await session.scalar(select(func.count()).select_from(Broadcast).where(Broadcast.staff_id == place.staff_id))
    assert drafts == 0  # nothing to confirm, so nothing can be sent
    await drain(hub)
    assert not wechat_to(hub.fake_wechat, owner)


async def test_handoff_reply_with_a_disguised_term_is_refused_in_the_staff_chat(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    owner = OwnerChat(hub, world.owner_openid)
    await owner.say(f"我要找人工 {uuid.uuid4().hex[:6]}")
    await owner.say("转人工")
    await drain(hub)
    alert = next(c for c in tg_hub.fake.sent_to(STAFF_CHAT) if "【转人工】" in c.text and f"(#{world.owner_id})" in c.text)
    alert_id = next(k[1] for k, m in tg_hub.fake.messages.items() if k[0] == STAFF_CHAT and m["text"] == alert.text)
    assert await hub.runtime.kv.get_json(staff_message_key(STAFF_CHAT, alert_id))
    msg = bot_message_json(chat_id=STAFF_CHAT, message_id=alert_id, text=alert.text)

    await tg_hub.say(world.staff_telegram_id, "告诉您，零\u200b物業費马上实行", chat_id=STAFF_CHAT, reply_to=msg)
    await drain(hub)
    assert any("未转发" in c.text for c in tg_hub.fake.sent_to(STAFF_CHAT))
    assert not [t for t in wechat_to(hub.fake_wechat, world.owner_openid) if "物" in t and "费" in t]
