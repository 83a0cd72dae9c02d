"""Survey reminders: once per half-finished response, only after a quiet day, never once the survey closed."""

from __future__ import annotations

from datetime import timedelta

from scheduler.jobs import run_job
from storage.base import utcnow
from storage.db import unit_of_work
from storage.owners import Owner
from storage.surveys import ResponseStatus, Survey, SurveyChannel, SurveyResponse
from tests.broadcasts.kit import cs_texts_to, uid
from tests.conftest import Hub
from tests.scheduler.kit import drain, job_ctx


async def _response(hub: Hub, survey: Survey, *, quiet_hours: float, status: str = ResponseStatus.IN_PROGRESS,
                    channel: str = SurveyChannel.WECHAT_SELF) -> str:
    openid = f"o-{uid()}"
    async with unit_of_work(hub.runtime.sessions) as session:
        owner = Owner(openid=openid, tags=[], last_message_at=utcnow() - timedelta(hours=quiet_hours))
        session.add(owner)
        await session.flush()
        session.add(SurveyResponse(survey_id=survey.id, owner_id=owner.id, status=status, channel=channel,
                                   updated_at=utcnow() - timedelta(hours=quiet_hours), answers=[]))
    return openid


async def test_half_finished_surveys_get_one_reminder_and_closed_ones_none(hub: Hub) -> None:
    async with unit_of_work(hub.runtime.sessions) as session:
        open_survey = Survey(key=f"s{uid()}", title="家政需求调查", definition={"questions": []}, allow_repeat=False, is_open=True)
        closed = Survey(key=f"s{uid()}", title="已结束的调查", definition={"questions": []}, allow_repeat=False, is_open=False)
        session.add_all([open_survey, closed])
    stalled = await _response(hub, open_survey, quiet_hours=26)
    busy = await _response(hub, open_survey, quiet_hours=2)
    finished = await _response(hub, open_survey, quiet_hours=30, status=ResponseStatus.COMPLETED)
    offline = await _response(hub, open_survey, quiet_hours=30, channel=SurveyChannel.DOOR_VISIT)
    too_late = await _response(hub, closed, quiet_hours=26)

    ctx = job_ctx(hub)
    assert await run_job("survey_reminders", ctx) >= 1
    assert not await run_job("survey_reminders", ctx)
    await drain(hub)
    [reminder] = cs_texts_to(hub, stalled)
    assert "【家政需求调查】还没聊完" in reminder and "回复“问卷”" in reminder
    for openid in (busy, finished, offline, too_late):
        assert cs_texts_to(hub, openid) == []
    # A day later, still nothing new for the same response.
    later = job_ctx(hub, utcnow() + timedelta(days=1))
    await run_job("survey_reminders", later)
    await drain(hub)
    assert len(cs_texts_to(hub, stalled)) == 1
