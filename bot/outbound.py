"""What the WeChat and WeCom clients share: the content guard on the way out, and the token retry.

Both platforms answer 40001 / 40014 / 42001 when the access token is stale or invalid. The token is
then dropped (compare-and-delete, so a token another process just fetched survives) and the call
is retried once with a fresh one; rejected again, the caller decides what a persistent rejection
means (both pause sending). There is never a second refresh, unlike wechatpy's auto-retry loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.metrics import GUARD_REFUSALS
from dialogs.guard import ContentGuard, GuardRefused

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential / invalid token / expired token


def guarded(guard: ContentGuard, text: str) -> str:
    """The text, if the guard lets it out; a refusal is counted and raised (GuardRefused)."""
    try:
        return guard.check(text)
    except GuardRefused:
        GUARD_REFUSALS.inc()
        raise


class TokenRejected(Exception):
    """Raised by a call when the platform refused the token it was given."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"access token rejected ({errcode}): {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


async def with_fresh_token(
    token: Callable[[], Awaitable[str]],
    drop: Callable[[str], Awaitable[object]],
    call: Callable[[str], Awaitable[T]],
    *,
    platform: str,
) -> T:
    """`call(token)`; on TokenRejected drop that token and retry once; a second rejection is raised."""
    first = await token()
    try:
        return await call(first)
    except TokenRejected as exc:
        log.warning("%s token rejected (%s); refreshing once", platform, exc.errcode)
        await drop(first)
    return await call(await token())
