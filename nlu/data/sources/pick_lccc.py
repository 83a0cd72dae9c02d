"""Picks the out-of-scope lines of sources/lccc_weibo.txt from the LCCC sample in CDial-GPT.

Input: thu-coai/CDial-GPT data/toy_valid.txt (commit 0f1f02ac101809f5d26c4fd78dba01df529db11b,
MIT licence), 2,000 Weibo post/reply pairs, one pair a line, characters separated by spaces, post
and reply separated by a tab. Only the post (first column) is used: a post is a message a person
wrote to start an exchange, a reply only makes sense next to its post (and most replies are
"哈哈", "谢谢", "嗯嗯"). A file that already holds one post per line (no tab) is read as is.

    python -m nlu.data.sources.pick_lccc toy_valid.txt

Each filter drops a line for the first reason that applies and prints how many it dropped; the
lines left are sampled by a salted hash (not the first N), so the pick does not follow the
train/held-out split of make_oos.py, which hashes the unsalted text.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "lccc_weibo.txt"
KEEP_SHARE = 50  # percent of the filtered lines kept

# the butler handles these, or they are near enough to what it handles that an owner could mean
# them: never train them as out of scope (the brief's list plus neighbours of each item)
_BUTLER = re.compile(
    r"物业|小区|业主|楼上|楼下|邻居|保安|门禁|电梯|"
    r"维修|修理|修一下|修好|坏了|坏掉|裂了|破了|碎了|漏水|接水|堵了|"
    r"保洁|打扫|帮我洗|脏|扫雪|老鼠|蟑螂|家政|阿姨|搬家|装修|快递|外卖|停车|车位|"
    r"水电|燃气|煤气|天然气|停水|停电|断电|断水|暖气|垃圾|"
    r"投诉|缴费|交费|物业费|推送|订阅|通知|消息|"
    r"评价|打分|满意|调查|问卷|订单|退款|客服|售后|预约"
)
# social turns are intents of their own (greet, thanks, affirm, deny); the first pattern is
# make_oos._SOCIAL unchanged, the second adds the greetings and wishes Weibo posts are full of
_SOCIAL = re.compile(r"你好|您好|谢谢|感谢|再见|拜拜|^(?:是|对|好|嗯|不|没有|可以|行)|早上好|晚安|不客气")
_WISHES = re.compile(r"多谢|早安|午安|早啊|早好|晚好|上午好|中午好|下午好|晚上好|快乐|生快|恭喜|过年好|拜年|节哀")
# not for a repository: swearing, sex, violence, politics
_UNSAFE = re.compile(
    r"tm|辣鸡|垃圾|装比|小三|渣|杀|砍|揍|捶|打架|血|𥐰|脱了|内衣|胸|臀|睡你|摸摸|接吻|激吻|"
    r"快活|暖被窝|诱惑|勾引|思春|空姐|纳很多妾|"
    r"党|汉藏|城管|女权|海盗|病魔|化疗|手术|江歌|刘鑫|陈世峰"
)


def posts(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        post = line.split("\t", 1)[0].replace(" ", "").strip()
        if post:
            out.append(post)
    return out


def _t2s(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def _kept(text: str) -> bool:
    return int(hashlib.sha256(("lccc-pick:" + text).encode()).hexdigest(), 16) % 100 < KEEP_SHARE


def main(argv: list[str]) -> int:
    from nlu.evaluate import load_examples
    from nlu.normalise import clean
    from nlu.trainingdata import EVAL_DIR, TEST_FILE, TRAIN_FILE, load

    taken = {clean(ex.text).text for f in (TRAIN_FILE, TEST_FILE) for ex in load(f).examples}
    for path in sorted(EVAL_DIR.iterdir()):
        if path.suffix != ".md":
            taken |= {clean(ex.text).text for ex in load_examples(path).examples}
    rules = [
        ("length outside 2-40", lambda t: not 2 <= len(t) <= 40),
        ("not simplified Chinese", lambda t: _t2s(t) != t),
        ("social (greeting, thanks, yes/no, wishes)", lambda t: bool(_SOCIAL.search(t) or _WISHES.search(t))),
        ("a property butler would handle it", lambda t: bool(_BUTLER.search(t))),
        ("swearing, sex, violence, politics", lambda t: bool(_UNSAFE.search(t.lower()))),
    ]
    lines = posts(Path(argv[0]))
    print(f"posts read: {len(lines)}")
    dropped = {name: 0 for name, _ in rules} | {"duplicate": 0, "already in nlu.yml, test or eval files": 0}
    seen: set[str] = set()
    left = []
    for t in lines:
        reason = next((name for name, rule in rules if rule(t)), None)
        key = clean(t).text
        if reason is None and key in seen:
            reason = "duplicate"
        if reason is None and key in taken:
            reason = "already in nlu.yml, test or eval files"
        if reason:
            dropped[reason] += 1
            continue
        seen.add(key)
        left.append(t)
    for name, n in dropped.items():
        print(f"dropped, {name}: {n}")
    picked = [t for t in left if _kept(t)]
    print(f"left after filters: {len(left)}; kept by hash ({KEEP_SHARE} %): {len(picked)}")
    header = (
        "# LCCC (Large-scale Cleaned Chinese Conversation), the sample in thu-coai/CDial-GPT\n"
        "# data/toy_valid.txt, commit 0f1f02ac101809f5d26c4fd78dba01df529db11b, MIT licence\n"
        "# (Copyright (c) 2020 lemon234071); Weibo posts collected by the LCCC authors.\n"
        "# Picked by sources/pick_lccc.py: the post of each of the 2,000 pairs (not the reply),\n"
        "# spaces between characters removed; dropped: length outside 2-40, traditional characters,\n"
        "# greetings/thanks/yes/no/wishes, anything a property butler would handle, swearing, sex,\n"
        "# violence and politics, duplicates, lines already in nlu.yml, test_nlu.yml or eval/; then\n"
        f"# {KEEP_SHARE} % of the rest by sha256('lccc-pick:' + text). Not edited by hand.\n"
    )
    OUT.write_text(header + "\n".join(picked) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
