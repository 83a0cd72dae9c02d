"""Reading an owner's words before acting on the NLU's guess: negation, consent cues, clauses.

The classifier scores its worst mistakes 0.99 (docs: issue 13), so an action whose intent the
owner's own words contradict is not taken: "我不需要保洁服务" is no order, "我没收到消息" is no
opt-out. These checks only ever hold an action back; they never start one.
"""

from __future__ import annotations

import re

# Wanting not to: 不想/不要/不用/不需要/别 … ("别" but not 别人/别墅/特别/区别 …).
# Courtesies that are no refusal stay out: 不用急/不着急/不用谢/别急/不要紧.
_NOT_WANT = re.compile(
    r"不想|不要(?!紧|急)|不用(?!急|着急|谢|客气)|不需要|不必(?!急|着急)|无需|没必要"
    r"|(?<![特区分级性类告识辨])别(?![人墅处的样家扭急着])"
    r"|不(?=取消|退|预约|约|下单|安排|绑定|找人工)|没(?=打算|想|必要)"
)
# What each unconfirmed action is called; a refusal must come before one of these words in the same
# clause ("不要周末来，明天上午请阿姨打扫" refuses nothing). Complaints, reports, ratings and consent
# are not here: they are always confirmed, and an angry "你们别再拖了，我要投诉" must still reach staff.
_ACTION_WORDS = {
    "order_service": "预约|下单|安排|服务|请人|派人|上门|叫人",
    "cancel_order": "取消|退单|退掉",
    "bind_house": "绑定",
    "start_survey": "问卷|调研|调查",
    "human_agent": "人工|客服",
}
_CLAUSE = re.compile(r"[，,。！？!?；;\n]")
# What an opt-out or opt-in is about, and words that ask for one. Both must be there.
_PUSH_TOPIC = re.compile(r"推送|消息|通知|信息|广告|活动|优惠|订阅|打扰|骚扰|发")
_OPT_OUT = re.compile(r"不想|不要|别|不用|不需要|不再|退订|取消|停|关|屏蔽|拒收|太多|烦|打扰|骚扰|少发")
_SELF_SUFFICIENT_OPT_OUT = re.compile(r"退订|取消订阅|取消关注推送|^\s*td\s*$", re.IGNORECASE)
_OPT_IN = re.compile(r"恢复|重新|开启|打开|继续|再次|订阅|开通")
_MISSED = re.compile(
    r"(没|没有|未|收不)收?到.{0,6}(消息|通知|信息|短信|推送)|(消息|通知|信息|短信|推送).{0,4}(没|没有|未|收不)收?到"
)
# Clause breaks between two requests: sentence ends, and joining words after a comma.
_CLAUSE_BREAK = re.compile(r"[。！？!?；;\n]+|[，,、]\s*(?=另外|还有|顺便|再就是|以及|对了|然后)|(?<=[^，,\s])(?=另外|顺便|对了)")
_LEAD_WORDS = re.compile(r"^(另外|还有|顺便问下|顺便问一下|顺便|再就是|以及|对了|然后)[，,\s]*")


def negated(text: str, intent: str, target: str = "") -> bool:
    """The owner refuses the action the NLU read (不需要保洁服务, 不想取消订单); `target` is the
    service as they said it (保洁)."""
    words = _ACTION_WORDS.get(intent)
    if words is None:
        return False
    pattern = re.compile(words + (f"|{re.escape(target)}" if target else ""))
    for clause in _CLAUSE.split(text):
        refusal = _NOT_WANT.search(clause)
        if refusal and pattern.search(clause, refusal.end()):
            return True
    return False


def asks_opt_out(text: str) -> bool:
    """The words really ask to stop pushes ("不想再收到推送"), not "我没收到消息" or "给杨凯发短信"."""
    if _SELF_SUFFICIENT_OPT_OUT.search(text):
        return True
    return bool(_PUSH_TOPIC.search(text) and _OPT_OUT.search(text)) and "短信" not in text


def asks_opt_in(text: str) -> bool:
    """The words really ask to receive pushes again ("恢复推送"), not "测试消息"."""
    return bool(_OPT_IN.search(text)) and not _NOT_WANT.search(text) and "短信" not in text


def missed_message(text: str) -> bool:
    """The owner says a message did not arrive ("我没收到消息"): a question, never an opt-out."""
    return bool(_MISSED.search(text))


def clauses(text: str) -> list[str]:
    """The message split where a second request starts (。！？；, "，另外", "还有", "顺便" …)."""
    parts = [_LEAD_WORDS.sub("", p.strip(" ，,")) for p in _CLAUSE_BREAK.split(text)]
    return [p for p in parts if len(p) >= 2]
