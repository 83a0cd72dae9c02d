"""Surveys (调研表): definitions, responses with their channel, and one row per answer value.

Answers are rows of (survey_id, question_key, value) so broadcasts can segment by them; a
multiple-choice answer is several rows. Every answer is written the moment it is given.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Timestamped, UtcDateTime, utcnow


class SurveyChannel(StrEnum):
    """How an answer was collected (the plan's channels; owners never fill in forms)."""

    WECHAT_SELF = "wechat_self"
    DOOR_VISIT = "door_visit"
    PHONE_VISIT = "phone_visit"
    RECEPTION = "reception"
    SYMPOSIUM = "symposium"
    PUBLIC_EVENT = "public_event"
    EXPRESS_DESK = "express_desk"
    WECHAT_FRIEND = "wechat_friend"


class ResponseStatus(StrEnum):
    """A response is kept while half finished, so it can be resumed."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class Survey(Timestamped, Base):
    """A survey; `definition` is the validated YAML (questions, when-clauses, tag rules)."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    allow_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)


class SurveyResponse(Timestamped, Base):
    """One owner's (or one staff-recorded) pass through a survey."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    # Set when staff filed the answers for a household (door visit …), with or without a follower:
    # owners verified there later find them (storage/households.py).
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default=SurveyChannel.WECHAT_SELF)
    status: Mapped[str] = mapped_column(String(16), default=ResponseStatus.IN_PROGRESS, index=True)
    recorded_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answers: Mapped[list[SurveyAnswer]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SurveyAnswer.id"
    )

    def values(self) -> dict[str, list[str]]:
        """Answers by question key (every key maps to a list; single answers have one value)."""
        out: dict[str, list[str]] = {}
        for a in self.answers:
            out.setdefault(a.question_key, []).append(a.value)
        return out


class SurveyAnswer(Timestamped, Base):
    """One answer value; survey_id is repeated here so segment queries need no join."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    question_key: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[str] = mapped_column(String(200), index=True)


async def upsert_survey(
    *, session: AsyncSession, key: str, title: str, definition: dict[str, Any], allow_repeat: bool
) -> Survey:
    """Create a survey or replace the definition of the one with the same key."""
    survey = await session.scalar(select(Survey).where(Survey.key == key))
    if survey is None:
        survey = Survey(key=key, title=title, definition=definition, allow_repeat=allow_repeat, is_open=True)
        session.add(survey)
    else:
        survey.title, survey.definition, survey.allow_repeat = title, definition, allow_repeat
    await session.flush()
    return survey


async def get(*, session: AsyncSession, survey_id: int) -> Survey | None:
    """A survey by id."""
    return await session.get(Survey, survey_id)


async def list_open(*, session: AsyncSession) -> list[Survey]:
    """Surveys owners may answer now."""
    return list(await session.scalars(select(Survey).where(Survey.is_open.is_(True)).order_by(Survey.id)))


async def get_response(*, session: AsyncSession, response_id: int) -> SurveyResponse | None:
    """A response by id."""
    return await session.get(SurveyResponse, response_id)


async def latest_response(*, session: AsyncSession, survey_id: int, owner_id: int) -> SurveyResponse | None:
    """The owner's newest response to a survey, finished or not.

    A completed response staff filed for the owner's household counts as theirs once they are
    verified there, so an owner whose family answered at the door is not asked again.
    """
    from storage.households import verified_household_id
    from storage.owners import Owner

    household = select(verified_household_id()).where(Owner.id == owner_id).scalar_subquery()
    return await session.scalar(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id,
               or_(SurveyResponse.owner_id == owner_id,
                   and_(SurveyResponse.owner_id.is_(None), SurveyResponse.household_id == household,
                        SurveyResponse.status == ResponseStatus.COMPLETED)))
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    )


async def start_response(
    *,
    session: AsyncSession,
    survey_id: int,
    owner_id: int | None,
    channel: str = SurveyChannel.WECHAT_SELF,
    staff_id: int | None = None,
    household_id: int | None = None,
) -> SurveyResponse:
    """Begin a response (kept even if the owner stops half way)."""
    response = SurveyResponse(
        survey_id=survey_id, owner_id=owner_id, channel=SurveyChannel(channel),
        recorded_by_staff_id=staff_id, household_id=household_id, answers=[],
    )
    session.add(response)
    await session.flush()
    return response


async def save_answer(*, session: AsyncSession, response: SurveyResponse, key: str, values: list[str]) -> None:
    """Store (or replace) the answer to one question right away."""
    await session.execute(
        delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id, SurveyAnswer.question_key == key)
    )
    for value in values:
        session.add(SurveyAnswer(response_id=response.id, survey_id=response.survey_id, question_key=key, value=value))
    response.updated_at = utcnow()
    await session.flush()
    await session.refresh(response, ["answers"])


async def complete(*, session: AsyncSession, response: SurveyResponse) -> None:
    """Mark a response finished."""
    response.status = ResponseStatus.COMPLETED
    response.completed_at = response.updated_at = utcnow()


async def responses(*, session: AsyncSession, survey_id: int) -> list[SurveyResponse]:
    """Every response to a survey, oldest first."""
    stmt = select(SurveyResponse).where(SurveyResponse.survey_id == survey_id).order_by(SurveyResponse.id)
    return list(await session.scalars(stmt))


async def value_counts(*, session: AsyncSession, survey_id: int) -> dict[str, dict[str, int]]:
    """How many responses gave each value, per question."""
    stmt = (
        select(SurveyAnswer.question_key, SurveyAnswer.value, func.count())
        .where(SurveyAnswer.survey_id == survey_id)
        .group_by(SurveyAnswer.question_key, SurveyAnswer.value)
    )
    out: dict[str, dict[str, int]] = {}
    for key, value, count in await session.execute(stmt):
        out.setdefault(key, {})[value] = int(count)
    return out


async def owners_with_answer(*, session: AsyncSession, survey_id: int, key: str, value: str) -> list[int]:
    """Owner ids whose answer to a question includes a value (for targeted broadcasts)."""
    stmt = (
        select(SurveyResponse.owner_id)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(
            SurveyAnswer.survey_id == survey_id,
            SurveyAnswer.question_key == key,
            SurveyAnswer.value == value,
            SurveyResponse.owner_id.is_not(None),
        )
        .distinct()
    )
    return [i for i in await session.scalars(stmt) if i is not None]
