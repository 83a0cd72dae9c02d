"""Entry point of the dialog layer: one typed event in, at most one reply out."""

from __future__ import annotations

import logging

from dialogs import texts
from dialogs.context import HubContext
from dialogs.events import InboundMessage, MessageKind, Reply
from storage import catalog, messages, owners

log = logging.getLogger(__name__)

# Used only when no NLU backend is wired (the foundation's minimal conversation).
_KEYWORD_INTENTS = (
    (("你好", "您好", "在吗", "hi", "hello", "菜单", "帮助", "help"), "greet"),
    (("谢谢", "感谢"), "thanks"),
    (("再见", "拜拜"), "goodbye"),
)


async def menu_text(ctx: HubContext) -> str:
    """The numbered list of the 8 butler lines, read from the catalog."""
    lines = await catalog.list_lines(session=ctx.session)
    body = "\n".join(f"{i}. {line.name}" for i, line in enumerate(lines, start=1))
    return f"{texts.MENU_HEADER}\n{body}\n{texts.MENU_FOOTER}"


async def classify(text: str, ctx: HubContext) -> str:
    """Intent name for a text: the NLU backend when wired, keywords otherwise."""
    if ctx.nlu is not None:
        result = await ctx.nlu.parse(text, now=ctx.now())
        return str(result.intent)
    lowered = text.strip().lower()
    for words, intent in _KEYWORD_INTENTS:
        if any(w in lowered for w in words):
            return intent
    return "nlu_fallback"


async def handle(event: InboundMessage, ctx: HubContext) -> Reply | None:
    """Handle one owner event inside the caller's unit of work."""
    await messages.record(
        session=ctx.session,
        channel=event.channel,
        user_id=event.user_id,
        kind=event.kind,
        text=event.text,
        dedupe_key=event.dedupe_key,
    )
    if event.kind == MessageKind.UNSUBSCRIBE:
        await owners.set_following(session=ctx.session, openid=event.user_id, following=False)
        return None
    owner = await owners.get_or_create(session=ctx.session, openid=event.user_id)
    await owners.touch(session=ctx.session, owner=owner, at=event.received_at)
    if event.kind == MessageKind.SUBSCRIBE:
        owner.following = True
        return Reply(f"{texts.WELCOME}\n{await menu_text(ctx)}")
    if not event.text:
        return Reply(await menu_text(ctx))
    intent = await classify(event.text, ctx)
    if intent == "greet":
        return Reply(await menu_text(ctx))
    if intent == "thanks":
        return Reply(texts.THANKS)
    if intent == "goodbye":
        return Reply(texts.GOODBYE)
    return Reply(texts.NOT_UNDERSTOOD)
