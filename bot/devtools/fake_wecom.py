"""A fake WeCom (企业微信) API server (aiohttp) that records calls, for tests and the demo.

It speaks the real endpoints' shapes (gettoken, message/send, message/update_template_card,
media/upload), so wechatpy's enterprise client and our code run against it over HTTP. Faults:
`fail(path, errcode, times)` answers the next calls with an errcode (`fail_to(userid, …)` only the
sends to one member), `expire_token()` makes the
current token answer 42001 (expired) as WeCom does after 7200 s.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

GETTOKEN = "/cgi-bin/gettoken"
SEND = "/cgi-bin/message/send"
UPDATE_CARD = "/cgi-bin/message/update_template_card"
UPLOAD = "/cgi-bin/media/upload"


@dataclass
class WeComCall:
    """One API call as the fake received it."""

    path: str
    params: dict[str, str]
    body: dict[str, Any]

    @property
    def touser(self) -> str:
        """Recipient(s) of a message/send, as WeCom writes them ("a|b")."""
        return str(self.body.get("touser", ""))

    @property
    def text(self) -> str:
        """The words a member reads: a text's content, or a card's titles, rows and buttons."""
        if self.body.get("msgtype") == "text":
            return str(self.body["text"]["content"])
        card = self.body.get("template_card") or {}
        parts = [card.get("main_title", {}).get("title", ""), card.get("main_title", {}).get("desc", ""),
                 card.get("sub_title_text", "")]
        parts += [f"{row.get('keyname', '')}：{row.get('value', '')}" for row in card.get("horizontal_content_list", [])]
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[dict[str, Any]]:
        """A button_interaction card's buttons (text, key)."""
        return list((self.body.get("template_card") or {}).get("button_list", []))


@dataclass
class FakeWeComAPI:
    """Records calls; issues tokens; remembers each card's response_code (usable once, like WeCom)."""

    corp_id: str = "ww-fake-corp"
    secret: str = "fake-wecom-secret"
    agent_id: int = 1000002
    calls: list[WeComCall] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    _faults: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _member_faults: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _expired: set[str] = field(default_factory=set)
    _delays: dict[str, float] = field(default_factory=dict)
    # response_code -> the userids whose card it may update; removed once used
    response_codes: dict[str, list[str]] = field(default_factory=dict)
    # Called with each successful call and the answer given (the demo draws its WeCom pane from them).
    listeners: list[Callable[[WeComCall, dict[str, Any]], None]] = field(default_factory=list)
    _server: TestServer | None = None

    @property
    def base_url(self) -> str:
        """Where the server listens (after start())."""
        assert self._server is not None, "start() first"
        return str(self._server.make_url("")).rstrip("/")

    def fail(self, path: str, errcode: int, times: int = 1) -> None:
        """Answer the next `times` calls to path with errcode."""
        self._faults[path].extend([errcode] * times)

    def fail_to(self, userid: str, errcode: int, times: int = 1) -> None:
        """Answer the next `times` message/send calls to this member with errcode."""
        self._member_faults[userid].extend([errcode] * times)

    def delay(self, path: str, seconds: float) -> None:
        """Sleep before answering calls to path (to exercise client timeouts)."""
        self._delays[path] = seconds

    def expire_token(self) -> None:
        """The current token now answers 42001 (expired), as after its 7200 s."""
        if self.tokens_issued:
            self._expired.add(self.tokens_issued[-1])

    def calls_to(self, path: str) -> list[WeComCall]:
        """Recorded calls to one path."""
        return [c for c in self.calls if c.path == path]

    def sent_to(self, userid: str) -> list[WeComCall]:
        """message/send calls that reached one member."""
        return [c for c in self.calls_to(SEND) if userid in c.touser.split("|")]

    def cards_to(self, userid: str) -> list[WeComCall]:
        """Template cards sent to one member."""
        return [c for c in self.sent_to(userid) if c.body.get("msgtype") == "template_card"]

    def updates_for(self, userid: str) -> list[WeComCall]:
        """update_template_card calls that changed one member's card."""
        return [c for c in self.calls_to(UPDATE_CARD) if userid in c.body.get("userids", [])]

    def callback_code(self, userid: str) -> str:
        """A fresh ResponseCode, as WeCom puts in a template_card_event callback for this member."""
        code = "cb-" + secrets.token_hex(12)
        self.response_codes[code] = [userid]
        return code

    async def start(self, port: int = 0) -> str:
        """Start on 127.0.0.1 and return the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=port)
        await self._server.start_server()
        return self.base_url

    async def close(self) -> None:
        """Stop the server."""
        if self._server is not None:
            await self._server.close()

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        body: dict[str, Any] = {}
        if path == UPLOAD:
            form = await request.post()
            media = form.get("media")
            upload = getattr(media, "file", None)
            body = {"filename": getattr(media, "filename", ""), "size": len(upload.read()) if upload is not None else 0}
        else:
            raw = await request.text()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return web.json_response({"errcode": 47001, "errmsg": "data format error"})
        call = WeComCall(path=path, params=dict(request.query), body=body)
        self.calls.append(call)
        if path in self._delays:
            await asyncio.sleep(self._delays[path])
        if self._faults[path]:
            errcode = self._faults[path].popleft()
            return web.json_response({"errcode": errcode, "errmsg": f"fake error {errcode}"})
        faulty = [u for u in call.touser.split("|") if self._member_faults.get(u)] if path == SEND else []
        if faulty:
            errcode = self._member_faults[faulty[0]].popleft()
            return web.json_response({"errcode": errcode, "errmsg": f"fake error {errcode} for {faulty[0]}"})
        if path == GETTOKEN:
            if request.query.get("corpid") != self.corp_id or request.query.get("corpsecret") != self.secret:
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
            token = f"WWTOKEN-{len(self.tokens_issued) + 1}-{secrets.token_hex(4)}"
            self.tokens_issued.append(token)
            return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})
        token = request.query.get("access_token", "")
        if token in self._expired:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if token not in self.tokens_issued:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        answer = self._answer(path, body)
        if not answer.get("errcode"):
            for listener in self.listeners:
                listener(call, answer)
        return web.json_response(answer)

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == SEND:
            if str(body.get("agentid")) != str(self.agent_id):
                return {"errcode": 40056, "errmsg": "invalid agentid"}
            answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": secrets.token_hex(8)}
            if (body.get("template_card") or {}).get("card_type") == "button_interaction":
                code = "send-" + secrets.token_hex(12)
                self.response_codes[code] = str(body.get("touser", "")).split("|")
                answer["response_code"] = code
            return answer
        if path == UPDATE_CARD:
            allowed = self.response_codes.pop(str(body.get("response_code", "")), None)
            if allowed is None:  # unknown, or already used: WeCom lets a code update once
                return {"errcode": 40058, "errmsg": "invalid response_code"}
            if not set(body.get("userids", [])) <= set(allowed):
                return {"errcode": 40058, "errmsg": "userids not covered by response_code"}
            return {"errcode": 0, "errmsg": "ok", "invaliduser": []}
        if path == UPLOAD:
            return {"errcode": 0, "errmsg": "", "type": "image", "media_id": "MEDIA-" + secrets.token_hex(6),
                    "created_at": "1380000000"}
        return {"errcode": 0, "errmsg": "ok"}


@dataclass
class WeComSender:
    """Signs and encrypts callbacks exactly as WeCom does (msg_signature over token, time, nonce, Encrypt)."""

    token: str
    aes_key: str
    corp_id: str
    agent_id: int = 1000002

    def request(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> tuple[str, bytes]:
        """(query string, body) for POST /wecom."""
        from urllib.parse import urlencode

        from wechatpy.enterprise.crypto import WeChatCrypto

        from bot.wechat.protocol import parse_xml

        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        envelope = parse_xml(WeChatCrypto(self.token, self.aes_key, self.corp_id).encrypt_message(xml, nonce, ts))
        query = urlencode({"msg_signature": envelope["MsgSignature"], "timestamp": ts, "nonce": nonce})
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><AgentID><![CDATA[{self.agent_id}]]></AgentID>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
        return query, body.encode()

    def press_xml(self, userid: str, key: str, response_code: str, *, task_id: str = "t") -> str:
        """A template_card_event for a button press."""
        return (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
                f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
                f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode><AgentID>{self.agent_id}</AgentID></xml>")

    def text_xml(self, userid: str, text: str) -> str:
        """A text message from a member to the app."""
        return (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{text}]]></Content><MsgId>{secrets.randbits(60)}</MsgId>"
                f"<AgentID>{self.agent_id}</AgentID></xml>")
