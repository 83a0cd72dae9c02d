"""Picks the real out-of-scope lines in sources/ from two public corpora (see eval/SOURCES.md).

    python -m nlu.data.sources.pick_corpus lccc toy_valid.txt
    python -m nlu.data.sources.pick_corpus risawoz zh_fewshot.json

lccc: thu-coai/CDial-GPT data/toy_valid.txt (commit 0f1f02ac101809f5d26c4fd78dba01df529db11b,
MIT licence), 2,000 Weibo post/reply pairs, one pair a line, characters separated by spaces, post
and reply separated by a tab. Only the post (first column) is used: a post is a message a person
wrote to start an exchange, a reply only makes sense next to its post (and most replies are
"哈哈", "谢谢", "嗯嗯"). A file that already holds one post per line (no tab) is read as is.
-> sources/lccc_weibo.txt

risawoz: RiSAWOZ (CC BY 4.0), the Chinese few-shot dialogues stored in stanford-oval/dialogues
dialogues/risawoz/data/original/zh_fewshot.json (commit cd26f6db51af31a3aae73ac0e8a06ff06bde2127):
the user turns ("user_utterance"), never the wizard's. A .json file gives every user turn of every
dialogue; any other file is read as one user turn a line. -> sources/risawoz_user.txt

Each filter drops a line for the first reason that applies and prints how many it dropped; the
lines left are sampled by a salted hash (not the first N), so the pick does not follow the
train/held-out split of make_oos.py, which hashes the unsalted text.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent

# the butler handles these, or they are near enough to what it handles that an owner could mean
# them: never train them as out of scope (the brief's list plus neighbours of each item)
_BUTLER = re.compile(
    r"物业|小区|业主|楼上|楼下|邻居|保安|门禁|电梯|"
    r"维修|修理|修一下|修好|坏了|坏掉|裂了|破了|碎了|漏水|接水|堵了|"
    r"保洁|打扫|帮我洗|脏|扫雪|老鼠|蟑螂|家政|阿姨|搬家|装修|快递|外卖|停车|车位|"
    r"水电|燃气|煤气|天然气|停水|停电|断电|断水|暖气|垃圾|"
    r"投诉|缴费|交费|物业费|房费|房租|推送|订阅|通知|消息|"
    r"评价|评分|打分|满意|调查|问卷|订单|退款|客服|售后|预约"
)
# social turns are intents of their own (greet, thanks, affirm, deny): make_oos's pattern, and
# the greetings and wishes Weibo posts are full of
_WISHES = re.compile(
    r"多谢|早安|午安|早啊|早好|晚好|上午好|中午好|下午好|晚上好|快乐|生快|恭喜|过年好|拜年|节哀"
)
# not for a repository: swearing, sex, violence, politics
_UNSAFE = re.compile(
    r"tm|辣鸡|垃圾|装比|小三|渣|杀|砍|揍|捶|打架|血|𥐰|脱了|内衣|胸|臀|睡你|摸摸|接吻|激吻|"
    r"快活|暖被窝|诱惑|勾引|思春|空姐|纳很多妾|"
    r"党|汉藏|城管|女权|海盗|病魔|化疗|手术|江歌|刘鑫|陈世峰"
)


def lccc_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        post = line.split("\t", 1)[0].replace(" ", "").strip()
        if post:
            out.append(post)
    return out


def risawoz_lines(path: Path) -> list[str]:
    if path.suffix == ".json":
        dialogues = json.loads(path.read_text(encoding="utf-8"))
        return [
            t["user_utterance"].strip()
            for d in dialogues
            for t in d["dialogue"]
            if t["user_utterance"].strip()
        ]
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


# name -> (reader, output file, percent of the filtered lines kept, header)
CORPORA = {
    "lccc": (
        lccc_lines,
        "lccc_weibo.txt",
        50,
        "# LCCC (Large-scale Cleaned Chinese Conversation), the sample in thu-coai/CDial-GPT\n"
        "# data/toy_valid.txt, commit 0f1f02ac101809f5d26c4fd78dba01df529db11b, MIT licence\n"
        "# (Copyright (c) 2020 lemon234071); Weibo posts collected by the LCCC authors.\n"
        "# Picked by sources/pick_corpus.py lccc: the post of each of the 2,000 pairs (not the reply),\n"
        "# spaces between characters removed; then the filters below; then {share} % of the rest by\n"
        "# sha256('{name}-pick:' + text). Not edited by hand.\n",
    ),
    "risawoz": (
        risawoz_lines,
        "risawoz_user.txt",
        100,
        "# RiSAWOZ (Quan et al., EMNLP 2020), data licence CC BY 4.0 (terryqj0107/RiSAWOZ README);\n"
        "# user turns of the Chinese few-shot dialogues in stanford-oval/dialogues (BSD-3-Clause),\n"
        "# dialogues/risawoz/data/original/zh_fewshot.json, commit cd26f6db51af31a3aae73ac0e8a06ff06bde2127.\n"
        "# Picked by sources/pick_corpus.py risawoz from every user turn in the 13 windows of 16,000\n"
        "# characters read through the public-code index, spread over the file (offsets 0, 89,000,\n"
        "# 178,000, 267,000, 356,000, 445,000, 534,000, 623,000, 712,000, 801,000, 890,000, 979,000,\n"
        "# 1,246,000 of 1,431,133): 110 turns of about 25 dialogues (film, TV, hospital, hotel,\n"
        "# restaurant, sights, computers, cars, flights, weather); a turn cut by a window edge was\n"
        "# taken from its segmented_user_utterance with the spaces removed; then the filters below;\n"
        "# {share} % kept. Not edited by hand.\n",
    ),
}
FILTERS_NOTE = (
    "# Dropped: length outside 2-40, traditional characters, greetings/thanks/yes/no/wishes, anything\n"
    "# a property butler would handle or that names a service of its catalogue, swearing, sex,\n"
    "# violence and politics, duplicates, lines already in nlu.yml, test_nlu.yml or eval/.\n"
)


def _t2s(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def _kept(name: str, text: str, share: int) -> bool:
    return int(hashlib.sha256(f"{name}-pick:{text}".encode()).hexdigest(), 16) % 100 < share


def _service_words() -> set[str]:
    """Every service name, synonym and lookup of the butler's catalogue (two characters or more)."""
    from nlu.catalog import SERVICES
    from nlu.trainingdata import TRAIN_FILE, load

    data = load(TRAIN_FILE)
    words = set(SERVICES) | set(data.synonyms) | set(data.lookups.get("service", ()))
    return {w for w in words if len(w) >= 2}


def main(argv: list[str]) -> int:
    from nlu.data.make_oos import SOCIAL
    from nlu.evaluate import load_examples
    from nlu.normalise import clean
    from nlu.trainingdata import EVAL_DIR, TEST_FILE, TRAIN_FILE, load

    name, src = argv[0], Path(argv[1])
    reader, out_name, share, header = CORPORA[name]
    taken = {clean(ex.text).text for f in (TRAIN_FILE, TEST_FILE) for ex in load(f).examples}
    for path in sorted(EVAL_DIR.iterdir()):
        # oos_corpus_heldout.txt is made from these very files by make_oos.py
        if path.suffix != ".md" and path.name != "oos_corpus_heldout.txt":
            taken |= {clean(ex.text).text for ex in load_examples(path).examples}
    services = _service_words()

    def names_service(t: str) -> bool:
        t = t.replace("电视剧", "")  # 电视 (TV repair, cable fees) is a service, a TV series is not
        return any(w in t for w in services)

    rules = [
        ("length outside 2-40", lambda t: not 2 <= len(t) <= 40),
        ("not simplified Chinese", lambda t: _t2s(t) != t),
        (
            "social (greeting, thanks, yes/no, wishes)",
            lambda t: bool(SOCIAL.search(t) or _WISHES.search(t)),
        ),
        ("a property butler would handle it", lambda t: bool(_BUTLER.search(t))),
        ("names a service of the butler's catalogue", names_service),
        ("swearing, sex, violence, politics", lambda t: bool(_UNSAFE.search(t.lower()))),
    ]
    lines = reader(src)
    print(f"{name}: lines read: {len(lines)}")
    dropped = {n: 0 for n, _ in rules} | {
        "duplicate": 0,
        "already in nlu.yml, test or eval files": 0,
    }
    seen: set[str] = set()
    left = []
    for t in lines:
        reason = next((n for n, rule in rules if rule(t)), None)
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
    for n, count in dropped.items():
        print(f"dropped, {n}: {count}")
    picked = [t for t in left if _kept(name, t, share)]
    print(f"left after filters: {len(left)}; kept by hash ({share} %): {len(picked)}")
    out = HERE / out_name
    out.write_text(
        header.format(share=share, name=name) + FILTERS_NOTE + "\n".join(picked) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
