"""The form engine: asks for missing slots, validates, handles cancel, interruptions and hand-off.

A turn inside a form goes:  取消/算了 → leave;  人工 → hand-off;  a valid answer → next slot (or
finish, then resume the dialog this one interrupted);  otherwise an off-topic question (FAQ,
price, order status…) is answered and the pending question asked again, or the owner is told why
the answer was not usable — the third such failure hands the conversation to a person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialogs import choices, handoff, inquiries, multi, state, texts
from dialogs.flows import FORMS
from dialogs.form import Env, Invalid
from dialogs.state import DialogState, Flow

MAX_FAILURES = 3
# Actions a form's pending question must not swallow (an angry complaint is no answer to "什么时间"):
# each asks its confirmation on top of the form, which resumes after it. Filled by dialogs/hub.py.
INTERRUPTING_ACTIONS: dict[str, Callable[[Env], Awaitable[str]]] = {}
_ACTION_CONFIDENCE = 0.8
# Below this an NLU "cancel" inside a form is not trusted (short answers confuse classifiers).
_CANCEL_CONFIDENCE = 0.8


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


async def start(new: DialogState, env: Env, *, intro: str = "") -> str:
    """Begin a dialog (on top of whatever the owner was in, which resumes after it)."""
    return await _advance(new, env, prefix=intro)


async def _advance(current: DialogState, env: Env, *, prefix: str = "") -> str:
    form = FORMS[current.flow]
    first = await form.prerequisite(current, env)
    if first is not None:
        first.parent = current
        return await _advance(first, env, prefix=_join(prefix, texts.BIND_FIRST))
    step = await form.next_step(current, env)
    if step is not None:
        current.step = step
        await state.save(env.kv, env.owner.openid, current, ttl_seconds=env.ctx.dialog_ttl_seconds, session=env.session)
        return _join(prefix, await form.prompt(current, env))
    done = await form.finish(current, env)
    text = _join(prefix, done.text)
    if done.then is not None:
        done.then.parent = current.parent
        return await _advance(done.then, env, prefix=text)
    if current.parent is not None:
        return await _advance(current.parent, env, prefix=text)
    await state.clear(env.kv, env.owner.openid, session=env.session)
    return text


async def prompt_again(current: DialogState, env: Env) -> str:
    """The pending question again (shorter than the first time where the first was a summary)."""
    return await FORMS[current.flow].prompt_again(current, env)


async def answer_then_resume(current: DialogState, env: Env, answer: str) -> str:
    """Answer something off the form, then ask its pending question again (the form stays armed)."""
    await _touch(current, env)
    return texts.INTERRUPTED.format(answer=answer, prompt=await prompt_again(current, env))


async def start_on_top(new: DialogState, pending: DialogState, env: Env) -> None:
    """Put an already started dialog (and any prerequisite under it) above `pending`, which resumes after it."""
    bottom = new
    while bottom.parent is not None:
        bottom = bottom.parent
    bottom.parent = pending
    await _touch(new, env)


async def cancel(current: DialogState, env: Env) -> str:
    """Leave the dialog (and any it interrupted) cleanly; answers given so far stay stored."""
    text = await FORMS[current.flow].on_cancel(current, env)
    await state.clear(env.kv, env.owner.openid, session=env.session)
    return text


async def hand_off(env: Env, *, reason: str, pending: DialogState | None = None) -> str:
    """Give the conversation to staff; the dialog is dropped (its answers are already stored).

    Each dropped form (`pending` and those it interrupted) hears of it first, so one whose work
    must still happen (a 回访 with no rating yet) can arrange to be asked again.
    """
    dropped = pending
    while dropped is not None:
        await FORMS[dropped.flow].on_hand_off(dropped, env)
        dropped = dropped.parent
    await state.clear(env.kv, env.owner.openid, session=env.session)
    await handoff.open_handoff(session=env.session, owner=env.owner, reason=reason)
    return texts.HANDOFF_OPENED if reason != "validation" else texts.TOO_MANY_FAILURES


async def reply(current: DialogState, env: Env) -> str:
    """One owner message while a dialog is pending."""
    form, text = FORMS[current.flow], env.text
    if choices.is_cancel(text):
        return await cancel(current, env)
    if choices.is_human(text):
        return await hand_off(env, reason="human_agent", pending=current)
    value = await form.accept(current, text, env)
    if not isinstance(value, Invalid):
        current.failures = 0
        return await _advance(current, env, prefix=await multi.side_answers(env))
    if not form.takes_free_text(current):
        intent, confidence = await env.intent()
        if intent == "cancel" and confidence >= _CANCEL_CONFIDENCE:
            return await cancel(current, env)
        if intent == "human_agent":
            return await hand_off(env, reason="human_agent", pending=current)
        if intent == "cancel_order" and current.flow == Flow.ORDER:  # the order is not placed yet
            return await cancel(current, env)
        if intent == "greet":
            await _touch(current, env)
            return _join(texts.WELCOME_BACK, await form.prompt_again(current, env))
        answer = await inquiries.interruption(env)
        if answer:
            return await answer_then_resume(current, env, answer)
        ask = INTERRUPTING_ACTIONS.get(intent)
        if ask is not None and confidence >= _ACTION_CONFIDENCE:
            question = await ask(env)
            asked = await state.load(env.kv, env.owner.openid, session=env.session)
            if asked is not None and asked is not current:
                await start_on_top(asked, current, env)
            return question
    current.failures += 1
    if current.failures >= MAX_FAILURES:
        return await hand_off(env, reason="validation", pending=current)
    await _touch(current, env)
    return texts.AGAIN.format(reason=value.reason, prompt=await form.prompt_again(current, env))


async def _touch(current: DialogState, env: Env) -> None:
    await state.save(env.kv, env.owner.openid, current, ttl_seconds=env.ctx.dialog_ttl_seconds, session=env.session)
