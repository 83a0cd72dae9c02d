"""Survey definitions (YAML) and answer validation, shared by the chat dialog and staff recording.

```yaml
key: owner_needs_2017          # stable id for reloads
title: 业主调研表
intro: 想了解您家的需要，只有几个问题。
allow_repeat: false
questions:
  - key: has_car
    type: yesno                # single | multi | yesno | scale | number | text
    text: 您家有车吗？
    labels: [有, 没有]          # yesno only; default [是, 否]
  - key: car_services
    type: multi
    text: 哪些车管家服务您感兴趣？
    options: [修车, 审车, 保险]
    required: false
    when: {has_car: 有}         # asked only if every listed answer matches (a list = any of)
tags:
  - when: {has_car: 有}
    tag: 有车
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dialogs import choices, texts
from dialogs.form import Invalid

TYPES = ("single", "multi", "yesno", "scale", "number", "text")
_KEY = re.compile(r"^[A-Za-z0-9_\u4e00-\u9fff]{1,64}$")


class SpecError(ValueError):
    """The YAML does not describe a valid survey; `problems` lists every issue found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Question:
    """One question; `when` maps earlier question keys to the answers that make it apply."""

    key: str
    type: str
    text: str
    options: tuple[str, ...] = ()
    required: bool = True
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: tuple[str, str] = ("是", "否")

    @property
    def choices(self) -> tuple[str, ...]:
        """What the owner picks from (yes/no labels for a yes/no question)."""
        return self.labels if self.type == "yesno" else self.options


@dataclass(frozen=True)
class TagRule:
    """Set `tag` on the owner when every `when` condition matches their answers."""

    tag: str
    when: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class SurveySpec:
    """A validated survey definition."""

    key: str
    title: str
    intro: str
    allow_repeat: bool
    questions: tuple[Question, ...]
    tags: tuple[TagRule, ...]

    def question(self, key: str) -> Question:
        """A question by key."""
        return next(q for q in self.questions if q.key == key)


def _conditions(raw: Any, where: str, known: dict[str, Question], problems: list[str]) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: must be a mapping of question key to answer(s)")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        values = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        q = known.get(str(key))
        if q is None:
            problems.append(f"{where}: refers to {key!r}, which is not an earlier question")
            continue
        if q.choices:
            bad = [v for v in values if v not in q.choices]
            if bad:
                problems.append(f"{where}: {key!r} has no option {bad[0]!r} (options: {', '.join(q.choices)})")
        out[str(key)] = values
    return out


def parse_spec(raw: Any) -> SurveySpec:
    """Validate a loaded YAML document; raises SpecError listing every problem."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise SpecError(["the file must be a mapping with key, title and questions"])
    key, title = str(raw.get("key") or "").strip(), str(raw.get("title") or "").strip()
    if not key or not _KEY.match(key):
        problems.append("key: required (letters, digits, _ or Chinese, up to 64)")
    if not title:
        problems.append("title: required")
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append("questions: a non-empty list is required")
        raw_questions = []
    known: dict[str, Question] = {}
    for i, rq in enumerate(raw_questions):
        where = f"questions[{i}]"
        if not isinstance(rq, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        qkey, qtype, qtext = str(rq.get("key") or "").strip(), str(rq.get("type") or "").strip(), str(rq.get("text") or "").strip()
        where = f"questions[{i}] ({qkey or '?'})"
        if not qkey or not _KEY.match(qkey):
            problems.append(f"{where}: key is required")
        elif qkey in known:
            problems.append(f"{where}: duplicate key {qkey!r}")
        if qtype not in TYPES:
            problems.append(f"{where}: type must be one of {', '.join(TYPES)} (got {qtype!r})")
        if not qtext:
            problems.append(f"{where}: text is required")
        options = tuple(str(o).strip() for o in rq.get("options") or [])
        if qtype in ("single", "multi") and len(options) < 2:
            problems.append(f"{where}: a {qtype} question needs at least 2 options")
        if len(set(options)) != len(options):
            problems.append(f"{where}: options repeat")
        labels = tuple(str(x) for x in rq.get("labels") or ("是", "否"))
        if qtype == "yesno" and len(labels) != 2:
            problems.append(f"{where}: labels must be exactly two words, e.g. [有, 没有]")
            labels = ("是", "否")
        required = rq.get("required", True)
        if not isinstance(required, bool):
            problems.append(f"{where}: required must be true or false")
            required = True
        when = _conditions(rq.get("when"), f"{where}.when", known, problems)
        q = Question(key=qkey, type=qtype, text=qtext, options=options, required=required, when=when,
                     labels=(labels[0], labels[1]))
        if qkey:
            known[qkey] = q
    rules: list[TagRule] = []
    for i, rt in enumerate(raw.get("tags") or []):
        where = f"tags[{i}]"
        if not isinstance(rt, dict) or not str(rt.get("tag") or "").strip():
            problems.append(f"{where}: needs tag and when")
            continue
        when = _conditions(rt.get("when"), f"{where}.when", known, problems)
        if not when:
            problems.append(f"{where}: when is required")
        rules.append(TagRule(tag=str(rt["tag"]).strip()[:32], when=when))
    allow_repeat = raw.get("allow_repeat", False)
    if not isinstance(allow_repeat, bool):
        problems.append("allow_repeat: must be true or false")
    if problems:
        raise SpecError(problems)
    return SurveySpec(key=key, title=title, intro=str(raw.get("intro") or "").strip(),
                      allow_repeat=bool(allow_repeat), questions=tuple(known.values()), tags=tuple(rules))


def spec_to_json(spec: SurveySpec) -> dict[str, Any]:
    """The stored form of a spec (round-trips through parse_spec)."""
    return {
        "key": spec.key, "title": spec.title, "intro": spec.intro, "allow_repeat": spec.allow_repeat,
        "questions": [
            {"key": q.key, "type": q.type, "text": q.text, "options": list(q.options), "required": q.required,
             "when": {k: list(v) for k, v in q.when.items()} or None, "labels": list(q.labels)}
            for q in spec.questions
        ],
        "tags": [{"tag": t.tag, "when": {k: list(v) for k, v in t.when.items()}} for t in spec.tags],
    }


def matches(when: dict[str, tuple[str, ...]], answers: dict[str, list[str]]) -> bool:
    """True when every condition has one of its values among the answers."""
    return all(any(v in answers.get(key, []) for v in values) for key, values in when.items())


def prompt(q: Question, number: int, total: int) -> str:
    """The question as asked in chat, numbered choices included."""
    head = f"（{number}/{total}）{q.text}"
    if q.type in ("single", "yesno"):
        body = choices.numbered(q.choices)
    elif q.type == "multi":
        body = choices.numbered(q.choices, multi=True)
    elif q.type == "scale":
        body = "请回复 1–5 的数字（5 分最高）。"
    else:
        body = ""
    optional = "" if q.required else texts.SURVEY_OPTIONAL
    return "\n".join(p for p in (head + optional, body) if p)


def validate_answer(q: Question, text: str) -> list[str] | Invalid:
    """The stored values for an answer, or why it is not usable."""
    if q.type == "single":
        picked = choices.pick(text, q.options)
        return [picked] if picked else Invalid(texts.SURVEY_BAD_CHOICE)
    if q.type == "multi":
        many = choices.pick_many(text, q.options)
        return many if many else Invalid(texts.SURVEY_BAD_CHOICE)
    if q.type == "yesno":
        yes, no = q.labels
        answer = choices.yes_no(text, yes=yes, no=no)
        return Invalid(texts.SURVEY_BAD_YESNO.format(yes=yes, no=no)) if answer is None else [yes if answer else no]
    if q.type == "scale":
        n = choices.parse_int(text)
        return [str(n)] if n is not None and 1 <= n <= 5 else Invalid(texts.SURVEY_BAD_SCALE)
    if q.type == "number":
        n = choices.parse_int(text)
        return [str(n)] if n is not None else Invalid(texts.SURVEY_BAD_NUMBER)
    value = text.strip()[:200]
    return [value] if value else Invalid(texts.SURVEY_EMPTY)
