"""Attack 3: owners' private details never reach the merchant group through the order notes.

A table of notes as owners really type them (phones with separators, full-width, in Chinese
numerals; rooms; names; ID numbers) goes through the scrubber and must come out with nothing
identifying. Then one order placed by chatting on WeChat: its job card in the merchant group
hides the details, and the merchant who wins it gets them privately.
"""

from __future__ import annotations

import re

import pytest

from bot.app import RELAY
from bot.telegram.cards import JobCb
from storage.privacy import scrub
from tests.dialogs.conftest import OwnerChat
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    TgHub,
    fake_telegram,
    job_button,
    make_world,
    tg_hub,
)

__all__ = ["fake_telegram", "tg_hub"]  # fixtures

# (note, the pieces that identify the owner and must not survive)
NOTES: list[tuple[str, list[str]]] = [
    ("手机138.1234.5678，502房，我叫张三", ["1234", "5678", "502", "张三"]),
    ("1381 234 5678 房间号502", ["1381", "5678", "502"]),
    ("电话一三八一二三四五六七八", ["一三八", "五六七八"]),
    ("电话幺三八 幺二三四 五六七八，找王先生", ["幺三八", "五六七八", "王"]),
    ("１３８１２３４５６７８ 请打电话", ["１３８", "５６７８"]),
    ("联系：+86 139-1234-5678，李女士", ["1234", "5678", "李"]),
    ("电话：①③⑧①②③④⑤⑥⑦⑧", ["①③⑧"]),
    ("我是赵六，住3-2-502", ["赵六", "502"]),
    ("我姓孙，5栋1单元1502", ["孙", "1502"]),
    ("住五零二室，身份证110101199003071234", ["五零二", "110101", "1234"]),
    ("身份证号：11010119900307123X", ["110101", "123X"]),
    ("证件 １１０１０１１９９００３０７１２３Ｘ", ["１１０", "１２３"]),
    ("二〇一室的钥匙在门卫，联系人陈静", ["二〇一", "陈静"]),
    ("房号：1502，欧阳先生", ["1502", "欧阳"]),
    ("微信号 zhang_san88 加我", ["zhang_san88"]),
    ("找老周就行，1 3 9 8 7 6 5 4 3 2 1", ["老周", "9 8 7 6"]),
    ("我叫刘德华，12室", ["刘德华", "12室"]),
    ("邮箱 wangwu@example.com", ["wangwu", "example"]),
]
# What a merchant does need before 接单 stays readable.
KEPT = [
    ("周六上午 10点以后，需要2个阿姨，面积120平", "周六上午 10点以后，需要2个阿姨，面积120平"),
    ("预算200元，大概3小时", "预算200元，大概3小时"),
    ("我是业主，家里空调不制冷", "我是业主，家里空调不制冷"),
    ("打扫两个房间和厨房", "打扫两个房间和厨房"),
]
_CN = "〇零一二三四五六七八九幺两"


def _long_digit_runs(text: str) -> list[str]:
    """Runs of three or more digits in any script, separators allowed inside."""
    folded = "".join(str(d) if (d := _digit(ch)) is not None else ch for ch in text)
    return re.findall(r"\d(?:[\s.\-—_/,，、]*\d){2,}", folded)


def _digit(ch: str) -> int | None:
    import unicodedata

    if ch in _CN:
        return 0 if ch in "〇零" else 1 if ch == "幺" else 2 if ch == "两" else _CN.index(ch) - 1
    return unicodedata.digit(ch, None)


@pytest.mark.parametrize(("note", "secrets"), NOTES)
def test_nothing_identifying_survives_the_scrubber(note: str, secrets: list[str]) -> None:
    out = scrub(note)
    for secret in secrets:
        assert secret not in out, (note, out, secret)
    assert not _long_digit_runs(out), (note, out)


@pytest.mark.parametrize(("note", "expected"), KEPT)
def test_what_a_merchant_needs_is_kept(note: str, expected: str) -> None:
    assert scrub(note) == expected


async def test_an_order_typed_on_wechat_reaches_the_group_scrubbed_and_the_winner_in_full(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    owner = OwnerChat(hub, world.owner_openid)
    first = "明天上午请个阿姨打扫卫生，手机138.1234.5678，502房，我叫张三"
    reply = await owner.say(first)
    assert "请确认您的预约" in reply, reply
    done = await owner.say("1")
    code = re.search(r"订单号 ([A-Z0-9]{6})", done).group(1)  # type: ignore[union-attr]
    await hub.client.app[RELAY].drain()
    (card,) = [c for c in tg_hub.fake.sent_to(MERCHANT_CHAT) if code in c.text]
    assert "打扫卫生" in card.text
    for secret in ("138", "1234", "5678", "502", "张三", "王女士", "13800138000"):
        assert secret not in card.text, (secret, card.text)
    order_id = JobCb.unpack(card.buttons()[0]["callback_data"]).order_id
    await tg_hub.press(world.merchants["张师傅"], job_button(order_id))
    (slip,) = tg_hub.fake.sent_to(world.merchants["张师傅"])
    assert "138.1234.5678" in slip.text and "张三" in slip.text and "502房" in slip.text
