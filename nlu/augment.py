"""Training-time variants that teach the classifier what does *not* decide an intent.

Owners put their address in front of whatever they want ("我住3栋2单元502，想约…", "A区某某花园
1栋…扰民"). In the hand-written data an address mostly came with bind_house, so an address alone
read as binding. Each variant here prefixes a real example of another intent with an address or a
community name; the label stays that example's. Deterministic, so the cache key stays valid.
"""

from __future__ import annotations

from nlu.trainingdata import Example, TrainingData

_PREFIXES = (
    "我住{b}栋{u}单元{r}，",
    "{b}号楼{u}单元{r}，",
    "我是{b}-{u}-{r}的业主，",
    "{c}{b}栋{u}单元，",
    "{c}，",
    "我家{c}{b}号楼{r}，",
    "你好，我是{c}的业主，",
    "{b}栋{r}的，",
)
_COMMUNITIES = ("阳光花园", "锦绣家园", "金色港湾", "绿城小区", "幸福里", "东湖名苑", "B区万科城", "枫林雅苑")
# intents whose examples owners often lead with an address
_TARGETS = frozenset(
    {"order_service", "report_issue", "complain", "ask_price", "ask_order_status", "cancel_order",
     "ask_property_fee", "human_agent"}
)


def with_addresses(data: TrainingData, every: int = 3) -> list[Example]:
    """One address-prefixed copy of every ``every``-th example of the target intents."""
    out: list[Example] = []
    n = 0
    for ex in data.examples:
        if ex.intent not in _TARGETS:
            continue
        n += 1
        if n % every:
            continue
        k = n // every
        prefix = _PREFIXES[k % len(_PREFIXES)].format(
            b=k % 17 + 1, u=k % 4 + 1, r=100 * (k % 20 + 1) + k % 4 + 1, c=_COMMUNITIES[k % len(_COMMUNITIES)]
        )
        out.append(Example(prefix + ex.text, ex.intent))
    return out
