"""Copies a Rasa training file keeping only the examples of at most MAX_CHARS characters.

Run by run.sh (with the Rasa venv's Python, so only PyYAML) on data/real_indomain.yml: DIET pads
every batch to its longest example, and the few real letters of 300-650 characters made an epoch
~8x slower (49 s instead of 6 s, 80 epochs). The Rasa backend reads a long message clause by
clause at parse time (nlu/rasa_client.py), as the embedded parser does past its LONG_TEXT of 60.

    python short_lines.py SRC DEST
"""

from __future__ import annotations

import sys

import yaml

MAX_CHARS = 60  # nlu.embedded.LONG_TEXT: longer texts are read by clauses anyway


def main(src: str, dest: str) -> int:
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    kept = dropped = 0
    out = ['version: "3.1"', "nlu:"]
    for block in doc.get("nlu") or ():
        if "intent" not in block:
            continue
        lines = [ln.strip() for ln in str(block.get("examples", "")).splitlines() if ln.strip()]
        short = [ln for ln in lines if len(ln.removeprefix("- ").strip()) <= MAX_CHARS]
        kept, dropped = kept + len(short), dropped + len(lines) - len(short)
        if short:  # a block literal, as in the source: no quoting to get wrong
            out += [f"  - intent: {block['intent']}", "    examples: |", *(f"      {ln}" for ln in short)]
    with open(dest, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"rasa: {kept} examples of <= {MAX_CHARS} characters from {src}, {dropped} longer left out", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
