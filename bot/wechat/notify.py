"""Outbox handlers that reach owners on WeChat (customer-service text or template notice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import PermanentFailure, RetryLater
from bot.wechat.client import NotFollowing, QuotaExceeded, WeChatClient, WindowClosed
from dialogs.guard import GuardRefused


def owner_notifier(client: WeChatClient, *, template_id: str = ""):  # type: ignore[no-untyped-def]
    """Handler for `owner.notify` events: payload {openid, text, [title], [notice: bool]}."""

    async def notify(payload: dict[str, Any], _session: AsyncSession) -> None:
        openid, text = payload["openid"], payload["text"]
        try:
            if payload.get("notice") and template_id:
                await client.send_template(
                    openid, template_id, {"first": payload.get("title", "服务通知"), "remark": text}
                )
            else:
                await client.send_text(openid, text)
        except (NotFollowing, GuardRefused) as exc:
            raise PermanentFailure(str(exc)) from exc
        except (WindowClosed, QuotaExceeded) as exc:
            if exc.errcode == 45009:
                # The daily API quota covers templates too: not an attempt (issue 15: five sweeps
                # would otherwise use up the event's attempts and drop it); the sweeper retries.
                raise RetryLater(str(exc)) from exc
            if not template_id:
                if isinstance(exc, WindowClosed):
                    raise PermanentFailure(str(exc)) from exc
                raise  # 45047: the owner's next message reopens the quota; retry later
            # The 48-hour window closed (45015) or its message count is used up (45047): a
            # service notice may still go as a template message.
            await client.send_template(openid, template_id, {"first": "服务通知", "remark": text})

    return notify
