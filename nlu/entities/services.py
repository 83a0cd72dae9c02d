"""Service gazetteer: canonical names plus synonyms, longest match, one-typo tolerant."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from nlu.catalog import SERVICES
from nlu.result import Entity

_FUZZY_MIN_LEN = 3  # shorter keys would match too much with one character changed
# A bare thing (电视, 空调, 水管) is a repair service unless the owner is plainly just using,
# buying or watching it with nothing wrong: 我想看电视 and 打开空调 order nothing.
_REPAIR_SERVICES = frozenset({"家居家电维修", "水电暖气管道"})
_USE_CUE = re.compile(r"看(?!看|一下|下)|听|买|玩|打开|开着|关掉|关上|调到|调高|调低|搬|送人|追剧|节目|频道|遥控")
_REPAIR_CUE = re.compile(
    r"修|坏|故障|制冷|制热|漏|渗|不亮|不转|没反应|异响|清洗|安装|拆|换|加氟|保养|检修|不出|打不开|"
    r"关不上|不工作|不能用|用不了|滴|黑屏|花屏|堵|毛病|问题|师傅|上门|失灵|冒|跳闸|不通|不热|噪音|"
    r"爆|裂|断|没信号|没电|没水|不好使|不灵|卡住|碎|打不着|响声"
)
_CLAUSE_END = re.compile(r"[,，。.!！?？;；\s]")
# words a service name sits inside without meaning the service: 养老保险 is not 车险
_NOT_SERVICE = re.compile(
    r"(?:养老|医疗|社会|失业|工伤|生育|人寿|健康|五险|社)保险?|保险(?:柜|箱|丝|公司|单号)|七星彩|"
    r"电视剧|电视台|电视节目|空调房|冰箱贴|群租房|群租"
)


class ServiceGazetteer:
    """Finds service mentions and maps them to the 33 canonical names."""

    def __init__(self, synonyms: Mapping[str, str], lookups: Iterable[str] = ()) -> None:
        self._exact: dict[str, str] = {}
        for surface, canonical in synonyms.items():
            if canonical in SERVICES:
                self._exact[surface] = canonical
        for name in SERVICES:
            self._exact[name] = name
        for surface in lookups:
            # lookup entries that are not synonyms only count when they are canonical already
            if surface in SERVICES:
                self._exact[surface] = surface
        self._lengths = sorted({len(k) for k in self._exact}, reverse=True)
        # one-substitution index over the canonical names only (钟点公 -> 钟点工): single Chinese
        # characters carry meaning, so fuzzing colloquial synonyms made 电梯坏了 read as 电视坏了
        self._fuzzy: dict[str, str | None] = {}
        for key in SERVICES:
            if len(key) < _FUZZY_MIN_LEN:
                continue
            for i in range(1, len(key)):
                pattern = key[:i] + "\0" + key[i + 1 :]
                prior = self._fuzzy.get(pattern, key)
                # a pattern shared by two services (自驾游/自助游) is ambiguous: drop it
                self._fuzzy[pattern] = key if prior == key else None
        self._fuzzy_lengths = sorted({len(k) for k in self._fuzzy}, reverse=True)

    def canonical(self, surface: str) -> str | None:
        """Canonical name for a surface form (exact, then one typo), or None."""
        surface = surface.strip()
        if surface in self._exact:
            return self._exact[surface]
        found = self.find(surface)
        return found[0].value if found else None

    def find(self, text: str) -> list[Entity]:
        """All non-overlapping service mentions in ``text``, left to right, longest first."""
        out: list[Entity] = []
        i, n = 0, len(text)
        blocked = [(m.start(), m.end()) for m in _NOT_SERVICE.finditer(text)]
        exact = [self._match_exact(text, k) for k in range(n)]  # once per text, reused below
        while i < n:
            hit = exact[i] or self._match_fuzzy(text, i, exact)
            if hit is None:
                i += 1
                continue
            length, canonical = hit
            if any(a <= i < b or a < i + length <= b for a, b in blocked) or not self._in_context(
                text, i, i + length, canonical
            ):
                i += 1
                continue
            prev = out[-1] if out else None
            if prev is not None and prev.value == canonical and i - prev.end <= 1:
                # 家教补英语 / 马桶又堵住了: one mention, not two
                out[-1] = Entity("service", canonical, prev.start, i + length)
            else:
                out.append(Entity("service", canonical, i, i + length))
            i += length
        return out

    @staticmethod
    def _in_context(text: str, start: int, end: int, canonical: str) -> bool:
        """A repair service named by a bare thing is out when its clause only uses the thing."""
        if canonical not in _REPAIR_SERVICES or _REPAIR_CUE.search(text[start:end]):
            return True
        a = start
        while a > 0 and not _CLAUSE_END.match(text[a - 1]):
            a -= 1
        b = end
        while b < len(text) and not _CLAUSE_END.match(text[b]):
            b += 1
        around = text[a:start] + " " + text[end:b]
        return not _USE_CUE.search(around) or bool(_REPAIR_CUE.search(around))

    def _match_exact(self, text: str, i: int) -> tuple[int, str] | None:
        for length in self._lengths:
            canonical = self._exact.get(text[i : i + length])
            if canonical is not None and i + length <= len(text):
                return length, canonical
        return None

    def _match_fuzzy(
        self, text: str, i: int, exact: list[tuple[int, str] | None]
    ) -> tuple[int, str] | None:
        for length in self._fuzzy_lengths:
            window = text[i : i + length]
            if len(window) < length:
                continue
            if any(exact[i + 1 : i + length]):
                continue  # 养老保险 holds the exact 保险: no one-typo 养老保健 over it
            for j in range(1, length):
                canonical = self._fuzzy.get(window[:j] + "\0" + window[j + 1 :])
                if canonical:
                    return length, canonical
        return None
