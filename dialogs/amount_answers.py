"""The owner's answer to an amount waiting for them (storage/amounts.py): 确认金额 or 金额有误.

Checked before any pending dialog, because the question arrives by notice while the owner may be
in the middle of something else; the words are specific enough never to be a form answer.
"""

from __future__ import annotations

from dialogs import choices, people, texts
from dialogs.form import Env
from storage import amounts, outbox
from storage.events import StaffAlert

CONFIRM_WORDS = frozenset({"确认金额", "金额无误", "金额没问题", "确认付款"})
DISPUTE_WORDS = frozenset({"金额有误", "金额不对", "金额错了", "金额有问题"})


async def answer(env: Env) -> str | None:
    """The reply when the owner answered an amount question; None when the text is something else."""
    word = choices.squash(env.text).rstrip("。.!！")
    if word not in CONFIRM_WORDS and word not in DISPUTE_WORDS:
        return None
    order = await amounts.awaiting_owner(session=env.session, owner_id=env.owner.id)
    if order is None:
        return texts.AMOUNT_NONE
    notes = env.ctx.amount_notes
    if notes is None:
        raise RuntimeError("the hub context has no amount_notes (bot/runtime.py sets them)")
    if word in CONFIRM_WORDS:
        return await amounts.confirm(session=env.session, order=order, owner_text=texts.owner_text, say=notes)
    amount, method = await amounts.dispute(session=env.session, order=order, say=notes)
    outbox.emit(env.session, StaffAlert(text=texts.STAFF_AMOUNT_DISPUTED.format(
        code=order.code, service=order.service.name, amount=amount, method=method,
        phone=f"{people.label(env.owner)}，{order.contact_phone or env.owner.phone or '未留电话'}",
    )))
    return texts.AMOUNT_DISPUTED.format(code=order.code)
