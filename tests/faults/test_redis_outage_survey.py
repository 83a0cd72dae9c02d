"""Redis killed and restarted in the middle of a survey: every answer given during the outage is
stored once, each owner is asked the right next question, and nothing needs repair afterwards.

Losses = answers an owner gave that are not in the database (or an owner asked the wrong next
question); duplicates = a question answered once but stored twice. Both must be zero.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import owners
from storage.surveys import ResponseStatus, SurveyAnswer, SurveyResponse
from tests.conftest import Backend, make_settings, start_hub
from tests.dialogs.conftest import OwnerChat, make_community, owner_row
from tests.dialogs.test_survey import load_copy
from tests.faults.services import PrivateRedis

# (what the owner types, a phrase the next question must contain), the shipped owner_needs survey.
SCRIPT = [
    ("3", "哪种情况"), ("三口之家", "私家车"), ("有", "几辆车"), ("1", "60 岁以上的老人"),
    ("没有", "上学的孩子"), ("有", "哪个阶段"), ("2 3", "感兴趣"), ("1 7", "钟点工保洁的频率"),
    ("跳过", "打几分"), ("4", "建议"), ("希望多办些亲子活动", "谢谢您"),  # texts.SURVEY_DONE
]
EXPECTED = {
    "household_size": ["3人"], "household_type": ["三口之家"], "has_car": ["有"], "car_count": ["1"],
    "has_elderly": ["没有"], "has_children": ["有"], "children_stage": ["小学", "初中"],
    "interested_lines": ["旅行管家", "家政管家"], "satisfaction": ["4"], "suggestions": ["希望多办些亲子活动"],
}
OWNERS = 5
CS = "/cgi-bin/message/custom/send"


async def test_survey_answers_given_while_redis_is_down_are_all_stored_once(
    postgres_url: str, fake_wechat: FakeWeChatAPI, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    backend = Backend("pg+private-redis", postgres_url, private_redis.url)
    survey_id, title = load_copy(backend, tmp_path)
    hub = await start_hub(make_settings(backend, fake_wechat), fake_wechat)
    chats = [OwnerChat(hub, f"o_rs_{uuid.uuid4().hex[:12]}") for _ in range(OWNERS)]
    wrong: list[tuple[str, str, str]] = []

    def sent_to(openid: str) -> list[str]:
        return [str(c.body.get("text", {}).get("content", "")) for c in fake_wechat.calls_to(CS)
                if c.body.get("touser") == openid]

    async def reply_to(me: OwnerChat, text: str) -> str:
        """The passive reply or, when handling went past the reply deadline (a reconnect to the
        restarted Redis on a loaded machine), the one the hub sends later by customer-service
        message: the owner is answered either way, and a reply that never comes is still wrong."""
        before = len(sent_to(me.openid))
        reply = await me.say(text)
        for _ in range(150):
            if reply or len(sent_to(me.openid)) > before:
                return reply or sent_to(me.openid)[-1]
            await asyncio.sleep(0.1)
        return reply

    async def answer(me: OwnerChat, steps: list[tuple[str, str]]) -> None:
        for text, expect in steps:
            reply = await reply_to(me, text)
            if expect not in reply:
                wrong.append((me.openid, text, reply))

    async def begin(me: OwnerChat) -> None:
        reply = await me.say("我要做问卷")
        if "请选择" in reply:  # other open surveys share the database
            reply = await me.say(title)
        assert "常住几口人" in reply, reply

    try:
        await asyncio.gather(*(begin(me) for me in chats))
        await asyncio.gather(*(answer(me, SCRIPT[:3]) for me in chats))
        private_redis.stop()  # SIGKILL, no persistence: the cache and every lock are gone
        await asyncio.gather(*(answer(me, SCRIPT[3:7]) for me in chats))
        health = await hub.client.get("/healthz")
        private_redis.start()  # back, empty
        await asyncio.gather(*(answer(me, SCRIPT[7:]) for me in chats))
    finally:
        await hub.client.close()

    assert health.status == 503  # the outage was real and visible
    assert not wrong, wrong[:3]  # every owner was asked the right next question throughout
    async with hub.runtime.sessions() as session:
        lost = duplicated = 0
        for me in chats:
            owner = await owners.get_by_openid(session=session, openid=me.openid)
            assert owner is not None
            response = await session.scalar(
                select(SurveyResponse).where(SurveyResponse.survey_id == survey_id, SurveyResponse.owner_id == owner.id)
            )
            assert response is not None and response.status == ResponseStatus.COMPLETED
            got = response.values()
            lost += sum(1 for key, values in EXPECTED.items() if sorted(got.get(key, [])) != sorted(values))
            rows = await session.scalar(
                select(func.count()).select_from(SurveyAnswer).where(SurveyAnswer.response_id == response.id)
            )
            duplicated += int(rows or 0) - sum(len(v) for v in EXPECTED.values())
    assert (lost, duplicated) == (0, 0)


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The shared test PostgreSQL database, or the session's SQLite file."""
    return str(request.getfixturevalue("postgres_url" if request.param == "postgres" else "sqlite_url"))


async def test_one_owners_messages_stay_in_order_while_redis_is_down(
    database_url: str, fake_wechat: FakeWeChatAPI, private_redis: PrivateRedis
) -> None:
    """The owner lock falls back to a PostgreSQL advisory lock (on SQLite: one writer): two answers
    sent at once are taken one after the other (building, then unit), not both as the building.

    On PostgreSQL this fails without the advisory lock. SQLite already serializes the two turns at
    their first write (the message log), so there it checks the durable state, not the lock."""
    hub = await start_hub(make_settings(Backend("private-redis", database_url, private_redis.url), fake_wechat), fake_wechat)
    try:
        community = await make_community(hub)
        for _ in range(3):  # three owners, each racing two answers
            me = OwnerChat(hub, f"o_lk_{uuid.uuid4().hex[:12]}")
            await me.say("绑定")
            await me.say(community)
            private_redis.stop()
            await asyncio.gather(me.say("3"), me.say("2"))
            owner = await owner_row(hub, me.openid)
            assert {owner.building, owner.unit} == {"3", "2"}
            assert "手机号" in await me.say("301")
            private_redis.start()
    finally:
        await hub.client.close()
