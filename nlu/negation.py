"""Negation scope: "我不想取消订单" is not a request to cancel, "不需要保洁" is not an order.

The classifier sees 不 as one character among many; a person reads it as applying to the verb
right after it. Only volitional negators count (不想/不要/不用/别…): 灯不亮 and 没热水 describe a
fault and keep their intent. A negated action becomes ``deny`` (the owner is saying no), except
where the negation *is* the request (不想再收到推送 opts out).
"""

from __future__ import annotations

import re

# volitional negators, longest first; a bare 不 (不修, 不来) describes, it does not refuse
_NEG = (
    r"(?:不太想|不大想|不想|不要|不需要|不需|不用|不必|无需|无须|没必要|甭|别|不打算|不准备|不愿意|"
    r"不愿|没想|没打算|不再需要|暂时不|先不|"
    # 我没说要保洁 / 谁说要取消了 / 没让你们来: the owner denies having asked
    r"没说过?|没有说过?|谁说|没让|没叫)"
)
# what may stand between the negator and the verb: 不想[再][帮我]取消, 别[给我]约
_GAP = r"(?:再|去|先|帮我|给我|帮忙|麻烦|让你们|你们|我|就|还|这么快|现在|要|想)*"
_VERB = {
    "order_service": r"(?:Ｓ|预约|约|订|下单|叫|请|找|安排|要|需要|上门|来|服务|做|弄|搞|办)",
    "cancel_order": r"(?:取消|退单|退掉|撤销|撤单|退订单|不要了)",
    "bind_house": r"(?:绑定|绑|认证|登记|关联)",
    "complain": r"(?:投诉|举报|告你们)",
    "report_issue": r"(?:报修|报告|上报|反映|修)",
    "unsubscribe_push": r"(?:退订|取消订阅|取消推送|取消|关闭|关掉|关)",
    "resubscribe_push": r"(?:恢复|订阅|开启|打开|开通|重新)",
    "start_survey": r"(?:参加|做|填|参与|答|接受)",
    "rate_service": r"(?:评价|打分|评分|评)",
}
_SCOPES = {
    intent: re.compile(_NEG + _GAP + verb) for intent, verb in _VERB.items()
}


def negated(intent: str, text: str) -> bool:
    """True when ``text`` (normalised; services may be masked as Ｓ) negates the action ``intent``."""
    scope = _SCOPES.get(intent)
    if scope is None:
        return False
    m = scope.search(text)
    if m is None:
        return False
    # 不想再收到推送 is the opt-out itself: only a negated 退订/取消/关闭 is a refusal of it
    return intent != "unsubscribe_push" or bool(re.search(r"退订|取消|关闭|关掉", m.group(0)))


def not_received(text: str) -> bool:
    """'没收到消息' / '怎么收不到通知': the owner misses messages, they do not opt anything."""
    return bool(re.search(r"(?:没|没有|未)(?:有)?(?:收到|接到|看到)|收不到|接不到|看不到", text))


_PUSH_REFUSAL = re.compile(r"(?:别|不要|不想|不用|停止|停掉|关闭|关掉|取消)(?:再|给我|帮我|老是|总是|天天)*(?:推|发|通知|打扰)")


def refuses_push(text: str) -> bool:
    """别再给我推送 / 不要再发活动了: a refusal of messages, whichever way the model leaned."""
    return bool(_PUSH_REFUSAL.search(text))
