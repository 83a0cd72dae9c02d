"""The WeChat side of broadcast delivery: the three send paths, errors turned into errcodes."""

from __future__ import annotations

from collections.abc import Awaitable
from zoneinfo import ZoneInfo

from bot.wechat.client import SendingPaused, SendOutcomeUnknown, WeChatAPIError, WeChatClient
from bot.wechat.notices import DEFAULT_FIELDS, template_data
from dialogs.guard import GuardRefused
from storage.broadcast_delivery import SendOutcome
from storage.broadcast_pause import OUTCOME_UNKNOWN

GUARD_ERRCODE = -2  # ours, not WeChat's: the content guard refused the text


class WeChatGateway:
    """Implements storage.broadcast_delivery.DeliveryGateway over the async WeChat client."""

    def __init__(
        self, client: WeChatClient, *, template_id: str = "", fields: dict[str, str] | None = None,
        tz: str = "Asia/Shanghai",
    ) -> None:
        self.client = client
        self.template_id = template_id
        self.fields = fields or DEFAULT_FIELDS
        self.tz = ZoneInfo(tz)

    async def _call(self, coro: Awaitable[int | None]) -> SendOutcome:
        try:
            msgid = await coro
        except GuardRefused as exc:
            return SendOutcome(GUARD_ERRCODE, str(exc))
        except SendOutcomeUnknown as exc:  # reached WeChat, answer lost: unknown, not failed
            return SendOutcome(OUTCOME_UNKNOWN, exc.errmsg)
        except SendingPaused as exc:  # token persistently rejected: pause, don't fail
            return SendOutcome(-3, exc.errmsg)
        except WeChatAPIError as exc:
            return SendOutcome(exc.errcode, exc.errmsg)
        # The msgid lets WeChat's later send result (TEMPLATESENDJOBFINISH …) find the delivery row.
        return SendOutcome(msgid=str(msgid) if isinstance(msgid, int) and msgid else "")

    async def send_template(self, openid: str, text: str, title: str) -> SendOutcome:
        """A template notice, its content in keyword fields (WeChat shows no first/remark since 2023)."""
        data = template_data(mapping=self.fields, tz=self.tz, title=title, text=text)
        return await self._call(self.client.send_template(openid, self.template_id, data))

    async def send_cs(self, openid: str, text: str) -> SendOutcome:
        """A customer-service text."""
        return await self._call(self.client.send_text(openid, text))

    async def mass_send(self, openids: list[str], text: str, clientmsgid: str) -> SendOutcome:
        """An openid-list mass send, idempotent by clientmsgid."""
        return await self._call(self.client.mass_send_text(openids, text, clientmsgid=clientmsgid))
