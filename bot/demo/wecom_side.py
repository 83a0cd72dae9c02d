"""The simulator playing WeCom (`butler demo --merchants wecom`): merchants' presses and texts in,
the app's messages and card updates out.

Inbound goes to the hub's real `/wecom`, signed and encrypted as WeCom does (WeComSender);
outbound is whatever the hub sent to the fake WeCom API, turned into events for the merchant pane.
A card is known by the response_code it was sent with; a press gets a fresh ResponseCode, as on
WeCom, and an update with either code changes that card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.demo import data
from bot.demo.bus import EventBus
from bot.demo.hub_http import HubHttp
from bot.devtools.fake_wecom import SEND, UPDATE_CARD, FakeWeComAPI, WeComCall, WeComSender

log = logging.getLogger(__name__)

MERCHANTS = {m.wecom_userid: m for m in data.MERCHANTS}


def _buttons(call: WeComCall) -> list[dict[str, str]]:
    return [{"text": str(b.get("text", "")), "key": str(b.get("key", ""))} for b in call.buttons()]


class WeComSide(HubHttp):
    """Posts merchants' presses and texts to /wecom; narrates the app's API calls."""

    def __init__(self, bus: EventBus, base_url: Callable[[], str], fake: FakeWeComAPI, sender: WeComSender) -> None:
        self.bus = bus
        self.base_url = base_url
        self.fake = fake
        self.sender = sender
        self.cards: dict[str, dict[str, Any]] = {}  # card id -> {userid, text, buttons, label}
        self._codes: dict[str, str] = {}  # a press's ResponseCode -> the card it was pressed on

    # --- inbound: a merchant acts ---------------------------------------------------------------

    async def press(self, *, userid: str, card_id: str, key: str) -> int:
        """A merchant presses a button on a card in the app."""
        card = self.cards.get(card_id, {})
        button = next((b["text"] for b in card.get("buttons", []) if b["key"] == key), key)
        code = self.fake.callback_code(userid)
        self._codes[code] = card_id
        self.bus.publish("wc.press", userid=userid, card_id=card_id, button=button, name=_name(userid))
        return await self._post(self.sender.press_xml(userid, key, code, task_id=card.get("task_id", "t")))

    async def say(self, *, userid: str, text: str) -> int:
        """A merchant types to the app (an amount, a reason)."""
        self.bus.publish("wc.in", userid=userid, text=text, name=_name(userid))
        return await self._post(self.sender.text_xml(userid, text))

    async def _post(self, xml: str) -> int:
        query, body = self.sender.request(xml)
        async with self.http().post(f"{self.base_url()}/wecom?{query}", data=body) as resp:
            status = resp.status
            if status != 200:
                self.bus.publish("error", where="wecom", status=status, text=(await resp.text())[:200])
        return status

    # --- outbound: what the hub sent to the (fake) WeCom API --------------------------------------

    def on_api_call(self, call: WeComCall, answer: dict[str, Any]) -> None:
        """FakeWeComAPI listener: messages to merchants and card updates become pane events."""
        if call.path == SEND:
            self._sent(call, answer)
        elif call.path == UPDATE_CARD:
            self._updated(call)

    def _sent(self, call: WeComCall, answer: dict[str, Any]) -> None:
        kind = str(call.body.get("msgtype", ""))
        card_id = str(answer.get("response_code") or answer.get("msgid") or "")
        task_id = str((call.body.get("template_card") or {}).get("task_id", ""))
        for userid in call.touser.split("|"):
            if userid not in MERCHANTS:
                continue
            card = {"userid": userid, "text": call.text, "buttons": _buttons(call), "label": "", "task_id": task_id}
            self.cards[card_id] = card
            self.bus.publish("wc.message", card_id=card_id, msgtype=kind, **card)

    def _updated(self, call: WeComCall) -> None:
        code = str(call.body.get("response_code", ""))
        card_id = self._codes.get(code, code)
        card = self.cards.get(card_id)
        if card is None:
            return
        if "template_card" in call.body:  # a whole new card (a slip after a progress step)
            card["text"] = WeComCall(call.path, {}, {"template_card": call.body["template_card"]}).text
            card["buttons"] = [{"text": str(b.get("text", "")), "key": str(b.get("key", ""))}
                               for b in call.body["template_card"].get("button_list", [])]
            card["label"] = ""
        else:  # the buttons replaced by grey text (已被接单 / 已接单 …)
            card["buttons"], card["label"] = [], str((call.body.get("button") or {}).get("replace_name", ""))
        self.bus.publish("wc.update", card_id=card_id, **card)


def _name(userid: str) -> str:
    merchant = MERCHANTS.get(userid)
    return merchant.name if merchant else userid
