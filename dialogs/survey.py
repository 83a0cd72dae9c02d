"""Surveys by dialog: one question at a time, each answer stored the moment it is given.

Started three ways: the owner asks (`start_survey`), staff invite (`invite_to_survey`), or staff
record a door visit / phone call / reception talk on the owner's behalf (`record_survey_on_behalf`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import choices, texts
from dialogs import state as dialog_state
from dialogs.form import Env, Finish, Form, Invalid
from dialogs.state import DialogState, Flow
from dialogs.survey_spec import SpecError, SurveySpec, matches, parse_spec, prompt, validate_answer
from storage import households, outbox, owners, surveys
from storage.base import aware
from storage.events import OwnerNotice
from storage.kv import KeyValueStore
from storage.surveys import ResponseStatus, Survey, SurveyChannel, SurveyResponse

log = logging.getLogger(__name__)

PICK = "pick"
SKIPPED = "__skipped__"


def spec_of(survey: Survey) -> SurveySpec:
    """The parsed definition of a stored survey."""
    return parse_spec(survey.definition)


def pending_question(spec: SurveySpec, answers: dict[str, list[str]], skipped: list[str]) -> str | None:
    """The first question that applies and has no answer yet."""
    for q in spec.questions:
        if q.key in answers or q.key in skipped:
            continue
        if matches(q.when, answers):
            return q.key
    return None


async def apply_tags(*, session: AsyncSession, spec: SurveySpec, owner_id: int | None, answers: dict[str, list[str]]) -> list[str]:
    """Set the owner tags whose rules the answers satisfy; returns the tags newly added."""
    if owner_id is None:
        return []
    owner = await owners.get(session=session, owner_id=owner_id)
    if owner is None:
        return []
    return [rule.tag for rule in spec.tags
            if matches(rule.when, answers) and await owners.add_tag(session=session, owner=owner, tag=rule.tag)]


async def available(*, session: AsyncSession, owner_id: int) -> list[Survey]:
    """Open surveys this owner may still answer (one whose stored definition no longer parses is
    left out and logged, so it cannot stop owners from reaching the surveys that work)."""
    out = []
    for survey in await surveys.list_open(session=session):
        try:
            spec_of(survey)
        except SpecError as exc:
            log.error("survey %s (%s) has an invalid definition, not offered: %s", survey.id, survey.key, exc)
            continue
        last = await surveys.latest_response(session=session, survey_id=survey.id, owner_id=owner_id)
        if last is None or last.status != ResponseStatus.COMPLETED or survey.allow_repeat:
            out.append(survey)
    return out


async def _response_for(session: AsyncSession, survey: Survey, owner_id: int) -> SurveyResponse:
    """Resume the owner's unfinished response, or begin a new one."""
    last = await surveys.latest_response(session=session, survey_id=survey.id, owner_id=owner_id)
    if last is not None and last.status == ResponseStatus.IN_PROGRESS:
        return last
    return await surveys.start_response(session=session, survey_id=survey.id, owner_id=owner_id)


class SurveyForm(Form):
    """Pick a survey (if several), then its questions in order, skipping those whose `when` fails."""

    flow = Flow.SURVEY

    async def _load(self, state: DialogState, env: Env) -> tuple[SurveySpec, SurveyResponse]:
        response = await surveys.get_response(session=env.session, response_id=state.data["response_id"])
        survey = await surveys.get(session=env.session, survey_id=state.data["survey_id"])
        assert response is not None and survey is not None
        return spec_of(survey), response

    async def next_step(self, state: DialogState, env: Env) -> str | None:
        if "survey_id" not in state.data:
            return PICK
        spec, response = await self._load(state, env)
        key = pending_question(spec, response.values(), state.data.get(SKIPPED, []))
        # Remembered so the engine knows any text answers it (no interruption check there).
        state.data["free_text_step"] = key if key and spec.question(key).type == "text" else ""
        return key

    async def prompt(self, state: DialogState, env: Env) -> str:
        if state.step == PICK:
            titles = [s.title for s in await self._options(state, env)]
            return f"{texts.SURVEY_PICK}\n{choices.numbered(titles)}"
        spec, _ = await self._load(state, env)
        index = next(i for i, q in enumerate(spec.questions) if q.key == state.step)
        return prompt(spec.questions[index], index + 1, len(spec.questions))

    async def _options(self, state: DialogState, env: Env) -> list[Survey]:
        found = [await surveys.get(session=env.session, survey_id=i) for i in state.data.get("options", [])]
        return [s for s in found if s is not None]

    async def accept(self, state: DialogState, text: str, env: Env) -> Any:
        if state.step == PICK:
            options = await self._options(state, env)
            title = choices.pick(text, [s.title for s in options])
            if title is None:
                return Invalid(texts.SURVEY_BAD_CHOICE)
            survey = next(s for s in options if s.title == title)
            response = await _response_for(env.session, survey, env.owner.id)
            state.data.update(survey_id=survey.id, response_id=response.id)
            return survey.id
        spec, response = await self._load(state, env)
        question = spec.question(state.step)
        if not question.required and choices.is_skip(text):
            state.data.setdefault(SKIPPED, []).append(question.key)
            return "skip"
        values = validate_answer(question, text)
        if isinstance(values, Invalid):
            return values
        await surveys.save_answer(session=env.session, response=response, key=question.key, values=values)
        return values

    def takes_free_text(self, state: DialogState) -> bool:
        return state.data.get("free_text_step") == state.step

    async def finish(self, state: DialogState, env: Env) -> Finish:
        spec, response = await self._load(state, env)
        await surveys.complete(session=env.session, response=response)
        await apply_tags(session=env.session, spec=spec, owner_id=response.owner_id, answers=response.values())
        return Finish(texts.SURVEY_DONE)

    async def on_cancel(self, state: DialogState, env: Env) -> str:
        return texts.SURVEY_PAUSED if "response_id" in state.data else texts.CANCELLED


async def begin(env: Env, survey: Survey) -> DialogState:
    """A dialog on one survey, resuming the owner's unfinished response if there is one."""
    response = await _response_for(env.session, survey, env.owner.id)
    return DialogState(flow=Flow.SURVEY, data={"survey_id": survey.id, "response_id": response.id})


async def invite_to_survey(*, session: AsyncSession, kv: KeyValueStore, owner_id: int, survey_id: int,
                           ttl_seconds: int = 24 * 3600) -> bool:
    """Staff invitation: message the owner with the first question and arm the dialog.

    Returns False (and does nothing) if the survey is closed, the owner unknown or not following,
    or they already answered a survey that does not allow repeats.
    """
    from dialogs import engine  # engine imports every form; this module is one of them

    survey = await surveys.get(session=session, survey_id=survey_id)
    owner = await owners.get(session=session, owner_id=owner_id)
    if survey is None or not survey.is_open or owner is None or not owner.following:
        return False
    if survey.id not in {s.id for s in await available(session=session, owner_id=owner.id)}:
        return False
    env = offline_env(session, kv, owner, ttl_seconds)
    state = await begin(env, survey)
    interrupted = await dialog_state.load(kv, owner.openid, session=session)
    if interrupted is not None and interrupted.data.get("survey_id") != survey.id:
        state.parent = interrupted  # what the owner was doing resumes after the survey
    spec = spec_of(survey)
    intro = texts.SURVEY_INVITE.format(title=survey.title, intro=spec.intro)
    text = await engine.start(state, env, intro=intro)
    outbox.emit(session, OwnerNotice(openid=owner.openid, text=text))
    return True


def offline_env(session: AsyncSession, kv: KeyValueStore, owner: owners.Owner, ttl_seconds: int) -> Env:
    """An Env for starting a dialog from staff or the scheduler, with no inbound message."""
    from zoneinfo import ZoneInfo

    from dialogs.context import HubContext
    from dialogs.guard import ContentGuard

    ctx = HubContext(session=session, kv=kv, guard=ContentGuard(()), tz=ZoneInfo("Asia/Shanghai"),
                     dialog_ttl_seconds=ttl_seconds)
    return Env(ctx=ctx, owner=owner)


# What staff file for one question before validation: text, a number, or several choices.
RawAnswer = str | int | float | list[str] | None


async def record_survey_on_behalf(
    *,
    session: AsyncSession,
    survey_id: int,
    owner_id: int | None,
    channel: str,
    answers: Mapping[str, RawAnswer],
    staff_id: int | None = None,
    household_id: int | None = None,
) -> SurveyResponse:
    """Staff file a survey taken at a door visit, call, reception, symposium or event.

    With `household_id` (and no owner) the answers are filed against a roster household that may
    have no WeChat follower; its tag rules tag the household, and owners verified there later
    inherit both (storage/households.py).

    `answers` maps question keys to what the owner said (text, a number, or a list for multiple
    choice); each is validated like a chat answer. Raises ValueError naming the first problem.
    """
    survey = await surveys.get(session=session, survey_id=survey_id)
    if survey is None:
        raise ValueError(f"no survey #{survey_id}")
    try:
        SurveyChannel(channel)
    except ValueError as exc:
        raise ValueError(f"unknown channel {channel!r} (one of {', '.join(c.value for c in SurveyChannel)})") from exc
    spec = spec_of(survey)
    unknown = set(answers) - {q.key for q in spec.questions}
    if unknown:
        raise ValueError(f"unknown question {sorted(unknown)[0]!r}")
    given: dict[str, list[str]] = {}
    for q in spec.questions:
        if not matches(q.when, given):
            continue
        raw = answers.get(q.key)
        if raw is None or raw == "" or raw == []:
            if q.required:
                raise ValueError(f"question {q.key!r} is required")
            continue
        text = " ".join(str(v) for v in raw) if isinstance(raw, list) else str(raw)
        values = validate_answer(q, text)
        if isinstance(values, Invalid):
            raise ValueError(f"{q.key}: {values.reason}")
        given[q.key] = values
    response = await surveys.start_response(
        session=session, survey_id=survey.id, owner_id=owner_id, channel=channel, staff_id=staff_id,
        household_id=household_id,
    )
    for key, values in given.items():
        await surveys.save_answer(session=session, response=response, key=key, values=values)
    await surveys.complete(session=session, response=response)
    await apply_tags(session=session, spec=spec, owner_id=owner_id, answers=given)
    if owner_id is None and household_id is not None:
        household = await households.get(session=session, household_id=household_id)
        for rule in spec.tags:
            if household is not None and matches(rule.when, given):
                await households.add_tag(session=session, household=household, tag=rule.tag,
                                         source=households.TagSource.SURVEY, staff_id=staff_id)
    return response


async def summary(*, session: AsyncSession, survey_id: int) -> dict[str, Any]:
    """Staff summary: responses by status and channel, counts per option, averages of scales/numbers."""
    survey = await surveys.get(session=session, survey_id=survey_id)
    if survey is None:
        raise LookupError(f"no survey #{survey_id}")
    spec = spec_of(survey)
    rows = await surveys.responses(session=session, survey_id=survey_id)
    counts = await surveys.value_counts(session=session, survey_id=survey_id)
    questions: dict[str, Any] = {}
    for q in spec.questions:
        got = counts.get(q.key, {})
        entry: dict[str, Any] = {"text": q.text, "type": q.type, "answered": sum(got.values())}
        if q.choices:
            entry["counts"] = {opt: got.get(opt, 0) for opt in q.choices}
        if q.type in ("scale", "number") and got:
            total = sum(int(v) * n for v, n in got.items())
            entry["average"] = round(total / sum(got.values()), 2)
        questions[q.key] = entry
    by_channel: dict[str, int] = {}
    for r in rows:
        by_channel[r.channel] = by_channel.get(r.channel, 0) + 1
    return {
        "survey": survey.title,
        "responses": len(rows),
        "completed": sum(1 for r in rows if r.status == ResponseStatus.COMPLETED),
        "by_channel": by_channel,
        "questions": questions,
    }


def iso(at: Any) -> str:
    """A stored timestamp as ISO 8601 UTC ('' for none)."""
    if at is None:
        return ""
    return aware(at).isoformat(timespec="seconds")


FORM = SurveyForm()
