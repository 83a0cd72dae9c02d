"""Order intake (`order_service`) and cancelling an order (`cancel_order`, asked via dialogs/confirm).

Slots come from the NLU entities and the owner's profile; only what is missing is asked, then a
summary is confirmed. The order is created `pending_dispatch` with `order.created` in the same
unit of work, so the dispatch side picks it up from the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dialogs import choices, confirm, dates, inquiries, names, offer, people, texts
from dialogs.form import Env, Finish, Form, Invalid
from dialogs.order_answers import OrderAnswers
from dialogs.state import DialogState, Flow
from storage import catalog, orders
from storage.orders import OrderStatus

_ASAP_WORDS = ("尽快", "越快越好", "马上", "现在", "随时", "立刻", "今天就行", "都可以", "都行")
# A time said a little in the past ("今天上午" said at 11:00) still counts as today.
_PAST_GRACE = timedelta(hours=3)
_REPAIRS = frozenset({"水电暖气管道", "家居家电维修", "修车", "装修"})
_CARE = frozenset({"钟点工", "护理", "陪聊", "养老保健"})


class Step(StrEnum):
    """Order slots, asked in this order (notes are never asked: they come from the first message)."""

    SERVICE = "service"
    TIME = "time"
    ADDRESS = "address"
    PHONE = "phone"
    CONFIRM = "confirm"


@dataclass
class OrderSlots:
    """What an order needs; `time` is ISO 8601 or "" for as soon as possible."""

    service: str | None = None
    time: str | None = None
    address: str | None = None
    phone: str | None = None
    notes: str = ""


PROMPTS = {
    Step.SERVICE: texts.ORDER_SERVICE,
    Step.TIME: texts.ORDER_TIME,  # names the service understood, then asks one thing
    Step.ADDRESS: texts.ORDER_ADDRESS,
    Step.PHONE: texts.ORDER_PHONE,
}


async def validate_service(text: str, env: Env) -> Any:
    """A canonical service from the NLU entity or a catalog name in the text."""
    parsed = await env.parsed()
    name = parsed.entity("service") if parsed is not None else None
    if name and await catalog.find_service(session=env.session, name=name):
        return name
    for line in await catalog.list_lines(session=env.session):
        for service in line.services:
            if service.name in text:
                return service.name
    return Invalid(texts.ORDER_BAD_SERVICE)


async def validate_time(text: str, env: Env) -> Any:
    """An ISO time from the NLU (not in the past), or "" for 尽快."""
    if choices.squash(text) in _ASAP_WORDS:
        return ""
    if env.ctx.nlu is None:
        # No parser to read times: keep the owner's words for the merchant to arrange.
        notes = env.text.strip()[:100]
        return Invalid(texts.ORDER_BAD_TIME) if not notes else f"note:{notes}"
    parsed = await env.parsed()
    value = parsed.entity("time") if parsed is not None else None
    if not value:
        return Invalid(texts.ORDER_BAD_TIME)
    if datetime.fromisoformat(value) < env.ctx.now() - _PAST_GRACE:
        return Invalid(texts.ORDER_PAST_TIME)
    return value


async def said_period(env: Env) -> str | None:
    """上午/下午/… when the owner's time words name a period and no hour (so none is shown)."""
    parsed = await env.parsed()
    span = next((e for e in parsed.entities if e.entity == "time"), None) if parsed is not None else None
    words = env.text[span.start:span.end] if span is not None and 0 <= span.start < span.end <= len(env.text) else ""
    return dates.said_period(words or env.text)


async def take_time(state: DialogState, env: Env) -> Any:
    """Store the time the message names (and the period it was said as); Invalid when there is none."""
    value = await validate_time(env.text, env)
    if not isinstance(value, Invalid):
        state.data["time"] = value
        period = await said_period(env) if value and not value.startswith("note:") else None
        if period:
            state.data["period"] = period
    return value


def validate_address(text: str) -> Any:
    """Any non-empty address."""
    return text.strip()[:128] or Invalid(texts.ORDER_ADDRESS)


def validate_phone(text: str) -> Any:
    """A mainland mobile number."""
    phone = choices.extract_phone(text)
    return phone if choices.is_mobile(phone) else Invalid(texts.BIND_BAD_PHONE)


def validate_confirm(text: str) -> Any:
    """1/是/确认 → True, 2/否/取消 → False; anything else (嗯？) is no answer: an order is never a guess."""
    answer = confirm.read_answer(text)
    if answer is not None:
        return answer == "yes"
    return False if choices.squash(text) in ("取消", "不下单") else Invalid(texts.ORDER_BAD_CONFIRM)


def _time_label(env: Env, value: str, period: str | None) -> str:
    if not value:
        return texts.ORDER_ASAP
    if value.startswith("note:"):
        return value.removeprefix("note:")
    return inquiries.time_label(datetime.fromisoformat(value).astimezone(env.ctx.tz), period)


def worker(service: str) -> str:
    """Who comes for this service, as WORDING.md names them: 师傅, 阿姨 or 服务人员."""
    if service in _REPAIRS:
        return "师傅"
    return "阿姨" if service in _CARE else "服务人员"


async def _over_limit(env: Env, service_id: int, scheduled_at: datetime | None) -> str | None:
    """Why this order is not created: a repeat of one just made, or too many open (issue 14)."""
    limits = env.ctx.limits
    repeat = await orders.recent_duplicate(
        session=env.session, owner_id=env.owner.id, service_id=service_id, scheduled_at=scheduled_at,
        since=env.ctx.clock() - limits.duplicate_window,
    )
    if repeat is not None:
        return texts.ORDER_DUPLICATE.format(code=repeat.code)
    count = await orders.count_open(session=env.session, owner_id=env.owner.id)
    if count >= limits.max_open_orders:
        return texts.ORDER_LIMIT.format(count=count)
    return None


class OrderForm(Form):
    """service → time → address → phone → confirm; binding first for an unbound owner."""

    flow = Flow.ORDER

    async def prerequisite(self, state: DialogState, env: Env) -> DialogState | None:
        if env.owner.is_bound:
            return None
        from dialogs import binding  # binding never needs orders; avoid a cycle at import

        first = DialogState(flow=Flow.BINDING)
        await binding.prefill(first, env)
        return first

    async def next_step(self, state: DialogState, env: Env) -> str | None:
        data, owner = state.data, env.owner
        # 立项: a service the owner's community does not offer ends the form with a polite reply
        # (checked once the community is known, i.e. after binding too).
        if data.get("service") and owner.is_bound and data.get("offer_checked") != data["service"]:
            refused = await offer.refusal(env, data["service"])
            if refused:
                data["not_offered"] = refused
                return None
            data["offer_checked"] = data["service"]
        if "address" not in data and owner.is_bound:
            data["address"] = await people.household(env.session, owner)
        if "phone" not in data and owner.phone_valid:
            data["phone"] = owner.phone
        return next((s.value for s in Step if s.value not in data), None)

    async def prompt(self, state: DialogState, env: Env) -> str:
        d = state.data
        if state.step != Step.CONFIRM:
            return PROMPTS[Step(state.step)].format(service=names.display(d.get("service") or ""))
        # The owner's first message stays on the order as notes for the 师傅, not echoed back here.
        return texts.ORDER_CONFIRM.format(
            service=names.display(d["service"]), time=_time_label(env, d["time"], d.get("period")),
            address=d["address"], phone=d["phone"],
        )

    async def prompt_again(self, state: DialogState, env: Env) -> str:
        d = state.data
        if state.step != Step.CONFIRM:
            return await self.prompt(state, env)
        when = _time_label(env, d["time"], d.get("period"))
        return texts.ORDER_CONFIRM_AGAIN.format(service=names.display(d["service"]), time=when)

    async def accept(self, state: DialogState, text: str, env: Env) -> Any:
        step = Step(state.step)
        if step == Step.SERVICE:
            value = await validate_service(text, env)
            if not isinstance(value, Invalid) and "time" not in state.data:
                # "明天上午打扫卫生" answers the time too: one question fewer (intake ≤ 3 turns).
                parsed = await env.parsed()
                if parsed is not None and parsed.entity("time"):
                    await take_time(state, env)
        elif step == Step.TIME:
            return await take_time(state, env)
        elif step == Step.ADDRESS:
            value = validate_address(text)
        elif step == Step.PHONE:
            value = validate_phone(text)
        else:
            value = validate_confirm(text)
        if not isinstance(value, Invalid):
            state.data[step.value] = value
        return value

    async def finish(self, state: DialogState, env: Env) -> Finish:
        d = state.data
        if "not_offered" in d:
            return Finish(d["not_offered"])
        form = OrderAnswers.from_state(d)
        if not form.confirm:
            return Finish(texts.ORDER_DROPPED)
        refused = await offer.refusal(env, form.service)  # switched off while the owner was confirming
        if refused:
            return Finish(refused)
        service = await catalog.get_service_by_name(session=env.session, name=form.service)
        assert service is not None
        refused = await _over_limit(env, service.id, form.scheduled_at)
        if refused is not None:
            return Finish(refused)
        order = await orders.create(
            session=env.session, owner=env.owner, service=service, scheduled_at=form.scheduled_at,
            address=form.address, contact_phone=form.phone, notes=form.notes_text,
        )
        # Photos and links sent while the order was taken (dialogs/media.py); the card says so.
        order.attachments = list(form.attachments)
        order.scheduled_period = form.period
        if order.status == OrderStatus.AWAITING_VERIFICATION:
            return Finish(texts.ORDER_CREATED_AWAITING.format(code=order.code))
        return Finish(texts.ORDER_CREATED.format(code=order.code, worker=worker(service.name)))

    async def on_cancel(self, state: DialogState, env: Env) -> str:
        return texts.ORDER_DROPPED


async def new_order(env: Env, *, service: str | None = None) -> DialogState:
    """An order dialog filled from the message's entities (service, time, phone) and its text."""
    state = DialogState(flow=Flow.ORDER)
    parsed = await env.parsed()
    if service:
        state.data["service"] = service
    elif parsed is not None and parsed.entity("service"):
        state.data["service"] = parsed.entity("service")
    if parsed is not None:
        if parsed.entity("time"):
            await take_time(state, env)
        phone = parsed.entity("phone")
        if phone and choices.is_mobile(phone):
            state.data["phone"] = phone
    if env.text and not service:
        state.data["notes"] = env.text.strip()[:200]
    return state


async def start_cancel(env: Env) -> orders.Order | None:
    """The order a 取消订单 is about (the latest open one), or None when there is none."""
    open_orders = await orders.list_open_for_owner(session=env.session, owner_id=env.owner.id)
    return open_orders[0] if open_orders else None


async def cancel_confirmed(env: Env, data: dict[str, Any]) -> str:
    """The owner confirmed: cancel the order unless the 师傅 is already on the way (merchant told)."""
    order = await orders.get(session=env.session, order_id=data["order_id"])
    if order is None or order.status == OrderStatus.CANCELLED:
        return texts.CANCEL_ORDER_DONE.format(code=data.get("code", ""))
    if OrderStatus.CANCELLED not in orders.TRANSITIONS[OrderStatus(order.status)]:
        return texts.CANCEL_ORDER_TOO_LATE.format(code=order.code)
    # Moves to CANCELLED, logs the history and emits order.cancelled (the merchant is told).
    await orders.cancel(session=env.session, order=order, actor="owner", reason="业主在微信取消")
    return texts.CANCEL_ORDER_DONE.format(code=order.code)


ORDER_FORM = OrderForm()
