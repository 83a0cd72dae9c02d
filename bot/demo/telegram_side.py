"""The simulator playing Telegram: merchants' and staff's updates in, the bot's messages out.

Inbound goes to the hub's real `/telegram` as Bot API Update JSON with the webhook secret header;
outbound is whatever the hub's bot sent to the fake Bot API, turned into events for the panes.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.demo import data
from bot.demo.bus import EventBus
from bot.demo.hub_http import HubHttp

log = logging.getLogger(__name__)

_MERCHANT_IDS = {m.telegram_id: m for m in data.MERCHANTS}
_STAFF_IDS = {s.telegram_id: s for s in data.STAFF}


def pane_of(chat_id: int) -> str:
    """Which pane shows a chat: the merchant group, the staff chat, or someone's private chat."""
    if chat_id == data.MERCHANT_CHAT_ID:
        return "group"
    if chat_id == data.STAFF_CHAT_ID:
        return "staff"
    if chat_id in _MERCHANT_IDS:
        return "merchant_dm"
    if chat_id in _STAFF_IDS:
        return "staff_dm"
    return "other"


def _user(user_id: int) -> dict[str, Any]:
    person = _MERCHANT_IDS.get(user_id) or _STAFF_IDS.get(user_id)
    name = person.name if person else str(user_id)
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "zh-hans"}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id == data.MERCHANT_CHAT_ID:
        return {"id": chat_id, "type": "supergroup", "title": "物业管家·商家群"}
    if chat_id == data.STAFF_CHAT_ID:
        return {"id": chat_id, "type": "supergroup", "title": "物业管家·员工群"}
    return {**_user(chat_id), "type": "private"} | {"id": chat_id}


def _parse_markup(raw: Any) -> list[list[dict[str, str]]]:
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    if not isinstance(raw, dict):
        return []
    rows = raw.get("inline_keyboard") or []
    return [
        [{"text": str(b.get("text", "")), "data": str(b.get("callback_data", "") or b.get("url", ""))} for b in row]
        for row in rows
    ]


class TelegramSide(HubHttp):
    """Posts merchants' presses and staff's messages to /telegram; narrates the bot's API calls."""

    def __init__(self, bus: EventBus, base_url: Callable[[], str]) -> None:
        self.bus = bus
        self.base_url = base_url
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.photos: dict[tuple[int, int], bytes] = {}
        self._update_ids = itertools.count(1)
        self._local_ids = itertools.count(900_000)

    def card(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A bot message as it looks now (after any edits)."""
        known = self.messages.get((chat_id, message_id), {"text": "", "buttons": []})
        return {"chat_id": chat_id, "message_id": message_id, **known}

    # --- inbound: the simulator's people act ----------------------------------------------------

    async def press(self, *, user_id: int, chat_id: int, message_id: int, data_: str) -> int:
        """A user presses an inline button under a bot message."""
        original = self.messages.get((chat_id, message_id), {})
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": {"id": data.TELEGRAM_BOT_ID, "is_bot": True, "first_name": "物业管家", "username": "butler_demo_bot"},
            "text": original.get("text", ""),
        }
        if original.get("buttons"):
            message["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": b["text"], "callback_data": b["data"]} for b in row] for row in original["buttons"]
                ]
            }
        update_id = next(self._update_ids)
        update = {
            "update_id": update_id,
            "callback_query": {
                "id": f"demo-cq-{update_id}",
                "from": _user(user_id),
                "message": message,
                "chat_instance": f"demo-{chat_id}",
                "data": data_,
            },
        }
        button = next(
            (b["text"] for row in original.get("buttons", []) for b in row if b["data"] == data_), data_
        )
        self.bus.publish("tg.press", user_id=user_id, chat_id=chat_id, message_id=message_id,
                         button=button, name=_user(user_id)["first_name"], pane=pane_of(chat_id))
        return await self._post(update)

    async def say(self, *, user_id: int, chat_id: int, text: str, reply_to: int | None = None) -> int:
        """A user writes in a chat (a command, a reply to a hand-off, …)."""
        update_id = next(self._update_ids)
        message_id = next(self._local_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            quoted = self.messages.get((chat_id, reply_to), {})
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": {"id": data.TELEGRAM_BOT_ID, "is_bot": True, "first_name": "物业管家"},
                "text": quoted.get("text", ""),
            }
        self.bus.publish("tg.in", user_id=user_id, chat_id=chat_id, message_id=message_id, text=text,
                         reply_to=reply_to, name=_user(user_id)["first_name"], pane=pane_of(chat_id))
        return await self._post({"update_id": update_id, "message": message})

    async def _post(self, update: dict[str, Any]) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": data.TELEGRAM_WEBHOOK_SECRET}
        async with self.http().post(f"{self.base_url()}/telegram", json=update, headers=headers) as resp:
            status = resp.status
            if status != 200:
                self.bus.publish("error", where="telegram", status=status, text=(await resp.text())[:200])
        return status

    # --- outbound: what the bot sent to the (fake) Bot API ---------------------------------------

    def on_api_call(self, call: Any) -> None:
        """FakeTelegramAPI listener: edits, alerts and deletions become pane events."""
        method, params = str(getattr(call, "method", "")), dict(getattr(call, "params", {}) or {})
        if method in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            self._edited(method, params)
        elif method == "answerCallbackQuery":
            text = str(params.get("text") or "")
            if text:
                self.bus.publish("tg.alert", text=text, show_alert=str(params.get("show_alert")).lower() == "true")
        elif method == "deleteMessage":
            chat_id, message_id = _int(params.get("chat_id")), _int(params.get("message_id"))
            self.messages.pop((chat_id, message_id), None)
            self.bus.publish("tg.delete", chat_id=chat_id, message_id=message_id, pane=pane_of(chat_id))

    def on_sent(self, params: dict[str, Any], message: dict[str, Any], uploads: dict[str, bytes]) -> None:
        """DemoTelegramAPI sent-listener: a new bot message (text or photo) with its real id."""
        chat_id, message_id = _int(params.get("chat_id")), _int(message.get("message_id"))
        text = str(params.get("text") or params.get("caption") or "")
        buttons = _parse_markup(params.get("reply_markup"))
        event: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text, "buttons": buttons,
                                 "pane": pane_of(chat_id), "parse_mode": str(params.get("parse_mode") or "")}
        # aiogram uploads the file under a random part name and passes "attach://<name>".
        ref = str(params.get("photo") or params.get("document") or "").removeprefix("attach://")
        blob = uploads.get(ref) or next(iter(uploads.values()), None)
        if blob:
            self.photos[(chat_id, message_id)] = blob
            event["photo"] = f"/sim/api/photo/{chat_id}/{message_id}"
        self.messages[(chat_id, message_id)] = {"text": text, "buttons": buttons}
        self.bus.publish("tg.message", **event)

    def _edited(self, method: str, params: dict[str, Any]) -> None:
        chat_id, message_id = _int(params.get("chat_id")), _int(params.get("message_id"))
        known = self.messages.setdefault((chat_id, message_id), {"text": "", "buttons": []})
        if method == "editMessageText":
            known["text"] = str(params.get("text") or "")
        if method == "editMessageCaption":
            known["text"] = str(params.get("caption") or "")
        known["buttons"] = _parse_markup(params.get("reply_markup"))
        self.bus.publish("tg.edit", chat_id=chat_id, message_id=message_id, text=known["text"],
                         buttons=known["buttons"], pane=pane_of(chat_id))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
