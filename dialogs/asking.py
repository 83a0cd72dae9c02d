"""What the hub asks before it acts: confirmations of actions, and checks of the owner's words.

The routes here stand in dialogs/hub.py's ROUTES for intents whose action others see or that
changes consent; each says what will happen and arms dialogs/confirm.py. The hub's EXECUTORS
table says what runs once the owner confirms.
"""

from __future__ import annotations

import re

from dialogs import confirm, engine, followup, inquiries, names, order, reading, texts
from dialogs.confirm import Action
from dialogs.form import Env, Finish
from dialogs.state import DialogState, Flow
from storage import feedback, orders

# "我要投诉保安态度差" is restated as "保安态度差": the request words are ours to say, not to quote.
_REQUEST_WORDS = re.compile(r"^(我)?(要|想|需要)?(投诉|报修|反映|反馈)(一下|下)?[，,：:\s]*")


def _excerpt(text: str, limit: int = 20) -> str:
    text = _REQUEST_WORDS.sub("", text.strip()) or text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def on_cancel_order(env: Env) -> str:
    """Ask before cancelling the latest open order (the merchant would be told)."""
    target = await order.start_cancel(env)
    if target is None:
        return texts.CANCEL_ORDER_NONE
    prompt = texts.CANCEL_ORDER_CONFIRM.format(
        code=target.code, service=names.display(target.service.name), time=inquiries.when(env, target)
    )
    return await confirm.ask(env, Action.CANCEL_ORDER, prompt, order_id=target.id, code=target.code)


async def on_rate(env: Env) -> str:
    """A rating outside a 回访: a score is confirmed first; without one the 回访 form asks for it."""
    last = await orders.last_completed_for_owner(session=env.session, owner_id=env.owner.id)
    if last is None:
        return texts.RATE_NO_ORDER
    if await feedback.rating_for_order(session=env.session, order_id=last.id):
        return texts.RATE_ALREADY.format(code=last.code)
    parsed = await env.parsed()
    score = followup.validate_rating(parsed.entity("rating") or "") if parsed is not None else None
    if isinstance(score, int):  # a score outside a 回访 is a guess until the owner confirms it
        prompt = texts.CONFIRM_RATE.format(code=last.code, service=names.display(last.service.name), score=score)
        return await confirm.ask(env, Action.RATE, prompt, order_id=last.id, score=score)
    # No score: the 回访 form asks for one, and the owner's answer is the rating.
    return await engine.start(DialogState(flow=Flow.FOLLOWUP, data={"order_id": last.id}), env)


async def rate_confirmed(env: Env, data: dict[str, object]) -> Finish:
    """The owner confirmed the score: record it, then ask for a comment as a 回访 would."""
    last = await orders.get(session=env.session, order_id=int(str(data["order_id"])))
    assert last is not None
    if await feedback.rating_for_order(session=env.session, order_id=last.id):
        return Finish(texts.RATE_ALREADY.format(code=last.code))
    score = int(str(data["score"]))
    rating = await followup.record_rating(session=env.session, owner=env.owner, order=last, score=score)
    comment = DialogState(flow=Flow.FOLLOWUP, data={"order_id": last.id, "rating": score, "rating_id": rating.id})
    return Finish("", then=comment)


async def ask_complain(env: Env) -> str:
    """Ask before filing a complaint for staff, restating what it is about."""
    return await confirm.ask(env, Action.COMPLAIN, texts.CONFIRM_COMPLAINT.format(text=_excerpt(env.text)))


async def ask_report_issue(env: Env) -> str:
    """Ask before opening a common-area work order, restating the problem."""
    return await confirm.ask(env, Action.REPORT_ISSUE, texts.CONFIRM_REPORT.format(text=_excerpt(env.text)))


async def ask_unsubscribe(env: Env) -> str:
    """Ask before switching pushes off."""
    return await confirm.ask(env, Action.OPT_OUT, texts.CONFIRM_UNSUBSCRIBE)


async def ask_resubscribe(env: Env) -> str:
    """Ask before switching pushes back on."""
    return await confirm.ask(env, Action.OPT_IN, texts.CONFIRM_RESUBSCRIBE)


def checked(intent: str, env: Env) -> str:
    """The NLU's intent, unless the owner's words do not ask for it (an opt-out needs opt-out words)."""
    if intent == "unsubscribe_push" and not reading.asks_opt_out(env.text):
        return "nlu_fallback"  # "我没收到消息", "给杨凯发短信": nothing about stopping pushes
    if intent == "resubscribe_push" and not reading.asks_opt_in(env.text):
        return "nlu_fallback"  # "测试消息"
    return intent


async def refused(intent: str, env: Env) -> bool:
    """The owner's words refuse the action ("我不需要保洁服务"), reading the service as they said it."""
    parsed = await env.parsed()
    span = next((e for e in parsed.entities if e.entity == "service"), None) if parsed is not None else None
    said = env.text[span.start:span.end] if span is not None and 0 <= span.start < span.end <= len(env.text) else ""
    return reading.negated(env.text, intent, said)


async def negated(intent: str, env: Env) -> str:
    """The owner said they do not want it ("我不需要保洁服务"): nothing happens, and we say so."""
    if intent == "order_service":
        parsed = await env.parsed()
        service = parsed.entity("service") if parsed is not None else None
        return texts.NEGATED_ORDER.format(service=names.display(service)) if service else texts.NEGATED_ORDER_ANY
    return texts.NEGATED_CANCEL_ORDER if intent == "cancel_order" else texts.NEGATED_ACTION


