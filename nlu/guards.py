"""Checks after the classifier that keep a guess from becoming an action.

The classifier is statistical; these are the readings a person would never get wrong and the
data cannot be trusted to teach: a negated request, an address with nothing else, an opt-out
that says nothing about messages, a 没收到消息 complaint, a yes that is really a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nlu.negation import negated, not_received
from nlu.result import Entity

# intents that make something happen that others see, or that change consent or money
ACTIONS = frozenset(
    {
        "order_service",
        "cancel_order",
        "bind_house",
        "complain",
        "report_issue",
        "unsubscribe_push",
        "resubscribe_push",
        "rate_service",
        "start_survey",
    }
)
# Two actions that read as one question, "is something wrong that the property must see to?":
# owners' letters mix a fault and a grievance (楼道灯一直没亮过，也没人管), and the classifier
# splits its confidence between them. Whether the message is in scope is decided on their sum;
# which of the two it is, by the larger. Both are confirmed by the owner before anything happens.
GRIEVANCES = frozenset({"complain", "report_issue"})


def action_support(intent: str, confidence: float, ranking: Iterable[tuple[str, float]]) -> float:
    """The confidence an action's threshold is checked against: its own, or for a grievance
    that plus the other grievance's (the calibration in nlu.model counts it the same way)."""
    if intent not in GRIEVANCES:
        return confidence
    return confidence + sum(c for name, c in ranking if name in GRIEVANCES and name != intent)


# a community name as owners write it: 翠苑小区, 山水嘉园, A2区, 阳光花园二期 (one or two of them)
_COMMUNITY = (
    r"(?:[a-z]?\d*区)?[\u4e00-\u9fa5a-z0-9]{1,8}?"
    r"(?:小区|花园|家园|新村|公寓|社区|大厦|名苑|雅苑|华庭|庄园|广场|苑|园|府|湾|城|庭|邸|郡|轩|阁|里|湾)(?:[一二三四五六七八九十\d]期)?"
    r"|[a-z]\d{0,2}区"
    # a street address: 幸福路88号, 解放大街12号 (88 there is a number, not 拜拜)
    r"|[\u4e00-\u9fa5]{1,8}?(?:路|街|大道|大街|巷|弄|胡同)\d*"
)
_COMMUNITY_ONLY = re.compile(rf"(?:{_COMMUNITY}){{1,2}}")
# a name never holds these: 电梯坏了翠苑 is a report, not a place
_CONTENT = re.compile(r"[坏修漏吵闹响停堵脏乱臭要想约请帮找问投诉订退取消报吗呢吧么啥怎谁哪多少没不别]")
_ADDRESS_ENTITIES = frozenset({"building", "unit", "room", "phone"})
# what may surround an address without saying anything (我住/业主 do say something: binding)
_FILLER = re.compile(r"[的号室在,，。.!！?？\s~、:：-]")
# opt-out / opt-in must say something about messages or subscribing
_PUSH_CUE = re.compile(
    r"推送|通知|消息|广告|订阅|退订|营销|提醒|推荐|推了|推活动|活动|优惠|发了|别发|再发|发送|打扰|骚扰|td|关注"
)
_SURVEY_CUE = re.compile(r"问卷|调查|调研|答题|意见|问题|回访|征集|建议|开始问|问吧")
# A yes is an answer, not a request: what an affirm may hold besides its yes-words. 我要听粤语歌
# and 播放琵琶行 (real smart-speaker requests) read as affirm on 要/听/好 alone.
_ANSWER_WORDS = re.compile(
    r"好[的滴嘞吧啊呀]?|是[的呀啊]?|对[的呀啊]?|嗯+|行|可以|没问题|没错|没毛病|当然|确认|确定|同意|需要|要"
    r"|ok|yes|就这样|就这么[办定着]?|定了|听你的|无误|下单|谢谢|麻烦|辛苦|这个|这样|就是|那|我|你|您|了|的|吧|啊|呀|呢|哈|啦"
)
_ANSWER_SLACK = 2  # characters an affirm may carry beyond its yes-words (好的师傅, 对就是他)
# a fault the owner says was left alone (电梯三天了还没修好, 坏了一个月都没人管) is dissatisfaction
# with the service, a complaint (SOURCES.md's rule), not a first report: the real letters in
# training taught the model that fault words alone mean report_issue
_LEFT_UNREPAIRED = re.compile(r"(?:还|都|也|一直|始终|迟迟|仍然?|至今|依然)(?:是)?(?:没|没有|不|未)人?(?:修|管|处理|解决|来人?|弄)")
# a neighbour doing something (邻居在走廊堆杂物, 对门家里一股猫尿味, 有人把电动车推进楼道) is a person's
# behaviour, a complaint under the labelling rule, though it names a shared place; 听邻居说 and
# 住户 as the ones who suffer are not matched, nor 有人在 (有人在电梯里被困 is a report)
_NEIGHBOUR_DOING = re.compile(
    r"(?:邻居|对门|隔壁)(?:家里|家|的)?(?:在|把|往|乱|天天|总是|老是|一直|私自|占|养|一股)"
    r"|有人(?:把|往|乱|私自|占)"
)
# 好/是/对 glued to a word is that word's adverb or verb, not a yes: 好臭啊, 好吵, 对面, 是我家的.
# What may follow one and still leave a yes: particles and more yes-words (好啊, 对对对, 对就是他);
# dialogs/confirm.py reads a pending question's answer with the same set.
YES_CHAR_FOLLOWERS = "的滴嘞吧啊呀哦喔嗯哈了好是对就"
_GLUED_YES = re.compile(rf"^[好是对](?![{YES_CHAR_FOLLOWERS}]|$)")


# a comment on food (太难吃了, 米饭给得太少, 味道还不错) is a restaurant review, not a complaint or a
# rating an estate can act on, unless it names the estate, a person or a service of ours
_FOOD_TASTE = re.compile(
    r"难吃|好吃|味道|口味|口感|太咸|好咸|很咸|太淡|太辣|不辣|太甜|腥味|油腻|夹生|没熟|菜量|分量|份量|米饭|饭菜|菜品"
)
_ESTATE_ANCHOR = re.compile(
    r"物业|小区|业主|楼|电梯|保安|保洁|单元|门禁|车位|车库|邻居|师傅|阿姨|维修|上门|社区|居委会|管家|食堂|送餐|助餐|配餐"
)
FOOD_REVIEW_INTENTS = frozenset({"complain", "rate_service", "order_service"})


def food_review(intent: str, text: str, entities: Iterable[Entity]) -> bool:
    """True when ``text`` only comments on food: no estate word, person or service named."""
    return (
        intent in FOOD_REVIEW_INTENTS
        and bool(_FOOD_TASTE.search(text))
        and not _ESTATE_ANCHOR.search(text)
        and not any(e.entity == "service" for e in entities)
    )


def address_only(text: str, entities: Iterable[Entity]) -> bool:
    """True when, without its address, community name and phone, the text says nothing."""
    keep = [True] * len(text)
    for e in entities:
        if e.entity in _ADDRESS_ENTITIES:
            for i in range(e.start, min(e.end, len(text))):
                keep[i] = False
    rest = _FILLER.sub("", "".join(c for c, k in zip(text, keep, strict=True) if k))
    if len(rest) == len(text):  # no address entity: is the whole text a community name?
        rest = _FILLER.sub("", text)
    if not rest:
        return True
    return bool(_COMMUNITY_ONLY.fullmatch(rest)) and not _CONTENT.search(rest)


def review(intent: str, text: str, masked: str, entities: tuple[Entity, ...]) -> str | None:
    """A safer intent when ``intent`` cannot stand for ``text``, else None (keep it).

    ``text`` is the cleaned, punctuation-free message the classifier saw, ``masked`` the same
    with entity placeholders, ``entities`` found in ``text``.
    """
    if intent == "affirm" and (len(_ANSWER_WORDS.sub("", text)) > _ANSWER_SLACK or _GLUED_YES.match(text)):
        return "nlu_fallback"
    if intent != "nlu_fallback" and address_only(text, entities):
        return "nlu_fallback"  # an address alone is no greeting or question either (幸福路88号)
    if intent not in ACTIONS:
        return None
    if negated(intent, masked):
        return "deny"
    if food_review(intent, text, entities):
        return "nlu_fallback"
    if intent in ("unsubscribe_push", "resubscribe_push"):
        if not_received(text) or not _PUSH_CUE.search(text):
            return "nlu_fallback"
        if re.search(r"吗|么|没有?$|了没", text) and not re.search(r"能|可以|怎么|如何", text):
            return "nlu_fallback"  # 收到消息了吗 asks, it does not switch anything
    if intent == "start_survey" and not _SURVEY_CUE.search(text):
        return "nlu_fallback"
    if intent == "report_issue" and (_LEFT_UNREPAIRED.search(text) or _NEIGHBOUR_DOING.search(text)):
        return "complain"
    return None
