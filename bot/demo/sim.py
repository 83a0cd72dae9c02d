"""The /sim page and its small JSON API: the browser asks, the simulator plays WeChat and Telegram.

Nothing here touches dialogs or storage: every action becomes an HTTP request to the hub's own
`/wechat` or `/telegram`, exactly as the real platforms would send it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.demo import data
from bot.demo.bus import EventBus
from bot.demo.telegram_side import TelegramSide
from bot.demo.tour import Tour
from bot.demo.wechat_side import WeChatSide
from bot.demo.wecom_side import WeComSide

STATIC = Path(__file__).parent / "static"
SIMULATOR = web.AppKey("simulator", object)
SHANGHAI = ZoneInfo("Asia/Shanghai")


class NewOwner(TypedDict):
    """A stranger the page made follow the account (the page reads these keys)."""

    openid: str
    name: str
    bound: bool


class Simulator:
    """Everything the page drives: the event feed, both platforms, and the guided tour."""

    def __init__(self, base_url: str = "", tz: ZoneInfo = SHANGHAI) -> None:
        self.base_url = base_url
        self.tz = tz
        self.bus = EventBus()
        self.wechat = WeChatSide(self.bus, lambda: self.base_url)
        self.telegram = TelegramSide(self.bus, lambda: self.base_url)
        self.tour = Tour(self)
        self.new_owners: list[NewOwner] = []
        self.wecom: WeComSide | None = None  # `butler demo --merchants wecom`: merchants use the WeCom app

    @property
    def merchant_channel(self) -> str:
        """Where the merchant pane's merchants are: "telegram" (the default) or "wecom"."""
        return "wecom" if self.wecom is not None else "telegram"

    async def aclose(self) -> None:
        """Stop the tour and close HTTP sessions."""
        await self.tour.stop()
        await self.wechat.aclose()
        await self.telegram.aclose()
        if self.wecom is not None:
            await self.wecom.aclose()

    def cast(self) -> dict[str, Any]:
        """Who the page can play, and the chats they sit in."""
        return {
            "owners": [asdict(o) for o in data.OWNERS] + self.new_owners,
            "merchants": [asdict(m) | {"wecom_userid": m.wecom_userid} for m in data.MERCHANTS],
            "merchant_channel": self.merchant_channel,
            "staff": [asdict(s) for s in data.STAFF],
            "merchant_chat_id": data.MERCHANT_CHAT_ID,
            "staff_chat_id": data.STAFF_CHAT_ID,
            "menu": self.wechat.menu,
            "last_event_id": self.bus.last_id,
            "today": datetime.now(self.tz).date().isoformat(),
        }

    async def new_owner(self, name: str) -> NewOwner:
        """A stranger follows the account: a fresh openid and a subscribe event."""
        owner: NewOwner = {"openid": f"o_demo_new_{secrets.token_hex(4)}", "name": name or "新业主", "bound": False}
        self.new_owners.append(owner)
        self.bus.publish("owner.new", owner=owner)
        await self.wechat.send_event(owner["openid"], "subscribe", label="关注了公众号")
        return owner


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="JSON body expected") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


def _field(body: dict[str, Any], name: str, kind: type = str) -> Any:
    value = body.get(name)
    try:
        return kind(value) if value is not None else kind()
    except (TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"bad {name}") from exc


def install(app: web.Application, sim: Simulator) -> None:
    """Add /sim, its static assets and its API to an app built by create_app (before it starts)."""
    app[SIMULATOR] = sim
    routes = web.RouteTableDef()

    @routes.get("/")
    async def root(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/sim")

    @routes.get("/sim")
    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "sim.html", headers={"Cache-Control": "no-cache"})

    @routes.get("/sim/api/cast")
    async def cast(_request: web.Request) -> web.Response:
        return web.json_response(sim.cast())

    @routes.get("/sim/api/events")
    async def events(request: web.Request) -> web.StreamResponse:
        return await sim.bus.stream(request)

    @routes.post("/sim/api/wechat/text")
    async def wechat_text(request: web.Request) -> web.Response:
        body = await _json(request)
        openid, text = _field(body, "openid"), _field(body, "text").strip()
        if not openid or not text:
            raise web.HTTPBadRequest(text="openid and text are required")
        reply = await sim.wechat.send_text(openid, text)
        return web.json_response({"reply": reply})

    @routes.post("/sim/api/wechat/event")
    async def wechat_event(request: web.Request) -> web.Response:
        body = await _json(request)
        openid, event = _field(body, "openid"), _field(body, "event") or "CLICK"
        if not openid:
            raise web.HTTPBadRequest(text="openid is required")
        reply = await sim.wechat.send_event(openid, event, _field(body, "key"), _field(body, "label"))
        return web.json_response({"reply": reply})

    @routes.post("/sim/api/wechat/new-owner")
    async def wechat_new_owner(request: web.Request) -> web.Response:
        body = await _json(request)
        return web.json_response(await sim.new_owner(_field(body, "name").strip()[:16]))

    @routes.post("/sim/api/telegram/press")
    async def telegram_press(request: web.Request) -> web.Response:
        body = await _json(request)
        status = await sim.telegram.press(
            user_id=_field(body, "user_id", int),
            chat_id=_field(body, "chat_id", int),
            message_id=_field(body, "message_id", int),
            data_=_field(body, "data"),
        )
        return web.json_response({"status": status})

    @routes.post("/sim/api/telegram/say")
    async def telegram_say(request: web.Request) -> web.Response:
        body = await _json(request)
        text = _field(body, "text").strip()
        if not text:
            raise web.HTTPBadRequest(text="text is required")
        reply_to = body.get("reply_to")
        status = await sim.telegram.say(
            user_id=_field(body, "user_id", int),
            chat_id=_field(body, "chat_id", int),
            text=text,
            reply_to=int(reply_to) if reply_to else None,
        )
        return web.json_response({"status": status})

    def wecom() -> WeComSide:
        if sim.wecom is None:
            raise web.HTTPNotFound(text="this demo runs its merchants on Telegram (butler demo --merchants wecom)")
        return sim.wecom

    @routes.post("/sim/api/wecom/press")
    async def wecom_press(request: web.Request) -> web.Response:
        body = await _json(request)
        side = wecom()
        userid, card_id, key = _field(body, "userid"), _field(body, "card_id"), _field(body, "key")
        if not userid or not key:
            raise web.HTTPBadRequest(text="userid and key are required")
        return web.json_response({"status": await side.press(userid=userid, card_id=card_id, key=key)})

    @routes.post("/sim/api/wecom/say")
    async def wecom_say(request: web.Request) -> web.Response:
        body = await _json(request)
        side = wecom()
        userid, text = _field(body, "userid"), _field(body, "text").strip()
        if not userid or not text:
            raise web.HTTPBadRequest(text="userid and text are required")
        return web.json_response({"status": await side.say(userid=userid, text=text)})

    @routes.get(r"/sim/api/photo/{chat_id:-?\d+}/{message_id:\d+}")
    async def photo(request: web.Request) -> web.Response:
        key = (int(request.match_info["chat_id"]), int(request.match_info["message_id"]))
        blob = sim.telegram.photos.get(key)
        if blob is None:
            raise web.HTTPNotFound()
        kind = "image/png" if blob.startswith(b"\x89PNG") else "image/jpeg"
        return web.Response(body=blob, content_type=kind)

    @routes.post("/sim/api/tour/start")
    async def tour_start(_request: web.Request) -> web.Response:
        return web.json_response({"started": sim.tour.start()})

    @routes.post("/sim/api/tour/stop")
    async def tour_stop(_request: web.Request) -> web.Response:
        await sim.tour.stop()
        return web.json_response({"stopped": True})

    app.router.add_routes(routes)
    app.router.add_static("/sim/static", STATIC, append_version=True)

    async def close(_app: web.Application) -> None:
        await sim.aclose()

    app.on_cleanup.insert(0, close)
