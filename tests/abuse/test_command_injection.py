"""Staff command injection: segment-syntax abuse, smuggled commands, forged buttons, command floods.

(Non-staff refusals, the guard on broadcast text, and forwarded/edited Telegram commands are covered
by issue 6's tests/commands; these are the attacks those don't try.)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.commands.registry import REFUSAL
from bot.devtools.fake_telegram import FakeTelegramAPI, callback_update
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from bot.flood import TOO_FAST
from storage import segments
from storage.broadcasts import Broadcast
from storage.messages import InboundMessageLog
from tests.broadcasts.kit import add_owner, make_place, say
from tests.conftest import Backend, Hub
from tests.telegram.conftest import STAFF_CHAT, TgHub, start_tg_hub, telegram_settings, unique_int


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Bot API server."""
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def tg(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> AsyncIterator[TgHub]:
    """The hub with Telegram wired to the fake Bot API (staff chat commands and buttons)."""
    running = await start_tg_hub(telegram_settings(backend, fake_wechat, fake_telegram), fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()


SEGMENT_WORDS = ["小区", "楼栋", "单元", "标签", "非标签", "下单", "未下单", "问卷.needs.q", "绑定", "关注", "退订",
                 "类型", "community", "tag", "x"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SEGMENT_WORDS), st.sampled_from(["=", "＝", "", "==", "=="]),
                          st.text(max_size=20)), max_size=5).map(lambda parts: " ".join(a + b + c for a, b, c in parts))
       | st.text(max_size=120))
def test_segment_parser_only_ever_raises_segment_error(spec: str) -> None:
    try:
        segment = segments.parse(spec)
    except segments.SegmentError:
        return
    assert segments.Segment.from_json(segment.to_json()) == segment


async def _broadcast_rows(hub: Hub) -> list[Broadcast]:
    async with hub.runtime.sessions() as session:
        return list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))


async def test_sql_in_segment_values_is_a_literal_value_never_sql(hub: Hub) -> None:
    place = await make_place(hub)
    await add_owner(hub, place, "a", window_open=True, tags=("有车",))
    await add_owner(hub, place, "b", window_open=True)
    before = len(await _broadcast_rows(hub))
    for spec in (
        "小区=x' OR '1'='1",
        f"小区={place.community} 标签=有车' OR 1=1 --",
        f"小区={place.community} 楼栋=1);DELETE FROM owners;--",
        f"小区={place.community} 问卷.needs'--.q=1",
        f"小区={place.community}' 标签=有车",
    ):
        reply = await say(hub, place.staff_openid, f"/broadcast {spec} | 周末义诊")
        # Refused as bad syntax or an unknown name: the quote is part of a value, never of SQL.
        assert reply.startswith(("目标写法有误", "无法发送")), (spec, reply)
    assert len(await _broadcast_rows(hub)) == before
    async with hub.runtime.sessions() as session:  # and nothing was deleted
        from storage.owners import Owner

        assert await session.scalar(select(func.count()).select_from(Owner).where(Owner.community_id == place.community_id)) == 2


async def test_a_second_command_smuggled_on_a_new_line_is_not_executed(hub: Hub) -> None:
    place = await make_place(hub)
    await add_owner(hub, place, "a", window_open=True)
    before = len(await _broadcast_rows(hub))
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 周末义诊\n/confirm")
    rows = await _broadcast_rows(hub)
    assert all(b.status == "draft" for b in rows[before:]), [(b.id, b.status) for b in rows[before:]]


async def test_a_forged_preview_button_from_a_non_member_is_refused(tg: TgHub) -> None:
    hub = tg.hub
    place = await make_place(hub)
    await add_owner(hub, place, "a", window_open=True)
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 周末义诊")
    draft = (await _broadcast_rows(hub))[-1]
    assert draft.status == "draft"
    press = callback_update(user_id=unique_int(), data=f"sc:/confirm {draft.id}", chat_id=STAFF_CHAT, message_id=1)
    resp = await tg.post(press)
    assert resp.status == 200
    answers = [c.params for c in tg.fake.calls_to("answerCallbackQuery")
               if c.params.get("callback_query_id") == press["callback_query"]["id"]]
    assert answers and answers[0].get("text", "").startswith(REFUSAL[:10])
    async with hub.runtime.sessions() as session:
        row = await session.get(Broadcast, draft.id)
        assert row is not None and row.status == "draft"


async def test_a_flood_of_commands_is_rate_limited_before_it_reaches_the_database(hub: Hub) -> None:
    attacker = f"o_cmdflood_{uuid.uuid4().hex[:8]}"
    replies = await asyncio.gather(*(hub.post(text_xml(attacker, f"/broadcast 关注=是 | 广告{i}")) for i in range(40)))
    texts = [r.get("Content", "") for _, r in replies]
    burst = hub.settings.flood_burst
    assert texts.count(TOO_FAST) >= 40 - burst - 2
    assert all(t in (REFUSAL, TOO_FAST) for t in texts)
    async with hub.runtime.sessions() as session:
        logged = await session.scalar(
            select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.user_id == attacker)
        )
    assert logged <= burst + 2
