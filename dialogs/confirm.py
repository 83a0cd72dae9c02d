"""No action on a guess: one short question before an act others see or that changes consent.

Opting out or in, filing a complaint, a common-area work order, cancelling an order and a rating
outside a 回访 first say what will happen and wait for 是/对/好/确认/1. Anything else is a new
message (the hub routes it as usual) and the action never happens. The pending question is a
dialog state like any form, so it survives a restart, and it lapses after `confirm_ttl_seconds`:
a late 是 is told so instead of acting on something the owner may no longer mean.

    route ─► ask(action) ─► 是/对/好/确认/1 ─► EXECUTORS[action] ─► its reply
                        └─► 否/不用/2/算了 ─► "nothing changed"
                        └─► anything else ─► dropped; the text is a new message
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dialogs import choices, state, texts
from dialogs.form import Env, Finish, Form, Invalid
from dialogs.state import DialogState, Flow
from nlu.guards import YES_CHAR_FOLLOWERS


class Action(StrEnum):
    """What a confirmation stands for (the intent that asked for it)."""

    OPT_OUT = "unsubscribe_push"
    OPT_IN = "resubscribe_push"
    COMPLAIN = "complain"
    REPORT_ISSUE = "report_issue"
    CANCEL_ORDER = "cancel_order"
    RATE = "rate_service"


# Exactly these confirm; 嗯 does not ("嗯？" is as often a question as a yes).
YES = frozenset({"是", "是的", "对", "对的", "好", "好的", "确认", "确定", "1", "可以", "行", "没问题", "ok", "yes"})
NO = frozenset({"否", "不", "不是", "不用", "不用了", "不要", "不要了", "不了", "算了", "2", "不对", "不行", "先不", "no"})
# A yes or no with a few words after it ("是的，麻烦了", "不用了谢谢") still answers; a question
# ("是吗？", "好不好") or a hedge does not.
_YES_HEADS = ("是的", "是", "对的", "对", "好的", "好", "确认", "确定", "可以", "没问题")
# …but a one-character 是/对/好 is a yes only when it stands alone (是，麻烦了) or with a particle
# or another yes-word (好啊, 对对对): glued to a word it is that word's (好臭啊 "so smelly",
# 对面楼在装修 "the building opposite", 是我家的灯 "it is my lamp") and confirms nothing.
_ALONE_AFTER = re.compile(rf"(?:[{YES_CHAR_FOLLOWERS}]|$|[\s,，。.!！~～、;；:：…])")
_NO_HEADS = ("不用", "不要", "不是", "不了", "算了", "先不", "不对", "不行", "否")
_NOT_PLAIN = re.compile(r"[不没别吗么呢?？]|但")
_SHORT = 12
# An executor runs the confirmed action on an Env carrying the owner's original words.
Executor = Callable[[Env, dict[str, Any]], Awaitable[str | Finish]]
# Filled by dialogs/hub.py, which owns what each action does (this module only asks and waits).
EXECUTORS: dict[str, Executor] = {}
DECLINED = {Action.CANCEL_ORDER: texts.CANCEL_ORDER_KEPT}


async def ask(env: Env, action: Action, prompt: str, **data: Any) -> str:
    """Arm a confirmation of `action` and return its question (`prompt` says what will happen)."""
    expires = env.ctx.now() + timedelta(seconds=env.ctx.confirm_ttl_seconds)
    pending = DialogState(
        flow=Flow.CONFIRM, step="confirm",
        data={"action": action.value, "text": env.text, "prompt": prompt, "expires_at": expires.isoformat(), **data},
    )
    # Stored as long as any dialog, so a late 是 can be told the question lapsed (see accept).
    await state.save(env.kv, env.owner.openid, pending, ttl_seconds=env.ctx.dialog_ttl_seconds, session=env.session)
    return prompt


def read_answer(text: str) -> str | None:
    """"yes", "no", or None when the text does not answer the pending question."""
    s = choices.squash(text)
    if s in YES:
        return "yes"
    if s in NO:
        return "no"
    if len(s) > _SHORT:
        return None
    yes = next((h for h in _YES_HEADS if s.startswith(h)), None)
    rest = text.strip()[len(yes):] if yes is not None else ""
    if yes is not None and (len(yes) > 1 or _ALONE_AFTER.match(rest)) and not _NOT_PLAIN.search(rest):
        return "yes"
    return "no" if s.startswith(_NO_HEADS) else None


def is_answer(text: str) -> bool:
    """A yes or a no to the pending question; anything else is a new message."""
    return read_answer(text) is not None


async def drop(pending: DialogState, env: Env) -> None:
    """Forget the question without acting; a dialog it interrupted stays pending."""
    if pending.parent is not None:
        await state.save(env.kv, env.owner.openid, pending.parent, ttl_seconds=env.ctx.dialog_ttl_seconds, session=env.session)
    else:
        await state.clear(env.kv, env.owner.openid, session=env.session)


class ConfirmForm(Form):
    """One step: yes runs the action, no says nothing changed, after the deadline neither."""

    flow = Flow.CONFIRM

    async def next_step(self, st: DialogState, env: Env) -> str | None:
        return None if "answer" in st.data else "confirm"

    async def prompt(self, st: DialogState, env: Env) -> str:
        return str(st.data.get("prompt") or texts.CONFIRM_AGAIN)

    async def accept(self, st: DialogState, text: str, env: Env) -> Any:
        answer = read_answer(text)
        if answer is None:
            return Invalid(texts.CONFIRM_AGAIN)
        expires = st.data.get("expires_at")  # absent in a cancel asked by the previous release
        lapsed = expires is not None and datetime.fromisoformat(expires) < env.ctx.now()
        st.data["answer"] = "lapsed" if lapsed else answer
        return st.data["answer"]

    async def finish(self, st: DialogState, env: Env) -> Finish:
        action, answer = _action(st), st.data["answer"]
        if answer == "lapsed":
            return Finish(texts.CONFIRM_LAPSED)
        if answer == "no":
            return Finish(DECLINED.get(action, texts.CONFIRM_DECLINED).format(code=st.data.get("code", "")))
        said = Env(ctx=env.ctx, owner=env.owner, text=st.data.get("text", ""))
        done = await EXECUTORS[action](said, st.data)
        return done if isinstance(done, Finish) else Finish(done)

    async def on_cancel(self, st: DialogState, env: Env) -> str:
        return DECLINED.get(_action(st), texts.CONFIRM_DECLINED).format(code=st.data.get("code", ""))


def _action(st: DialogState) -> Action:
    # A Flow.CANCEL_ORDER state saved by the previous release has no action: it was a cancel.
    return Action(st.data.get("action", Action.CANCEL_ORDER.value))


FORM = ConfirmForm()
