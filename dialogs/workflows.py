"""Owner side of work orders, complaints and urgent reports (issue 16; issue 13 item 6).

Urgent reports are recognised by a small explicit rule, not by the NLU alone: a misread intent
must never keep the 24-hour phone number from someone trapped in a lift, and the rule also runs
in the middle of a form. Complaints are filed against the property unless the owner names one of
their own orders (its 订单号); a complaint is never pinned to whatever order came last.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from dialogs import people, texts
from dialogs import workflow_texts as wt
from dialogs.followup import validate_rating
from dialogs.form import Env
from storage import communities, complaints, limits, workorders
from storage.base import aware
from storage.messages import InboundMessageLog
from storage.orders import Order
from storage.workorders import WorkOrder, WorkOrderKind, WorkOrderStatus

# Kind → pattern. Traditional forms are listed too: this runs on the owner's raw text.
_URGENT = (
    ("trapped", re.compile(r"被困|困住|困在|困人|被关在|关在电梯|卡在电梯|电梯里出不来|電梯裡出不來")),
    ("gas", re.compile(r"(煤[气氣]|燃[气氣]|天然[气氣]|液化[气氣]).{0,4}(泄漏|泄露|漏|味|臭)|漏[气氣]|闻到.{0,4}(煤|燃)[气氣]")),
    ("fire", re.compile(r"着火|著火|起火|失火|火[灾災]|冒烟|冒煙|浓烟|濃煙|烟雾|煙霧|烧起来|燒起來|火苗")),
    ("water", re.compile(r"淹了|被淹|水漫|漫水|水管[爆裂]|爆管|管子[爆裂]|跑水|到处是水|到處是水")),
)
# "没有人被困", "不是着火": a negation just before the words means it is not happening.
_NEGATION = re.compile(r"[没沒无無不未别別]")
_NEGATION_REACH = 3
# A repeat of the same emergency within this window reuses its work order instead of opening another.
_SAME_EMERGENCY = timedelta(minutes=30)


def urgent_kind(text: str) -> str | None:
    """trapped / gas / fire / water when the text reports one (not negated), else None."""
    for kind, pattern in _URGENT:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - _NEGATION_REACH):m.start()]
            if not _NEGATION.search(before):
                return kind
    return None


async def report_urgent(env: Env, kind: str) -> str:
    """The 24-hour phone first, what to do now, then the urgent work order staff must acknowledge."""
    owner = env.owner
    phone = await communities.hotline_for(session=env.session, community_id=owner.community_id, fallback=env.ctx.hotline)
    lines = [wt.URGENT_HOTLINE.format(phone=phone) if phone else wt.URGENT_NO_HOTLINE, wt.URGENT_SAFETY[kind]]
    recent = await env.session.scalar(
        select(WorkOrder).where(
            WorkOrder.owner_id == owner.id, WorkOrder.kind == WorkOrderKind.URGENT,
            WorkOrder.status == WorkOrderStatus.OPEN, WorkOrder.created_at >= env.ctx.clock() - _SAME_EMERGENCY,
        ).order_by(WorkOrder.id.desc()).limit(1)
    )
    household = await people.household(env.session, owner)
    if recent is None:
        recent = await workorders.open_reported(
            session=env.session, owner=owner, household=household, text=env.text,
            kind=WorkOrderKind.URGENT, sla=env.ctx.sla, say=wt.workorder_notice,
        )
    else:  # the owner is still waiting: their new words go to staff as another alert on the same order
        recent.text = f"{recent.text}\n{env.text}"[:2000]
        workorders.alert_staff(env.session, recent, wt.STAFF_URGENT_AGAIN.format(
            id=recent.id, n=recent.alerts + 1, household=household, text=env.text), urgent=True)
    lines.append(wt.URGENT_OPENED.format(id=recent.id))
    return "\n".join(lines)


# People in danger or damage spreading: reported to staff however many reports came before.
_URGENT_WORDS = ("困", "被关", "火", "烟", "煤气", "燃气", "漏水", "爆管", "水管爆", "淹", "触电", "漏电")


async def report_issue(env: Env) -> str:
    """A common-area problem: a work order, with the time staff have to acknowledge it (a few per hour)."""
    count, latest = await limits.reports_since(
        session=env.session, owner_id=env.owner.id, since=env.ctx.clock() - timedelta(hours=1)
    )
    urgent = any(word in env.text for word in _URGENT_WORDS)  # a safety report is never held back
    if count >= env.ctx.limits.max_reports_per_hour and latest is not None and not urgent:
        return texts.REPORT_LIMIT.format(count=count, id=latest)
    household = await people.household(env.session, env.owner)
    row = await workorders.open_reported(
        session=env.session, owner=env.owner, household=household, text=env.text,
        kind=WorkOrderKind.COMMON, sla=env.ctx.sla, say=wt.workorder_notice,
    )
    from dialogs import media  # media attaches to reports; reports never need media at import

    await media.remember_report(env, row.id)  # a photo sent next belongs to this report
    return wt.WORKORDER_OPENED.format(id=row.id, ack=wt.window(env.ctx.sla.common.ack))


_ORDER_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{6})(?![A-Za-z0-9])")
_VENTING = re.compile(r"怎么回事|怎么搞的|搞什么|什么态度|太差|垃圾|气死|受不了|像话|有没有人管")


def restate(text: str, *, limit: int = 40) -> str:
    """The owner's problem in their own words, without the venting around it."""
    clauses = [c for c in re.split(r"[，,。！!？?；;\s]+", text) if c]
    kept = [c for c in clauses if not _VENTING.search(c)] or clauses or [text.strip()]
    summary = "，".join(kept)
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


async def named_order(env: Env) -> Order | None:
    """One of the owner's own orders named in the text by its 订单号, if any."""
    codes = [m.upper() for m in _ORDER_CODE.findall(env.text)]
    if not codes:
        return None
    return await env.session.scalar(
        select(Order).where(Order.owner_id == env.owner.id, Order.code.in_(codes)).limit(1)
    )


async def file_complaint(env: Env, order: Order | None = None) -> str:
    """Apology, the problem restated, 投诉编号, time frames and the way to a person."""
    order = order or await named_order(env)
    household = await people.household(env.session, env.owner)
    about = ""
    if order is not None:
        about = f"订单 {order.code}（{order.service.name}{'，' + order.merchant.name if order.merchant else ''}）"
    complaint = await complaints.file(
        say=wt.complaint_notice,
        session=env.session, owner=env.owner, text=env.text, household=household,
        owner_label=people.label(env.owner), sla=env.ctx.sla, order_id=order.id if order else None,
        merchant_id=order.merchant_id if order else None, order_label=about,
    )
    summary = restate(env.text) + (wt.COMPLAINT_ABOUT_ORDER.format(code=order.code) if order else "")
    return wt.COMPLAINT_OPENED.format(
        summary=summary, id=complaint.id, ack=wt.window(env.ctx.sla.complaint.ack),
        resolve=wt.window(env.ctx.sla.complaint.done),
    )


_RATING_WINDOW = timedelta(days=3)
LOW_RATING = 2  # at or below: the fix was not good enough, and it becomes a complaint


async def rate_work_order(env: Env) -> str | None:
    """A 1–5 answer to the "please rate the fix" notice, if that notice is what the owner is answering.

    Only the first message after the work order was closed counts, so a later "3" picked from a
    menu is never read as a rating.
    """
    score = validate_rating(env.text)
    if not isinstance(score, int):
        return None
    now = env.ctx.clock()
    row = await env.session.scalar(
        select(WorkOrder).where(
            WorkOrder.owner_id == env.owner.id, WorkOrder.status == WorkOrderStatus.DONE,
            WorkOrder.rating.is_(None), WorkOrder.done_at >= now - _RATING_WINDOW,
        ).order_by(WorkOrder.done_at.desc()).limit(1)
    )
    if row is None or row.done_at is None:
        return None
    since = await env.session.scalar(
        select(func.count(InboundMessageLog.id)).where(
            InboundMessageLog.user_id == env.owner.openid, InboundMessageLog.created_at > aware(row.done_at))
    )
    if (since or 0) > 1:  # this message is logged already: more than one means it answers something else
        return None
    if not await workorders.rate(session=env.session, work_order_id=row.id, owner_id=env.owner.id, score=score):
        return None
    if score > LOW_RATING:
        return wt.WORKORDER_RATED.format(id=row.id)
    # A bad score is a complaint staff must handle (the plan's rule for 回访), with its own deadline.
    complaint = await complaints.file(
        say=wt.complaint_notice,
        session=env.session, owner=env.owner, text=wt.LOW_RATING_COMPLAINT.format(id=row.id, score=score),
        household=await people.household(env.session, env.owner), owner_label=people.label(env.owner),
        sla=env.ctx.sla,
    )
    return wt.WORKORDER_RATED_LOW.format(id=row.id, complaint=complaint.id, ack=wt.window(env.ctx.sla.complaint.ack))
