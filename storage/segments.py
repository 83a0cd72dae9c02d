"""Broadcast segments: a small readable syntax (小区=翠苑 楼栋=3,5 标签=有车) compiled to set-based SQL.

A segment is parsed once into a frozen `Segment`, stored as JSON on the broadcast, and compiled
into WHERE clauses over `owners` (EXISTS subqueries for tags, orders and survey answers), so a
300k-owner table is filtered by the database, never by a Python loop over owners.

Grammar (conditions separated by spaces, all must hold; commas inside one condition mean "any of"):
    小区=翠苑,锦园        楼栋=3,5        单元=1,2
    标签=有车,有狗        非标签=有车      (a second 标签= condition is ANDed with the first)
    下单=钟点工/90天      未下单=钟点工/90天    下单=任意/30天    未下单=任意
    问卷.SURVEY.QUESTION=ANSWER[,ANSWER]      (answers the owner gave in a survey)
    绑定=是|否     关注=是|否     退订=是|否
    类型=通知|营销  (not a condition: the broadcast kind; default 营销)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, false, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage import households
from storage.catalog import Service
from storage.communities import Community
from storage.orders import Order, OrderStatus
from storage.owners import BindingStatus, Owner


class SegmentProblem(StrEnum):
    """Why segment text cannot be understood (bot/wording/staff.py words each for staff)."""

    NO_VALUE = "no_value"  # a key with nothing after =
    NOT_A_FLAG = "not_a_flag"  # a yes/no key given something else
    BAD_DAYS = "bad_days"  # 下单=服务/N天 with a bad N
    NO_SERVICE = "no_service"  # 下单= with no service
    NOT_KEY_VALUE = "not_key_value"  # a token without =
    BAD_SURVEY_KEY = "bad_survey_key"  # 问卷.<code>.<question> incomplete
    UNKNOWN_KEY = "unknown_key"
    REPEATED = "repeated"  # community/building/unit given twice
    BAD_KIND = "bad_kind"  # 类型 neither 通知 nor 营销


class SegmentError(ValueError):
    """The segment text cannot be understood: the problem, the key and the raw text it was found in."""

    def __init__(self, problem: SegmentProblem, *, key: str = "", raw: str = "") -> None:
        super().__init__(problem.value, key, raw)
        self.problem, self.key, self.raw = problem, key, raw


_YES = {"是", "yes", "y", "true", "1", "有"}
_NO = {"否", "no", "n", "false", "0", "无", "没有"}
_ANY_SERVICE = {"任意", "全部", "*", "any"}

# Key aliases: Chinese as staff type it, English for the Telegram crowd.
_KEYS = {
    "小区": "community", "community": "community",
    "楼栋": "building", "楼": "building", "building": "building",
    "单元": "unit", "unit": "unit",
    "标签": "tag", "tag": "tag",
    "非标签": "not_tag", "!标签": "not_tag", "not_tag": "not_tag",
    "下单": "ordered", "ordered": "ordered",
    "未下单": "not_ordered", "not_ordered": "not_ordered",
    "绑定": "bound", "bound": "bound",
    "关注": "following", "following": "following",
    "退订": "opted_out", "opted_out": "opted_out", "optout": "opted_out",
    "类型": "kind", "kind": "kind",
}
KINDS = {"通知": "notice", "notice": "notice", "营销": "marketing", "marketing": "marketing"}
_DAYS = re.compile(r"^(\d{1,4})\s*(?:天|d|days?)?$")


@dataclass(frozen=True)
class OrderCondition:
    """Ordered (or never ordered) a service, optionally within the last N days."""

    service: str | None  # None: any service
    days: int | None
    negate: bool = False


@dataclass(frozen=True)
class SurveyCondition:
    """Gave one of these answers to a survey question."""

    survey: str
    question: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    """Who a broadcast targets; empty means every owner the sender may reach."""

    communities: tuple[str, ...] = ()
    buildings: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    tags: tuple[tuple[str, ...], ...] = ()  # AND of OR-groups
    not_tags: tuple[str, ...] = ()
    orders: tuple[OrderCondition, ...] = ()
    surveys: tuple[SurveyCondition, ...] = ()
    bound: bool | None = None
    following: bool | None = None
    opted_out: bool | None = None
    kind: str = "marketing"
    text: str = field(default="", compare=False)  # the source, for previews and lists

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (stored on the broadcast, re-evaluated at send time)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        """Inverse of to_json."""
        return cls(
            communities=tuple(data.get("communities", ())),
            buildings=tuple(data.get("buildings", ())),
            units=tuple(data.get("units", ())),
            tags=tuple(tuple(g) for g in data.get("tags", ())),
            not_tags=tuple(data.get("not_tags", ())),
            orders=tuple(OrderCondition(**o) for o in data.get("orders", ())),
            surveys=tuple(
                SurveyCondition(s["survey"], s["question"], tuple(s["answers"]))
                for s in data.get("surveys", ())
            ),
            bound=data.get("bound"),
            following=data.get("following"),
            opted_out=data.get("opted_out"),
            kind=data.get("kind", "marketing"),
            text=data.get("text", ""),
        )

    def describe(self) -> str:
        """The segment as staff wrote it (or 全部业主)."""
        return self.text or "全部业主"


def _values(raw: str) -> tuple[str, ...]:
    parts = re.split(r"[,，、]", raw)
    values = tuple(p.strip() for p in parts if p.strip())
    if not values:
        raise SegmentError(SegmentProblem.NO_VALUE, raw=raw)
    return values


def _flag(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise SegmentError(SegmentProblem.NOT_A_FLAG, key=key, raw=raw)


def _order_condition(raw: str, *, negate: bool) -> OrderCondition:
    service, _, days_text = raw.partition("/")
    service = service.strip()
    days = None
    if days_text.strip():
        m = _DAYS.match(days_text.strip())
        if not m or int(m.group(1)) == 0:
            raise SegmentError(SegmentProblem.BAD_DAYS, raw=raw)
        days = int(m.group(1))
    if not service and not negate:
        raise SegmentError(SegmentProblem.NO_SERVICE, raw=raw)
    return OrderCondition(
        service=None if (not service or service in _ANY_SERVICE) else service, days=days, negate=negate
    )


def parse(spec: str) -> Segment:
    """Parse segment text; raises SegmentError saying what staff should change."""
    values: dict[str, Any] = {"tags": [], "not_tags": [], "orders": [], "surveys": []}
    for token in spec.split():
        key, sep, raw = token.partition("=")
        if not sep:
            if token in ("未下单", "not_ordered"):
                values["orders"].append(OrderCondition(None, None, negate=True))
                continue
            raise SegmentError(SegmentProblem.NOT_KEY_VALUE, raw=token)
        if key.startswith(("问卷.", "survey.")):
            parts = key.split(".", 2)
            if len(parts) != 3 or not parts[1] or not parts[2]:
                raise SegmentError(SegmentProblem.BAD_SURVEY_KEY, key=key, raw=raw)
            values["surveys"].append(SurveyCondition(parts[1], parts[2], _values(raw)))
            continue
        name = _KEYS.get(key.strip().lower())
        if name is None:
            raise SegmentError(SegmentProblem.UNKNOWN_KEY, key=key, raw=raw)
        if name in ("community", "building", "unit"):
            if values.get(name):
                raise SegmentError(SegmentProblem.REPEATED, key=key, raw=raw)
            values[name] = _values(raw)
        elif name == "tag":
            values["tags"].append(_values(raw))
        elif name == "not_tag":
            values["not_tags"].extend(_values(raw))
        elif name in ("ordered", "not_ordered"):
            values["orders"].append(_order_condition(raw, negate=name == "not_ordered"))
        elif name == "kind":
            kind = KINDS.get(raw.strip().lower())
            if kind is None:
                raise SegmentError(SegmentProblem.BAD_KIND, key=key, raw=raw)
            values["kind"] = kind
        else:
            values[name] = _flag(key, raw)
    return Segment(
        communities=tuple(values.get("community", ())),
        buildings=tuple(_strip_suffix(b, "号楼", "栋", "号") for b in values.get("building", ())),
        units=tuple(_strip_suffix(u, "单元") for u in values.get("unit", ())),
        tags=tuple(values["tags"]),
        not_tags=tuple(values["not_tags"]),
        orders=tuple(values["orders"]),
        surveys=tuple(values["surveys"]),
        bound=values.get("bound"),
        following=values.get("following"),
        opted_out=values.get("opted_out"),
        kind=values.get("kind", "marketing"),
        text=" ".join(spec.split()),
    )


def _strip_suffix(value: str, *suffixes: str) -> str:
    for suffix in suffixes:
        if value.endswith(suffix) and len(value) > len(suffix):
            return value[: -len(suffix)]
    return value


@dataclass(frozen=True)
class Scope:
    """The community ids a sender may reach; None means every community (admins)."""

    community_ids: frozenset[int] | None


async def resolve(
    segment: Segment, *, session: AsyncSession, scope: Scope
) -> tuple[list[int] | None, list[str]]:
    """Community ids the segment reaches within scope, and problems to show (unknown names, out of scope)."""
    problems: list[str] = []
    if segment.communities:
        rows = (
            await session.execute(
                select(Community.id, Community.name).where(Community.name.in_(segment.communities))
            )
        ).all()
        found = {name: cid for cid, name in rows}
        problems += [f"没有名为「{n}」的小区" for n in segment.communities if n not in found]
        if scope.community_ids is not None:
            problems += [
                f"您没有「{n}」的权限" for n, cid in found.items() if cid not in scope.community_ids
            ]
        ids: list[int] | None = sorted(found.values())
    else:
        ids = None if scope.community_ids is None else sorted(scope.community_ids)
    services = {o.service for o in segment.orders if o.service}
    if services:
        known = set(await session.scalars(select(Service.name).where(Service.name.in_(services))))
        problems += [f"没有名为「{s}」的服务" for s in sorted(services - known)]
    for cond in segment.surveys:
        problem = await _survey_problem(session, cond)
        if problem:
            problems.append(problem)
    return ids, problems


def where_clauses(
    segment: Segment, *, community_ids: list[int] | None, now: datetime
) -> list[ColumnElement[bool]]:
    """WHERE clauses over Owner that select exactly the segment (set-based; indexes do the work)."""
    clauses: list[ColumnElement[bool]] = []
    if community_ids is not None:
        clauses.append(Owner.community_id.in_(community_ids) if community_ids else false())
    if segment.buildings:
        clauses.append(Owner.building.in_(segment.buildings))
    if segment.units:
        clauses.append(Owner.unit.in_(segment.units))
    if segment.buildings or segment.units:
        # A building or unit is a place: only owners verified to live there hear about it. A claim
        # staff have not checked, or a binding dialog left half-way, names a place nobody checked.
        clauses.append(Owner.binding_status == BindingStatus.VERIFIED)
    # A tag is the owner's own (survey-made) or on the household they are verified at (staff- or
    # survey-made, storage/households.py).
    for group in segment.tags:
        clauses.append(households.has_tag(group))
    if segment.not_tags:
        clauses.append(not_(households.has_tag(segment.not_tags)))
    for cond in segment.orders:
        clauses.append(_order_clause(cond, now))
    for survey_cond in segment.surveys:
        clauses.append(_survey_clause(survey_cond))
    if segment.bound is not None:
        is_bound = Owner.binding_status != BindingStatus.UNBOUND
        clauses.append(is_bound if segment.bound else not_(is_bound))
    if segment.following is not None:
        clauses.append(Owner.following.is_(segment.following))
    if segment.opted_out is not None:
        clauses.append(Owner.push_opt_out.is_(segment.opted_out))
    return clauses or [true()]


def _order_clause(cond: OrderCondition, now: datetime) -> ColumnElement[bool]:
    conditions = [Order.owner_id == Owner.id, Order.status != OrderStatus.CANCELLED]
    if cond.service is not None:
        conditions.append(Order.service_id == select(Service.id).where(Service.name == cond.service).scalar_subquery())
    if cond.days is not None:
        conditions.append(Order.created_at >= now - timedelta(days=cond.days))
    clause = exists().where(and_(*conditions))
    return not_(clause) if cond.negate else clause


# Survey answers are rows of (survey_id, question_key, value) kept by the survey feature.
COMPLETED = "*completed*"  # pseudo-question: the owner finished the survey (used to skip them)


def _survey_id(key: str) -> ScalarSelect[int]:
    from storage.surveys import Survey

    ref = Survey.id == int(key) if key.isdigit() else Survey.key == key
    return select(Survey.id).where(ref).scalar_subquery()


def _survey_clause(cond: SurveyCondition) -> ColumnElement[bool]:
    from storage.surveys import ResponseStatus, SurveyAnswer, SurveyResponse

    # The owner's own responses, or those staff filed for the household they are verified at.
    whose = (SurveyResponse.owner_id == Owner.id,
             SurveyResponse.household_id == households.verified_household_id())
    if cond.question == COMPLETED:
        return not_(or_(*(exists().where(
            who, SurveyResponse.survey_id == _survey_id(cond.survey),
            SurveyResponse.status == ResponseStatus.COMPLETED,
        ) for who in whose)))
    return or_(*(exists().where(
        who,
        SurveyAnswer.response_id == SurveyResponse.id,
        SurveyAnswer.survey_id == _survey_id(cond.survey),
        SurveyAnswer.question_key == cond.question,
        SurveyAnswer.value.in_(cond.answers),
    ) for who in whose))


async def _survey_problem(session: AsyncSession, cond: SurveyCondition) -> str | None:
    from storage.surveys import Survey

    ref = Survey.id == int(cond.survey) if cond.survey.isdigit() else Survey.key == cond.survey
    survey = await session.scalar(select(Survey).where(ref))
    if survey is None:
        return f"没有问卷「{cond.survey}」"
    if cond.question == COMPLETED:
        return None
    keys = {q.get("key") for q in (survey.definition or {}).get("questions", []) if isinstance(q, dict)}
    if keys and cond.question not in keys:
        return f"问卷「{cond.survey}」里没有题目「{cond.question}」"
    return None


def any_filters(segment: Segment) -> bool:
    """True when the segment narrows the audience at all."""
    return bool(
        segment.communities or segment.buildings or segment.units or segment.tags or segment.not_tags
        or segment.orders or segment.surveys or segment.bound is not None
        or segment.following is not None or segment.opted_out is not None
    )
