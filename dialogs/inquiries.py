"""Questions owners ask: the catalog browser, prices, property fee, orders, activities, FAQ, repairs."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from dialogs import choices, dates, names, offer, texts
from dialogs.form import Env
from dialogs.state import STORE_DOWN
from storage import activities, catalog, communities, faq, orders
from storage.catalog import Service

# Intents answered in place, even in the middle of a form (which then asks its question again).
QUESTION_INTENTS = frozenset({"ask_services", "ask_price", "ask_property_fee", "ask_order_status", "ask_activity"})
_QUESTION_CONFIDENCE = 0.6
_MENU_TTL = 3600


def menu_key(openid: str) -> str:
    """The Redis name of the owner's catalog-browser list (written only in the owner's own turns)."""
    return f"menu:{openid}"


async def greeting(env: Env) -> str:
    """A short hello (≤ 5 phone lines): what I can do and how to ask; the list only when asked."""
    await close_browser(env)
    return texts.GREETING if env.owner.is_bound else texts.GREETING_UNBOUND


async def lines_menu(env: Env) -> str:
    """The numbered 8 butler lines (from the catalog), and arm the browser on them."""
    lines = [line for line, _ in await offer.lines(env)]  # only what the community offers (立项)
    if not lines:
        return texts.SERVICE_NONE_OFFERED
    with suppress(*STORE_DOWN):
        await env.kv.set_json(menu_key(env.owner.openid), {"level": "lines"}, ttl_seconds=_MENU_TTL)
    body = "\n".join(f"{i}. {line.name}" for i, line in enumerate(lines, start=1))
    return f"{texts.MENU_HEADER}\n{body}\n{texts.MENU_FOOTER}"


def service_detail(service: Service) -> str:
    """Description and price of one service."""
    return texts.SERVICE_DETAIL.format(
        name=names.display(service.name), description=service.description or service.line.name, price=service.price_note or "详询管家"
    )


async def close_browser(env: Env) -> None:
    """Disarm the catalog browser, so a later number is not read as a pick from a stale list."""
    with suppress(*STORE_DOWN):
        await env.kv.delete(menu_key(env.owner.openid))


async def browse(env: Env) -> tuple[str, str | None] | None:
    """A numbered pick from the catalog browser: (reply, service chosen to order or None)."""
    try:
        menu = await env.kv.get_json(menu_key(env.owner.openid))
    except STORE_DOWN:
        return None
    if not menu:
        return None
    key = menu_key(env.owner.openid)
    offered = await offer.lines(env)
    if menu["level"] == "service":
        if choices.squash(env.text) in ("预约", "下单", "我要预约", "预订", "好的", "好", "要", "1"):
            await env.kv.delete(key)
            return "", menu["service"]
        return None
    if menu["level"] == "lines":
        name = choices.pick(env.text, [line.name for line, _ in offered])
        picked = next(((ln, ss) for ln, ss in offered if ln.name == name), None)
        if picked is None:
            return None
        line, services = picked
        await env.kv.set_json(key, {"level": "services", "line": line.name}, ttl_seconds=_MENU_TTL)
        shown = [names.display(s.name) for s in services]
        return f"{texts.LINE_SERVICES.format(line=line.name)}\n{choices.numbered(shown)}", None
    chosen = next((ss for ln, ss in offered if ln.name == menu.get("line")), None)
    if chosen is None:
        return None
    # Owners pick by number or by the words they were shown (display names), or by the catalog name.
    name = choices.pick(env.text, [names.display(s.name) for s in chosen])
    service = next((s for s in chosen if name in (names.display(s.name), s.name)), None)
    if service is None:
        return None
    await env.kv.set_json(key, {"level": "service", "service": service.name}, ttl_seconds=_MENU_TTL)
    return service_detail(service), None


async def _priced_service(env: Env) -> Service | None:
    parsed = await env.parsed()
    name = parsed.entity("service") if parsed is not None else None
    service = await catalog.find_service(session=env.session, name=name) if name else None
    return service if service is not None else await _service_in_text(env)


async def ask_price(env: Env) -> str:
    """Price of the service named in the text, or the menu to pick one."""
    service = await _priced_service(env)
    if service is None:
        return f"{texts.PRICE_UNKNOWN_SERVICE}\n{await lines_menu(env)}"
    return await offer.refusal(env, service.name) or service_detail(service)


async def _service_in_text(env: Env) -> Service | None:
    for line in await catalog.list_lines(session=env.session):
        for service in line.services:
            if service.name in env.text:
                return service
    return None


async def property_fee(env: Env) -> str:
    """The owner's community fee: staff's FAQ answer if there is one, else community data."""
    owner = env.owner
    if owner.community_id is None:
        return texts.BIND_BEFORE_FEE
    entry = await faq.match(session=env.session, text="物业费", community_id=owner.community_id)
    if entry is not None and entry.community_id == owner.community_id:
        return entry.answer
    community = await communities.get(session=env.session, community_id=owner.community_id)
    assert community is not None
    if not community.property_fee_monthly_fen or not community.households:
        return texts.PROPERTY_FEE_UNKNOWN.format(community=community.name)
    per_household = community.property_fee_monthly_fen / community.households / 100
    return texts.PROPERTY_FEE.format(community=community.name, amount=f"{per_household:.2f}".rstrip("0").rstrip("."))


def when(env: Env, order: orders.Order) -> str:
    """An order's time as owners read it (the period they said, never an invented hour)."""
    if order.scheduled_at is None:
        return texts.ORDER_ASAP
    return time_label(order.scheduled_at.astimezone(env.ctx.tz), order.scheduled_period)


def time_label(at: datetime, period: str | None = None) -> str:
    """12月3日（周四）上午9:00, or 12月3日（周四）上午 when only 上午 was said; a bare date says who sets the hour."""
    shown = dates.label(at, period)
    if period is None and (at.hour, at.minute) == (0, 0):
        return shown + texts.ORDER_DATE_ONLY
    return shown


async def order_status(env: Env) -> str:
    """The owner's open orders with status and merchant."""
    rows = await orders.list_open_for_owner(session=env.session, owner_id=env.owner.id)
    if not rows:
        return texts.ORDERS_NONE
    lines = [
        texts.ORDER_LINE.format(
            code=o.code, service=names.display(o.service.name), time=when(env, o),
            status=texts.OWNER_STATUS.get(o.status, o.status_label),
            merchant=f"｜{o.merchant.name}" if o.merchant else "",
        )
        for o in rows
    ]
    return "\n".join([texts.ORDERS_HEADER, *lines])


async def upcoming_activities(env: Env) -> str:
    """Upcoming activities for the owner's community."""
    rows = await activities.upcoming(session=env.session, community_id=env.owner.community_id, now=env.ctx.now())
    if not rows:
        return texts.ACTIVITIES_NONE
    lines = [
        texts.ACTIVITY_LINE.format(
            when=dates.label(a.starts_at.astimezone(env.ctx.tz)), title=a.title,
            place=f"｜{a.place}" if a.place else "",
        )
        for a in rows
    ]
    return "\n".join([texts.ACTIVITIES_HEADER, *lines])


async def faq_answer(env: Env) -> str | None:
    """Staff's answer when the text hits a FAQ entry's keywords."""
    entry = await faq.match(session=env.session, text=env.text, community_id=env.owner.community_id)
    return entry.answer if entry else None


async def answer(intent: str, env: Env) -> str:
    """Answer a question intent."""
    if intent == "ask_price":
        return await ask_price(env)
    if intent == "ask_property_fee":
        return await property_fee(env)
    if intent == "ask_order_status":
        return await order_status(env)
    if intent == "ask_activity":
        return await upcoming_activities(env)
    return await lines_menu(env)


async def interruption(env: Env) -> str | None:
    """An answer when a form's pending question got an off-topic question instead; else None."""
    # Staff's FAQ first: its keywords are specific to the community and beat a generic answer.
    faq_text = await faq_answer(env)
    if faq_text:
        return faq_text
    intent, confidence = await env.intent()
    if intent in QUESTION_INTENTS and confidence >= _QUESTION_CONFIDENCE:
        return await answer_in_form(intent, env)
    return None


async def answer_in_form(intent: str, env: Env) -> str:
    """A question's answer while a form waits: the catalog as one line, since no numbered pick is open."""
    if intent == "ask_services":
        offered = await offer.lines(env)
        if not offered:
            return texts.SERVICE_NONE_OFFERED
        return texts.SERVICES_IN_FORM.format(lines="、".join(line.name.removesuffix("管家") for line, _ in offered))
    if intent == "ask_price":
        # Never the whole menu inside a form: it would bury the question the form is waiting on.
        known = await _priced_service(env)
        return service_detail(known) if known is not None else texts.PRICE_WHICH_IN_FORM
    return await answer(intent, env)
