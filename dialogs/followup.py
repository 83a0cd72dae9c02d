"""Follow-up visit (回访) after a completed job: a 1–5 rating, then an optional comment.

Ratings feed the merchant's score; a rating of 2 or less opens a complaint for staff at once.
While staff hold the owner's conversation (an open hand-off) the visit waits: the owner's
replies go to the person they are talking to, so a rating asked then could never be answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import choices, handoff, names, people, state, texts
from dialogs import workflow_texts as wt
from dialogs.context import DEFAULT_HANDOFF_IDLE_SECONDS
from dialogs.form import Env, Finish, Form, Invalid
from dialogs.state import DialogState, Flow
from storage import complaints, feedback, jobs, orders, outbox, owners
from storage.events import OwnerNotice, StaffAlert
from storage.kv import KeyValueStore
from storage.orders import Order
from storage.workorders import SlaPolicy

_WORD_SCORES = (
    (("非常满意", "很满意", "超级满意", "特别满意", "五星", "满分", "很好", "非常好"), 5),
    (("不满意", "不太满意", "不好", "较差"), 2),
    (("非常不满意", "很不满意", "很差", "太差", "极差", "差劲", "垃圾", "差"), 1),
    (("满意", "不错", "挺好", "好"), 4),
    (("一般", "还行", "凑合", "还可以", "中等"), 3),
)
_NO_COMMENT = ("没有", "无", "没了", "没", "没有了", "不用", "不用了", "暂无", "没意见", "没有意见", "都挺好", "好的", "谢谢")


FOLLOWUP_JOB = "followup"  # the scheduler's claim on each order's 回访 (storage.jobs), keyed by order id


class Start(StrEnum):
    """What start_followup did with an order."""

    ASKED = "asked"
    NOT_NEEDED = "not_needed"  # unknown order, or rated already
    POSTPONED = "postponed"  # staff hold the conversation: ask again once the hand-off has ended


class Step(StrEnum):
    """Follow-up slots."""

    RATING = "rating"
    COMMENT = "comment"


@dataclass
class FollowupSlots:
    """What a follow-up collects."""

    order_id: int | None
    rating: int | None = None
    comment: str | None = None


def validate_rating(text: str) -> Any:
    """1–5 from digits, Chinese numerals, "4分", "五星" or words like 满意/一般/很差."""
    n = choices.parse_int(text)
    if n is not None:
        return n if 1 <= n <= 5 else Invalid(texts.FOLLOWUP_BAD_RATING)
    s = choices.squash(text)
    # Longest phrases first so 非常不满意 is not read as 满意.
    for words, score in sorted(_WORD_SCORES, key=lambda ws: -max(len(w) for w in ws[0])):
        # One-character words (好/差) only count alone: "还没想好" is not a rating.
        if any(w == s or (len(w) > 1 and w in s) for w in words):
            return score
    return Invalid(texts.FOLLOWUP_BAD_RATING)


def validate_comment(text: str) -> str:
    """Any text; "没有" and the like mean no comment."""
    return "" if choices.squash(text) in _NO_COMMENT else text.strip()


async def record_rating(*, session: AsyncSession, owner: owners.Owner, order: Order | None, score: int) -> feedback.Rating:
    """Store a rating; a low one opens a complaint and tells staff (same unit of work)."""
    rating = await feedback.add_rating(
        session=session, owner_id=owner.id, order_id=order.id if order else None,
        merchant_id=order.merchant_id if order else None, score=score,
    )
    if score <= feedback.COMPLAINT_THRESHOLD:
        await open_complaint(session=session, owner=owner, order=order, text=f"回访评分 {score} 分", rating_id=rating.id)
    return rating


async def open_complaint(
    *, session: AsyncSession, owner: owners.Owner, order: Order | None, text: str, rating_id: int | None = None,
    sla: SlaPolicy | None = None,
) -> feedback.Complaint:
    """Open a complaint about a rated order and post it to staff with its deadline (storage/complaints.py)."""
    about = f"订单 {order.code}（{order.service.name}{'，' + order.merchant.name if order.merchant else ''}）" if order else ""
    return await complaints.file(
        say=wt.complaint_notice,
        session=session, owner=owner, text=text, household=await people.household(session, owner),
        owner_label=people.label(owner), sla=sla or SlaPolicy(), order_id=order.id if order else None,
        merchant_id=order.merchant_id if order else None, order_label=about, rating_id=rating_id,
    )


class FollowupForm(Form):
    """rating → comment (a low rating asks what went wrong instead)."""

    flow = Flow.FOLLOWUP

    async def next_step(self, st: DialogState, env: Env) -> str | None:
        return next((s.value for s in Step if s.value not in st.data), None)

    async def prompt(self, st: DialogState, env: Env) -> str:
        if st.step == Step.RATING:
            order = await orders.get(session=env.session, order_id=st.data["order_id"])
            service = names.display(order.service.name) if order else ""
            return texts.FOLLOWUP_ASK.format(code=order.code if order else "", service=service)
        low = st.data["rating"] <= feedback.COMPLAINT_THRESHOLD
        return texts.FOLLOWUP_SORRY if low else texts.FOLLOWUP_COMMENT

    async def accept(self, st: DialogState, text: str, env: Env) -> Any:
        if st.step == Step.RATING:
            score = validate_rating(text)
            if isinstance(score, Invalid):
                return score
            order = await orders.get(session=env.session, order_id=st.data["order_id"])
            if order is not None and await feedback.rating_for_order(session=env.session, order_id=order.id):
                st.data.update(rating=score, comment="")  # rated meanwhile (e.g. twice invited)
                return score
            rating = await record_rating(session=env.session, owner=env.owner, order=order, score=score)
            st.data.update(rating=score, rating_id=rating.id)
            return score
        comment = validate_comment(text)
        st.data["comment"] = comment
        if comment and st.data.get("rating_id"):
            stored = await env.session.get(feedback.Rating, st.data["rating_id"])
            if stored is not None:
                stored.comment = comment
            if st.data["rating"] <= feedback.COMPLAINT_THRESHOLD:
                complaint = await _complaint_for(env.session, st.data["rating_id"])
                if complaint is not None:
                    complaint.text = f"{complaint.text}；业主说：{comment}"
                    outbox.emit(env.session, StaffAlert(
                                text=f"【投诉 T{complaint.id} 补充】{people.label(env.owner)}：{comment}",
                                complaint_id=complaint.id))
        return comment

    def takes_free_text(self, st: DialogState) -> bool:
        return st.step == Step.COMMENT

    async def finish(self, st: DialogState, env: Env) -> Finish:
        low = st.data["rating"] <= feedback.COMPLAINT_THRESHOLD
        complaint = await _complaint_for(env.session, st.data["rating_id"]) if low and st.data.get("rating_id") else None
        if complaint is not None:  # issue 16: the complaint's number and deadlines, not "尽快"
            sla = env.ctx.sla
            return Finish(wt.FOLLOWUP_COMPLAINT_FILED.format(
                id=complaint.id, ack=wt.window(sla.complaint.ack), resolve=wt.window(sla.complaint.done)))
        return Finish(texts.FOLLOWUP_COMPLAINT_DONE if low else texts.FOLLOWUP_DONE)

    async def on_cancel(self, st: DialogState, env: Env) -> str:
        return texts.FOLLOWUP_DONE if "rating" in st.data else texts.CANCELLED

    async def on_hand_off(self, st: DialogState, env: Env) -> None:
        # The owner asked for a person instead of rating: give the 回访 back to the scheduler, which
        # asks again once the hand-off has ended (while it is open, start_followup postpones it).
        if "rating" not in st.data:
            await jobs.release(session=env.session, job=FOLLOWUP_JOB, key=str(st.data["order_id"]))


async def _complaint_for(session: AsyncSession, rating_id: int) -> feedback.Complaint | None:
    from sqlalchemy import select

    return await session.scalar(select(feedback.Complaint).where(feedback.Complaint.rating_id == rating_id))


async def start_followup(
    *, session: AsyncSession, kv: KeyValueStore, order_id: int, ttl_seconds: int = 24 * 3600,
    handoff_idle_seconds: int = DEFAULT_HANDOFF_IDLE_SECONDS,
) -> Start:
    """Ask the owner to rate a completed order and arm the follow-up dialog.

    Does nothing for an unknown or already rated order (NOT_NEEDED), nor while a hand-off holds the
    owner's conversation (POSTPONED: the caller asks again later). A dialog the owner was in
    resumes after the follow-up.
    """
    from dialogs import engine
    from dialogs.survey import offline_env

    order = await orders.get(session=session, order_id=order_id)
    if order is None or await feedback.rating_for_order(session=session, order_id=order_id) is not None:
        return Start.NOT_NEEDED
    if await handoff.active_handoff(session=session, owner=order.owner, idle_seconds=handoff_idle_seconds):
        return Start.POSTPONED
    env = offline_env(session, kv, order.owner, ttl_seconds)
    current = DialogState(flow=Flow.FOLLOWUP, data={"order_id": order.id})
    interrupted = await state.load(kv, order.owner.openid, session=session)
    if interrupted is not None and not (interrupted.flow == Flow.FOLLOWUP and interrupted.data.get("order_id") == order.id):
        current.parent = interrupted
    text = await engine.start(current, env)
    outbox.emit(session, OwnerNotice(openid=order.owner.openid, text=text))
    return Start.ASKED


FORM = FollowupForm()
