"""The WeChat side of broadcast delivery: the three send paths, errors turned into errcodes."""

from __future__ import annotations

from bot.wechat.client import SendingPaused, SendOutcomeUnknown, WeChatAPIError, WeChatClient
from dialogs.guard import GuardRefused
from storage.broadcast_delivery import SendOutcome
from storage.broadcast_pause import OUTCOME_UNKNOWN

GUARD_ERRCODE = -2  # ours, not WeChat's: the content guard refused the text


class WeChatGateway:
    """Implements storage.broadcast_delivery.DeliveryGateway over the async WeChat client."""

    def __init__(self, client: WeChatClient, *, template_id: str = "") -> None:
        self.client = client
        self.template_id = template_id

    async def _call(self, coro) -> SendOutcome:  # type: ignore[no-untyped-def]
        try:
            await coro
        except GuardRefused as exc:
            return SendOutcome(GUARD_ERRCODE, str(exc))
        except SendOutcomeUnknown as exc:  # reached WeChat, answer lost: unknown, not failed
            return SendOutcome(OUTCOME_UNKNOWN, exc.errmsg)
        except SendingPaused as exc:  # token persistently rejected: pause, don't fail
            return SendOutcome(-3, exc.errmsg)
        except WeChatAPIError as exc:
            return SendOutcome(exc.errcode, exc.errmsg)
        return SendOutcome()

    async def send_template(self, openid: str, text: str, title: str) -> SendOutcome:
        """A template notice (first = title, remark = text)."""
        return await self._call(self.client.send_template(openid, self.template_id, {"first": title, "remark": text}))

    async def send_cs(self, openid: str, text: str) -> SendOutcome:
        """A customer-service text."""
        return await self._call(self.client.send_text(openid, text))

    async def mass_send(self, openids: list[str], text: str, clientmsgid: str) -> SendOutcome:
        """An openid-list mass send, idempotent by clientmsgid."""
        return await self._call(self.client.mass_send_text(openids, text, clientmsgid=clientmsgid))
