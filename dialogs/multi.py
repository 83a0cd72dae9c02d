"""Two requests in one message: answer the questions and take the first action, drop nothing.

"帮我约个保洁明天上午来，另外这个月物业费多少" is read clause by clause (dialogs/reading.clauses):
the fee is answered, the cleaning order is taken, and a further action is named back to the
owner so it is never silently lost. One request (or the same one twice) is left to the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialogs import inquiries, reading, texts
from dialogs.form import Env

# Clauses that carry no request of their own ("你好，…", "谢谢，…").
_NO_REQUEST = frozenset({"greet", "thanks", "goodbye", "affirm", "deny", "cancel", "nlu_fallback"})
Act = Callable[[str, Env], Awaitable[str]]
# A long run-on message is read this far (each clause is one parse), and names back this many
# further actions: the reply must still fit a phone.
_MAX_CLAUSES = 8
_MAX_NAMED = 2


async def answer_all(env: Env, act: Act) -> str | None:
    """The reply to a message with two or more different requests; None when it holds one."""
    if env.ctx.nlu is None:
        return None
    parts = reading.clauses(env.text)[:_MAX_CLAUSES]
    if len(parts) < 2:
        return None
    requests: list[tuple[str, Env]] = []
    seen: set[tuple[str, str | None]] = set()
    for part in parts:
        sub = Env(ctx=env.ctx, owner=env.owner, text=part)
        intent, _ = await sub.intent()
        parsed = await sub.parsed()
        key = (intent, parsed.entity("service") if parsed is not None else None)
        if intent in _NO_REQUEST or key in seen:
            continue
        seen.add(key)
        requests.append((intent, sub))
    if len(requests) < 2:
        return None
    questions = [(i, s) for i, s in requests if i in inquiries.QUESTION_INTENTS]
    actions = [(i, s) for i, s in requests if i not in inquiries.QUESTION_INTENTS]
    out = [await inquiries.faq_answer(s) or await inquiries.answer(i, s) for i, s in questions]
    # The first action goes last: its reply usually ends with the question the owner answers next.
    out += [texts.ALSO_LATER.format(text=s.text) for _, s in actions[1:_MAX_NAMED + 1]]
    if actions:
        out.append(await act(*actions[0]))
    return "\n".join(out)


async def side_answers(env: Env) -> str:
    """Answers to the questions in a message a form took as its answer ("明天上午，另外物业费多少")."""
    parts = reading.clauses(env.text)
    if env.ctx.nlu is None or len(parts) < 2:
        return ""
    out = []
    for part in parts:
        sub = Env(ctx=env.ctx, owner=env.owner, text=part)
        intent, _ = await sub.intent()
        if intent in inquiries.QUESTION_INTENTS:
            out.append(await inquiries.faq_answer(sub) or await inquiries.answer_in_form(intent, sub))
    return "\n".join(out)
