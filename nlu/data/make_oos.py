"""Builds nlu/data/oos.yml (out-of-scope training examples) and the held-out negatives file.

Sources (see nlu/README.md for licences):
  - chatterbot-corpus 1.3.3 (PyPI, BSD-3-Clause), its data/chinese/*.yml chit-chat conversations;
  - nlu/data/sources/general_requests.txt, general phone-assistant requests written for this project;
  - nlu/data/sources/lccc_weibo.txt, real Weibo posts from the LCCC sample in thu-coai/CDial-GPT
    (MIT), and nlu/data/sources/risawoz_user.txt, user turns of RiSAWOZ (CC BY 4.0), both picked by
    sources/pick_corpus.py; their held-out lines go to eval/oos_corpus_heldout.txt.
Every line is assigned to training or to the held-out file by a hash of its text, so a line is
never in both and rebuilding is stable:

    pip download --no-deps chatterbot-corpus==1.3.3 -d /tmp/cb && unzip -q /tmp/cb/*.whl -d /tmp/cb
    python -m nlu.data.make_oos /tmp/cb/chatterbot_corpus/data/chinese
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
HELD_OUT_SHARE = 30  # percent of each source kept out of training, for `butler nlu eval`
# social replies are intents of their own (greet, thanks, affirm…), not out of scope
SOCIAL = re.compile(
    r"你好|您好|谢谢|感谢|再见|拜拜|^(?:是|对|好|嗯|不|没有|可以|行)|早上好|晚安|不客气"
)


def _held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 100 < HELD_OUT_SHARE


def chatterbot_lines(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for convo in doc.get("conversations") or ():
            for line in convo:
                line = str(line).strip().rstrip(".")
                if 2 <= len(line) <= 30 and not SOCIAL.search(line) and "\n" not in line:
                    out.append(line)
    return list(dict.fromkeys(out))


def source_lines(name: str) -> list[str]:
    path = HERE / "sources" / name
    return [
        ln.strip()
        for ln in path.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]


def main(argv: list[str]) -> int:
    general = source_lines("general_requests.txt")
    chat = chatterbot_lines(Path(argv[0])) if argv else []
    from nlu.normalise import clean
    from nlu.trainingdata import TEST_FILE, TRAIN_FILE, load

    # lines nlu.yml or the test file already hold stay where they are: never in two sets
    known = {clean(ex.text).text for f in (TRAIN_FILE, TEST_FILE) for ex in load(f).examples}
    lines = list(dict.fromkeys(t for t in general + chat if clean(t).text not in known))
    train = [t for t in lines if not _held_out(t)]
    held = [t for t in lines if _held_out(t)]
    # real corpus lines: same hash rule, their own held-out file; a line that cleans to one
    # already used above (or to another corpus line) is skipped, so no text is in two sets
    taken = known | {clean(t).text for t in lines}
    corpus = []
    for t in source_lines("lccc_weibo.txt") + source_lines("risawoz_user.txt"):
        if (key := clean(t).text) not in taken:
            taken.add(key)
            corpus.append(t)
    corpus_train = [t for t in corpus if not _held_out(t)]
    corpus_held = [t for t in corpus if _held_out(t)]
    body = "\n".join(f"      - {_quote(t)}" for t in train + corpus_train)
    (HERE / "oos.yml").write_text(
        "# Out-of-scope examples (nlu_fallback) from general-domain Chinese; built by\n"
        "# `python -m nlu.data.make_oos` from chatterbot-corpus (BSD-3-Clause) and\n"
        "# sources/general_requests.txt. Held-out lines are in eval/oos_heldout.txt, never here.\n"
        "# After them: real text, sources/lccc_weibo.txt (LCCC Weibo posts, MIT) and sources/risawoz_user.txt\n"
        "# (RiSAWOZ user turns, CC BY 4.0); their held-out lines are in eval/oos_corpus_heldout.txt.\n"
        'version: "3.1"\nnlu:\n  - intent: nlu_fallback\n    examples: |\n' + body + "\n",
        encoding="utf-8",
    )
    (HERE / "eval").mkdir(exist_ok=True)
    (HERE / "eval" / "oos_heldout.txt").write_text("\n".join(held) + "\n", encoding="utf-8")
    (HERE / "eval" / "oos_corpus_heldout.txt").write_text(
        "\n".join(corpus_held) + "\n", encoding="utf-8"
    )
    print(
        f"oos.yml: {len(train)} + {len(corpus_train)} corpus examples; eval/oos_heldout.txt: {len(held)}; "
        f"eval/oos_corpus_heldout.txt: {len(corpus_held)}"
    )
    return 0


def _quote(text: str) -> str:
    # Rasa reads each example as markdown-ish text: brackets would look like entity annotations
    return text.replace("[", "【").replace("]", "】").replace("(", "（").replace(")", "）")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
