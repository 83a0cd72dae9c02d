"""Surveys by dialog end to end: YAML loaded by the CLI, answered over WeChat with an interruption
and a server restart in the middle, then the answers in the database, the owner's tags and the export.

The restart runs on both backends: postgres_redis keeps the dialog in the real Redis under the same
prefix; on the embedded backend the second app is pointed at the first one's in-process store
(what a persistent Redis gives a real deployment).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import fakeredis
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from dialogs import survey as survey_dialog
from storage import surveys
from storage.surveys import ResponseStatus, SurveyResponse
from tests import subproc
from tests.conftest import Backend, Hub, start_hub
from tests.dialogs.conftest import chat, owner_row, uid

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "surveys" / "owner_needs.yaml"
BUTLER = str(Path(sys.executable).with_name("butler"))


def butler(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUTLER_DATABASE_URL": db_url}
    return subprocess.run([BUTLER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


async def abutler(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUTLER_DATABASE_URL": db_url}
    return await subproc.run([BUTLER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def load_copy(backend: Backend, tmp_path: Path) -> tuple[int, str]:
    """Load the shipped survey under a unique key/title, through `butler survey load`."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw["key"], raw["title"] = uid("needs_"), f"业主需求调研{uid()}"
    path = tmp_path / "survey.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    done = butler(backend.database_url, "survey", "load", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    survey_id = int(done.stdout.split("(id ")[1].split(",")[0])
    return survey_id, raw["title"]


async def test_full_survey_with_interruption_and_restart_then_export(hub: Hub, backend: Backend, tmp_path: Path) -> None:
    survey_id, title = load_copy(backend, tmp_path)
    me = chat(hub)
    reply = await me.say("我要做问卷")
    if "请选择" in reply:  # other open surveys share the database
        reply = await me.say(title)
    assert "常住几口人" in reply and "回复数字即可" in reply
    assert "哪种情况" in await me.say("3")
    assert "私家车" in await me.say("三口之家")  # words work as well as numbers
    assert "几辆车" in await me.say("有")
    # An off-topic question: answered from the catalog, then the pending question again.
    reply = await me.say("钟点工多少钱")
    assert "40 元/小时" in reply and "几辆车" in reply
    assert "60 岁以上的老人" in await me.say("1")

    # Restart the server in the middle: a new app on the same database and store.
    host = None
    if backend.name == "embedded":
        host = hub.runtime.kv.client.connection_pool.connection_kwargs["host"]
    await hub.client.close()
    second = await start_hub(hub.settings, hub.fake_wechat)
    try:
        if host is not None:
            second.runtime.kv.client = fakeredis.FakeAsyncRedis(host=host)
        me.hub = second
        assert "上学的孩子" in await me.say("没有")  # the elderly follow-up is skipped by its when:
        assert "哪个阶段" in await me.say("有")
        assert "感兴趣" in await me.say("2 3")
        assert "钟点工保洁的频率" in await me.say("1 7")
        assert "打几分" in await me.say("跳过")  # optional
        assert "建议" in await me.say("4")
        assert "谢谢您" in await me.say("希望多办些亲子活动")
    finally:
        await second.client.close()

    owner = await owner_row(second, me.openid)
    assert {"有车", "有孩子", "关注旅行", "关注家政"} <= owner.tag_names and "有老人" not in owner.tag_names
    async with second.runtime.sessions() as session:
        response = await session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id))
        assert response is not None and response.status == ResponseStatus.COMPLETED and response.channel == "wechat_self"
        assert response.values() == {
            "household_size": ["3人"], "household_type": ["三口之家"], "has_car": ["有"], "car_count": ["1"],
            "has_elderly": ["没有"], "has_children": ["有"], "children_stage": ["小学", "初中"],
            "interested_lines": ["旅行管家", "家政管家"], "satisfaction": ["4"], "suggestions": ["希望多办些亲子活动"],
        }
        assert owner.id in await surveys.owners_with_answer(session=session, survey_id=survey_id, key="has_car", value="有")
        stats = await survey_dialog.summary(session=session, survey_id=survey_id)
    assert stats["completed"] == 1 and stats["questions"]["satisfaction"]["average"] == 4.0
    assert stats["questions"]["interested_lines"]["counts"]["家政管家"] == 1

    done = (await abutler(backend.database_url, "survey", "export", str(survey_id), "--format", "csv", "-o", "out.csv", cwd=tmp_path))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["openid"] == me.openid and rows[0]["channel"] == "wechat_self"
    assert rows[0]["children_stage"] == "小学、初中" and rows[0]["completed_at"] and rows[0]["started_at"]
    done = (await abutler(backend.database_url, "survey", "export", str(survey_id), "--format", "xlsx", "-o", "out.xlsx", cwd=tmp_path))
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(tmp_path / "out.xlsx").active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["suggestions"] == "希望多办些亲子活动" and values["channel"] == "wechat_self"


async def test_cancel_keeps_answers_and_the_survey_resumes_later(hub: Hub, backend: Backend, tmp_path: Path) -> None:
    survey_id, title = load_copy(backend, tmp_path)
    me = chat(hub)
    reply = await me.say("我要做问卷")
    if "请选择" in reply:
        await me.say(title)
    await me.say("2")
    assert "已答的内容都保存了" in await me.say("取消")
    async with hub.runtime.sessions() as session:
        response = await session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id))
        assert response is not None and response.status == ResponseStatus.IN_PROGRESS
        assert response.values() == {"household_size": ["2人"]}
    reply = await me.say("问卷")
    if "请选择" in reply:
        reply = await me.say(title)
    assert "哪种情况" in reply  # resumes at the first unanswered question
    await me.say("取消")
    assert (await abutler(backend.database_url, "survey", "close", str(survey_id), cwd=tmp_path)).returncode == 0
    assert title not in await me.say("问卷")  # a closed survey is not offered any more
    listing = (await abutler(backend.database_url, "survey", "list", cwd=tmp_path)).stdout
    assert f"{survey_id}\t" in listing and "closed" in listing


async def test_invitation_and_staff_recording_on_behalf(hub: Hub, backend: Backend, tmp_path: Path) -> None:
    from storage.db import unit_of_work
    from tests.dialogs.conftest import drain, sent_texts

    survey_id, title = load_copy(backend, tmp_path)
    me = chat(hub)
    await me.say("你好")
    owner = await owner_row(hub, me.openid)
    async with unit_of_work(hub.runtime.sessions) as session:
        assert await survey_dialog.invite_to_survey(session=session, kv=hub.runtime.kv, owner_id=owner.id, survey_id=survey_id)
    await drain(hub)
    invite = sent_texts(hub, me.openid)[-1]
    assert title in invite and "常住几口人" in invite
    assert "哪种情况" in await me.say("4")  # the invitation armed the dialog

    # Staff record a door visit for another owner; validation is the chat's.
    other = chat(hub)
    await other.say("你好")
    neighbour = await owner_row(hub, other.openid)
    answers = {"household_size": "5人及以上", "household_type": "三代同堂", "has_car": "没有", "has_elderly": "有",
               "elderly_needs": ["体检", "陪聊"], "has_children": "没有", "interested_lines": "5", "satisfaction": 5}
    async with unit_of_work(hub.runtime.sessions) as session:
        response = await survey_dialog.record_survey_on_behalf(
            session=session, survey_id=survey_id, owner_id=neighbour.id, channel="door_visit", answers=answers,
        )
        assert response.status == ResponseStatus.COMPLETED
    async with hub.runtime.sessions() as session:
        stored = await session.get(SurveyResponse, response.id)
        assert stored is not None and stored.channel == "door_visit"
        assert stored.values()["elderly_needs"] == ["体检", "陪聊"] and stored.values()["interested_lines"] == ["养老管家"]
    assert {"有老人", "三代同堂", "关注养老"} <= (await owner_row(hub, other.openid)).tag_names
    async with unit_of_work(hub.runtime.sessions) as session:
        assert not await survey_dialog.invite_to_survey(session=session, kv=hub.runtime.kv, owner_id=neighbour.id, survey_id=survey_id)
        try:
            await survey_dialog.record_survey_on_behalf(
                session=session, survey_id=survey_id, owner_id=None, channel="phone_visit", answers={"household_size": "九"},
            )
        except ValueError as exc:
            assert "household_size" in str(exc)
        else:
            raise AssertionError("an invalid answer must be refused")


def test_loader_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: x\nquestions:\n  - key: a\n    type: single\n    text: hi\n    options: [1]\n"
                   "  - key: b\n    type: foo\n    text: t\n    when: {zz: 1}\n", encoding="utf-8")
    done = butler(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "survey", "load", str(bad), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    for words in ("title: required", "at least 2 options", "type must be one of", "'zz', which is not an earlier question"):
        assert words in done.stderr


def test_shipped_survey_is_valid() -> None:
    from dialogs.survey_spec import parse_spec

    spec = parse_spec(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))
    keys = {q.key for q in spec.questions}
    assert {"household_size", "has_car", "has_elderly", "has_children", "interested_lines"} <= keys
    assert set(spec.question("interested_lines").options) == {"旅行管家", "车管家", "房管家", "理财管家", "养老管家", "配送管家", "家政管家", "教育管家"}
    assert any(t.tag == "有车" for t in spec.tags)


async def test_a_survey_whose_definition_no_longer_parses_is_never_offered(hub: Hub) -> None:
    """One broken definition (e.g. edited in the database by hand) must not stop owners reaching
    the surveys that work: 参与调研 used to answer 系统有点忙 when it was the one open survey."""
    from storage.surveys import Survey

    owner_chat = chat(hub)
    await owner_chat.say("你好")
    owner = await owner_row(hub, owner_chat.openid)
    async with hub.runtime.sessions() as session:
        broken = Survey(key=f"broken{uid()}", title="坏问卷", definition={"questions": "not a list"}, is_open=True)
        session.add(broken)
        await session.commit()
        offered = {s.id for s in await survey_dialog.available(session=session, owner_id=owner.id)}
        assert broken.id not in offered
        broken.is_open = False  # leave the shared database as we found it
        await session.commit()
