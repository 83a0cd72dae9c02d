"""The simulator playing the WeChat platform: owners' messages in, the account's messages out.

Inbound goes to the hub's real `/wechat` over HTTP as signed, encrypted XML; outbound is whatever
the hub sent to the fake WeChat API, turned into events for the owner pane.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.demo import data
from bot.demo.bus import EventBus
from bot.demo.hub_http import HubHttp
from bot.devtools.fake_wechat import RecordedCall
from bot.devtools.wechat_sender import WeChatSender, event_xml, text_xml
from bot.wechat.notices import DEFAULT_FIELDS, FORBIDDEN_KEYS

# The labels the default template shows beside each keyword.
_KEYWORD_LABELS = {DEFAULT_FIELDS[k]: label for k, label in
                   (("service", "服务项目"), ("code", "订单号"), ("time", "时间"), ("status", "状态"), ("worker", "服务人员"))}

log = logging.getLogger(__name__)

class WeChatSide(HubHttp):
    """Posts owners' messages to /wechat like WeChat does and narrates the API calls the hub makes."""

    def __init__(self, bus: EventBus, base_url: Callable[[], str]) -> None:
        self.bus = bus
        self.base_url = base_url
        self.menu: dict[str, Any] = {"button": []}  # until the account creates one
        self.sender = WeChatSender(
            token=data.WECHAT_TOKEN, aes_key=data.WECHAT_AES_KEY, app_id=data.WECHAT_APP_ID
        )

    async def send_text(self, openid: str, text: str) -> str:
        """An owner types a message; returns the passive reply text ('' when none)."""
        self.bus.publish("owner.in", openid=openid, text=text)
        return await self._post(openid, text_xml(openid, text, account=data.WECHAT_ACCOUNT))

    async def send_event(self, openid: str, event: str, key: str = "", label: str = "") -> str:
        """An owner follows the account or presses a menu button (CLICK)."""
        self.bus.publish("owner.in", openid=openid, event=event, key=key, text=label)
        return await self._post(openid, event_xml(openid, event, key=key, account=data.WECHAT_ACCOUNT))

    async def _post(self, openid: str, xml: str) -> str:
        query, body = self.sender.request(xml)
        async with self.http().post(f"{self.base_url()}/wechat?{query}", data=body) as resp:
            text = await resp.text()
            status = resp.status
        if status != 200:
            self.bus.publish("error", where="wechat", status=status, text=text[:200])
            return ""
        reply = self.sender.open_reply(text, query)
        content = reply.get("Content", "")
        if content:
            self.bus.publish("owner.out", openid=openid, text=content, via="passive")
        return content

    def on_api_call(self, call: RecordedCall) -> None:
        """FakeWeChatAPI listener: every message the hub sends an owner becomes a pane event."""
        body = call.body or {}
        if call.path == "/cgi-bin/message/custom/send":
            self._custom(body)
        elif call.path == "/cgi-bin/message/template/send":
            # As WeChat renders a notice since 2023-05-04: the template's title, then one labelled line
            # per keyword; `first` and `remark` are not shown at all.
            fields = body.get("data") or {}
            title = "服务通知"
            lines = [
                f"{_KEYWORD_LABELS.get(k, k)}：{_value(v)}" for k, v in fields.items()
                if k not in FORBIDDEN_KEYS and _value(v)
            ]
            self.bus.publish(
                "owner.out", openid=body.get("touser", ""), text="\n".join(lines), title=title, via="template"
            )
        elif call.path == "/cgi-bin/message/mass/send":
            text = (body.get("text") or {}).get("content", "")
            openids = body.get("touser") or []
            for openid in openids:
                self.bus.publish("owner.out", openid=openid, text=text, via="mass")
            self.bus.publish("wechat.mass", count=len(openids), text=text)
        elif call.path == "/cgi-bin/menu/create":
            self.menu = body
            self.bus.publish("wechat.menu", menu=body)

    def _custom(self, body: dict[str, Any]) -> None:
        openid = body.get("touser", "")
        if body.get("msgtype") == "news":
            for article in (body.get("news") or {}).get("articles", []):
                self.bus.publish(
                    "owner.out",
                    openid=openid,
                    title=article.get("title", ""),
                    text=article.get("description", ""),
                    via="news",
                )
            return
        if body.get("msgtype") == "msgmenu":  # tap options (确认金额 …): shown as words to type
            menu = body.get("msgmenu") or {}
            options = "  ".join(f"“{o.get('content', '')}”" for o in menu.get("list", []))
            self.bus.publish("owner.out", openid=openid, text=f"{menu.get('head_content', '')}\n{options}", via="cs")
            return
        text = (body.get("text") or {}).get("content", "")
        self.bus.publish("owner.out", openid=openid, text=text, via="cs")


def _value(field: Any) -> str:
    if isinstance(field, dict):
        return str(field.get("value", ""))
    return str(field or "")
