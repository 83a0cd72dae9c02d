"""Entry point of the dialog layer: one typed event in, at most one reply out.

The whole conversation in one place:

    event ──► hand-off open?  ── yes ─► forward to staff, stay quiet
          └─► menu button?    ── yes ─► on_menu: a new command, never an answer to a pending pick
          └─► dialog pending? ── yes ─► engine.reply (form step / cancel / interruption / hand-off)
          └─► catalog browser pick? ─► next menu level (or start an order)
          └─► two requests? ── yes ─► answer the questions, take the first action (dialogs/multi.py)
          └─► intent ──► checked against the words (negation, opt-out cues) ──► ROUTES[intent]
                         (two nlu_fallback in a row ─► hand-off)

An action others see or that changes consent is never taken on the NLU's word alone: its route
asks first (dialogs/confirm.py) and acts only on 是/对/好/确认/1; a pending question answered with
anything else is dropped and the message handled as new.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from dialogs import (
    amount_answers,
    asking,
    binding,
    choices,
    confirm,
    engine,
    handoff,
    inquiries,
    media,
    multi,
    order,
    people,
    reading,
    state,
    survey,
    texts,
    workflows,
)
from dialogs.confirm import Action
from dialogs.context import HubContext
from dialogs.events import MEDIA_KINDS, InboundMessage, MessageKind, Reply
from dialogs.form import Env
from dialogs.state import DialogState, Flow
from storage import arrival, messages, owners
from storage.kv import KeyValueStore
from storage.turn_store import TurnStore

log = logging.getLogger(__name__)

# Used only when no NLU backend is wired (keywords keep the basics working).
_KEYWORD_INTENTS = (
    (("菜单", "帮助", "help", "服务"), "ask_services"),
    (("你好", "您好", "在吗", "hi", "hello"), "greet"),
    (("谢谢", "感谢"), "thanks"),
    (("再见", "拜拜"), "goodbye"),
    (("绑定",), "bind_house"),
    (("问卷", "调研"), "start_survey"),
    (("人工", "客服"), "human_agent"),
    (("订单",), "ask_order_status"),
)
# WeChat menu buttons (CLICK EventKey) map to the intent they stand for.
MENU_KEYS = {
    "SERVICES": "ask_services", "BIND": "bind_house", "SURVEY": "start_survey",
    "ORDERS": "ask_order_status", "HUMAN": "human_agent", "ACTIVITIES": "ask_activity",
}
# The words a button press stands for: the text its dialogs see, and what staff read during a hand-off.
_MENU_TEXTS = {"ask_services": "菜单", "bind_house": "绑定", "start_survey": "问卷", "ask_order_status": "我的订单",
               "human_agent": "人工", "ask_activity": "最近有什么活动"}
# Buttons that start a dialog: pressed while already in it, they just ask its question again.
_MENU_FLOWS = {"bind_house": Flow.BINDING, "start_survey": Flow.SURVEY}
# The service account's custom menu: every button is a CLICK whose key is in MENU_KEYS.
WECHAT_MENU = {
    "button": [
        {"type": "click", "name": "管家服务", "key": "SERVICES"},
        {"name": "我的", "sub_button": [
            {"type": "click", "name": "我的订单", "key": "ORDERS"},
            {"type": "click", "name": "绑定房屋", "key": "BIND"},
            {"type": "click", "name": "参与调研", "key": "SURVEY"},
        ]},
        {"name": "社区", "sub_button": [
            {"type": "click", "name": "社区活动", "key": "ACTIVITIES"},
            {"type": "click", "name": "联系管家", "key": "HUMAN"},
        ]},
    ]
}
_CONFIRM_FLOWS = frozenset({Flow.CONFIRM, Flow.CANCEL_ORDER})
_MENU_WORDS = frozenset({"菜单", "服务菜单", "目录", "全部服务"})
_FALLBACKS_BEFORE_HANDOFF = 2
_FALLBACK_TTL = 3600


def _streak_key(openid: str) -> str:
    return f"fallbacks:{openid}"  # misreads in a row; written only in the owner's own turns


def turn_keys(openid: str) -> list[str]:
    """What a turn reads from Redis: read with the owner's lock, in its round trip (issue 18).
    (The dialog state comes with the turn's first statement instead: storage/arrival.py.)"""
    return [inquiries.menu_key(openid), _streak_key(openid)]


def turn_store(kv: KeyValueStore, openid: str, seen: dict[str, str | None]) -> TurnStore:
    """The turn's view of Redis over what the lock read; every key it read (the browser list and
    the streak) is the owner's own (only their turns write them), so a delete of one seen absent
    is skipped."""
    return TurnStore(kv, seen=seen, owned=turn_keys(openid))


async def classify(env: Env) -> str:
    """Intent name: the NLU backend when wired, keywords otherwise."""
    if env.ctx.nlu is not None:
        intent, _ = await env.intent()
        return intent
    lowered = env.text.strip().lower()
    if choices.is_cancel(lowered):
        return "cancel"
    for words, intent in _KEYWORD_INTENTS:
        if any(w in lowered for w in words):
            return intent
    return "nlu_fallback"


# --- intent handlers ---------------------------------------------------------------------------

async def on_greet(env: Env) -> str:
    return await inquiries.greeting(env)


async def on_services(env: Env) -> str:
    menu = await inquiries.lines_menu(env)
    return menu if env.owner.is_bound else f"{menu}\n{texts.OFFER_BINDING}"


async def on_question(env: Env) -> str:
    return await inquiries.answer(await classify(env), env)


async def on_order(env: Env) -> str:
    return await engine.start(await order.new_order(env), env)


async def on_bind(env: Env) -> str:
    owner = env.owner
    household = await people.household(env.session, owner)
    if owner.binding_status == owners.BindingStatus.VERIFIED:
        return texts.BIND_ALREADY.format(household=household)
    if owner.binding_status == owners.BindingStatus.PENDING:
        return texts.BIND_WAITING.format(household=household)
    new = DialogState(flow=Flow.BINDING)
    await binding.prefill(new, env)
    return await engine.start(new, env)


async def on_survey(env: Env) -> str:
    open_surveys = await survey.available(session=env.session, owner_id=env.owner.id)
    if not open_surveys:
        return texts.SURVEY_NONE
    if len(open_surveys) == 1:
        spec = survey.spec_of(open_surveys[0])
        intro = texts.SURVEY_INTRO.format(title=open_surveys[0].title, intro=spec.intro)
        return await engine.start(await survey.begin(env, open_surveys[0]), env, intro=intro)
    return await engine.start(DialogState(flow=Flow.SURVEY, data={"options": [s.id for s in open_surveys]}), env)


async def on_complain(env: Env) -> str:
    # Issue 13: against the property, unless the owner names one of their orders (never the last one).
    return await workflows.file_complaint(env)


async def on_human(env: Env) -> str:
    return await engine.hand_off(env, reason="human_agent")


async def on_unsubscribe(env: Env) -> str:
    env.owner.push_opt_out = True
    return texts.UNSUBSCRIBED


async def on_resubscribe(env: Env) -> str:
    env.owner.push_opt_out = False
    return texts.RESUBSCRIBED


async def on_fallback(env: Env) -> str:
    faq = await inquiries.faq_answer(env)
    if faq:
        return faq
    return texts.NOT_UNDERSTOOD


ROUTES: dict[str, Callable[[Env], Awaitable[str]]] = {
    "greet": on_greet,
    "ask_services": on_services,
    "ask_price": on_question,
    "ask_property_fee": on_question,
    "ask_order_status": on_question,
    "ask_activity": on_question,
    "order_service": on_order,
    "cancel_order": asking.on_cancel_order,
    "bind_house": on_bind,
    "start_survey": on_survey,
    "rate_service": asking.on_rate,
    "complain": asking.ask_complain,
    "report_issue": asking.ask_report_issue,
    "human_agent": on_human,
    "unsubscribe_push": asking.ask_unsubscribe,
    "resubscribe_push": asking.ask_resubscribe,
    "nlu_fallback": on_fallback,
}


# What each confirmed action does; it runs on the owner's original words (dialogs/confirm.py).
confirm.EXECUTORS.update({
    Action.COMPLAIN: lambda env, data: on_complain(env),
    Action.REPORT_ISSUE: lambda env, data: workflows.report_issue(env),
    Action.OPT_OUT: lambda env, data: on_unsubscribe(env),
    Action.OPT_IN: lambda env, data: on_resubscribe(env),
    Action.CANCEL_ORDER: order.cancel_confirmed,
    Action.RATE: asking.rate_confirmed,
})
engine.INTERRUPTING_ACTIONS.update({"complain": asking.ask_complain, "report_issue": asking.ask_report_issue})
# Nothing is pending, so yes/no/cancel have nothing to act on (and a bare 好的 would be a guess).
SIMPLE = {"thanks": texts.THANKS, "goodbye": texts.GOODBYE, "affirm": texts.NOTHING_PENDING,
          "deny": texts.NOTHING_PENDING, "cancel": texts.NOTHING_TO_CANCEL}
# With these intents a staff FAQ answer is not what the owner wants (they asked us to do something).
_ACTION_INTENTS = frozenset({"order_service", "cancel_order", "bind_house", "start_survey", "rate_service",
                             "complain", "report_issue", "human_agent", "unsubscribe_push", "resubscribe_push"})


async def act(intent: str, env: Env) -> str:
    """Run one request's handler, unless the owner's own words contradict it."""
    intent = asking.checked(intent, env)
    if intent in _ACTION_INTENTS and await asking.refused(intent, env):
        return await asking.negated(intent, env)
    if intent == "deny":  # the NLU read a refusal ("我不需要保洁服务", "我不想取消订单"): say what stays as it is
        for action in ("order_service", "cancel_order"):
            if await asking.refused(action, env):
                return await asking.negated(action, env)
    if intent in SIMPLE:
        return SIMPLE[intent]
    return await ROUTES.get(intent, on_fallback)(env)


async def _only_an_address(env: Env) -> bool:
    """The message named a building, unit or room and nothing the NLU could act on."""
    parsed = await env.parsed()
    return parsed is not None and any(e.entity in ("building", "unit", "room") for e in parsed.entities)


async def route(env: Env) -> str:
    """Top-level turn: catalog pick, two requests, FAQ, then the intent's handler."""
    picked = await inquiries.browse(env)
    if picked is not None:
        text, service = picked
        return text if service is None else await engine.start(await order.new_order(env, service=service), env)
    # Not a pick: the list is stale now, so a later "1" is never read against it.
    await inquiries.close_browser(env)
    if choices.squash(env.text) in _MENU_WORDS:  # the hello tells owners to type 菜单: never misread it
        return await on_services(env)
    several = await multi.answer_all(env, act)
    if several is not None:
        return several
    intent = asking.checked(await classify(env), env)
    streak_key = _streak_key(env.owner.openid)
    if intent == "nlu_fallback" and reading.missed_message(env.text):
        return texts.MISSED_MESSAGE  # understood: a question about a message, no misread to count
    if intent == "nlu_fallback" and not env.owner.is_bound and await _only_an_address(env):
        return texts.ADDRESS_ALONE  # "3号楼" alone decides nothing; an unbound owner is shown the way
    if intent == "nlu_fallback":
        try:
            streak = await env.kv.incr(streak_key, ttl_seconds=_FALLBACK_TTL)
        except state.STORE_DOWN:
            streak = 1
        faq = await inquiries.faq_answer(env)
        if faq:
            await env.kv.delete(streak_key)
            return faq
        if streak >= _FALLBACKS_BEFORE_HANDOFF:
            await env.kv.delete(streak_key)
            return await engine.hand_off(env, reason="nlu_fallback")
        return texts.NOT_UNDERSTOOD
    with suppress(*state.STORE_DOWN):
        await env.kv.delete(streak_key)
    if intent not in _ACTION_INTENTS:
        faq = await inquiries.faq_answer(env)
        if faq:
            return faq
    return await act(intent, env)


async def on_menu(intent: str, env: Env) -> str:
    """A menu button is a new command: it never answers the catalog browser's list or a form's question.

    The browser is closed. A pending form stays: a question button is answered and the form's
    question asked again (as when the question is typed); a dialog button starts its dialog on top
    of the form, which resumes after it; 联系管家 hands off as it always does.
    """
    await inquiries.close_browser(env)
    pending = await state.load(env.kv, env.owner.openid, session=env.session)
    if pending is not None and pending.flow in _CONFIRM_FLOWS:  # a button is no 是: nothing happens
        await confirm.drop(pending, env)
        pending = await state.load(env.kv, env.owner.openid, session=env.session)
    if pending is None:
        return await MENU_ROUTES[intent](env)
    if intent == "human_agent":
        return await engine.hand_off(env, reason="human_agent", pending=pending)
    if intent in inquiries.QUESTION_INTENTS:
        return await engine.answer_then_resume(pending, env, await inquiries.answer_in_form(intent, env))
    if _MENU_FLOWS[intent] == pending.flow:
        return texts.WELCOME_BACK + "\n" + await engine.prompt_again(pending, env)
    await state.clear(env.kv, env.owner.openid, session=env.session)
    text = await MENU_ROUTES[intent](env)
    started = await state.load(env.kv, env.owner.openid, session=env.session)
    if started is None:  # nothing to ask (already bound, no open survey): carry on with the form
        return await engine.answer_then_resume(pending, env, text)
    await engine.start_on_top(started, pending, env)
    return text


MENU_ROUTES: dict[str, Callable[[Env], Awaitable[str]]] = {
    "ask_services": on_services,
    "ask_order_status": inquiries.order_status,
    "ask_activity": inquiries.upcoming_activities,
    "bind_house": on_bind,
    "start_survey": on_survey,
    "human_agent": on_human,
}


# Owner actions with nothing to answer: opening a menu link, the scan/photo/location pickers
# (the photo or location itself arrives next as its own message).
_SILENT_ACTIONS = frozenset({MessageKind.VIEW, MessageKind.SCANCODE, MessageKind.PICS, MessageKind.LOCATION_SELECT})
# What staff see during a hand-off: the owner's words and media, never button plumbing.
_FORWARDED = frozenset({MessageKind.TEXT, MessageKind.VOICE, MessageKind.LOCATION, MessageKind.CLICK, *MEDIA_KINDS})


async def handle(event: InboundMessage, ctx: HubContext) -> Reply | None:
    """Handle one owner message or action inside the caller's unit of work."""
    if event.kind == MessageKind.UNSUBSCRIBE:
        await messages.record(session=ctx.session, channel=event.channel, user_id=event.user_id, kind=event.kind,
                              text=media.describe(event), dedupe_key=event.dedupe_key)
        await owners.set_following(session=ctx.session, openid=event.user_id, following=False)
        return None
    # The message logged, the owner brought in, and "is staff holding them?" in one statement.
    arrived = await arrival.arrive(
        session=ctx.session, channel=event.channel, openid=event.user_id, kind=event.kind,
        text=media.describe(event), dedupe_key=event.dedupe_key, at=event.received_at,
    )
    owner = arrived.owner
    state.preload(ctx.session, owner.openid, arrived.dialog)
    text = event.text.strip()
    menu = MENU_KEYS.get(event.event_key) if event.kind == MessageKind.CLICK else None
    if menu is not None:
        text = _MENU_TEXTS[menu]
    env = Env(ctx=ctx, owner=owner, text=text)
    # Safety first (issue 13): an emergency gets the 24-hour phone whatever else is going on.
    if menu is None and (emergency := workflows.urgent_kind(text)) is not None:
        return Reply(await workflows.report_urgent(env, emergency))
    # A tap on an amount question (确认金额) is answered even while staff hold the conversation.
    if menu is None and (confirmed := await amount_answers.answer(env)) is not None:
        return Reply(confirmed)
    held = None
    if arrived.in_handoff:
        held = await handoff.active_handoff(session=ctx.session, owner=owner, idle_seconds=ctx.handoff_idle_seconds)
    if held is not None:
        if event.kind in _FORWARDED:
            await handoff.forward_owner_message(
                session=ctx.session, handoff=held, owner=owner, text=text or media.describe(event),
                photo_url=event.media.url if event.media is not None and event.kind == MessageKind.IMAGE else "",
            )
        return None
    if menu is not None:
        return Reply(await on_menu(menu, env))
    if event.kind == MessageKind.SUBSCRIBE:
        owner.following = True
        await inquiries.close_browser(env)
        return Reply(texts.WELCOME + (texts.WELCOME_HOW if owner.is_bound else texts.WELCOME_BIND))
    if event.kind in _SILENT_ACTIONS:
        return None
    pending = await state.load(ctx.kv, owner.openid, session=ctx.session)
    if event.kind in (MessageKind.LOCATION, MessageKind.VOICE, *MEDIA_KINDS) and not text:
        return Reply(await media.handle(event, env, pending))
    if not text:  # a SCAN of our QR code, a click on an unknown key: say hello, or resume the form
        if pending is not None:
            return Reply(f"{texts.WELCOME_BACK}\n{await engine.prompt_again(pending, env)}")
        return Reply(await on_greet(env))
    if pending is not None and pending.flow in _CONFIRM_FLOWS and not confirm.is_answer(text):
        await confirm.drop(pending, env)  # not a yes or no: the question lapses, the text is new
        pending = await state.load(ctx.kv, owner.openid, session=ctx.session)
    if pending is not None:
        return Reply(await engine.reply(pending, env))
    if (rated := await workflows.rate_work_order(env)) is not None:  # answers "please rate the fix"
        return Reply(rated)
    return Reply(await route(env))
