"""`/wecom`: URL verification and the app's (always encrypted) callbacks, ending at typed events.

The same rules as `/wechat`: no Token means every request is refused; the timestamp must be
inside the window; the body is capped; the msg_signature is checked by wechatpy.enterprise's
WeChatCrypto; a (timestamp, nonce) pair seen with another message is a replay (403); a callback
WeCom retries is handled once (dedupe); and no input gives a 500.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.metrics import DUPLICATES, INBOUND, REJECTED
from bot.wechat.protocol import MalformedMessage, parse_xml
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ButtonPress:
    """A member pressed a template card's button (template_card_event)."""

    userid: str
    key: str
    task_id: str
    response_code: str  # updates this member's card once


@dataclass(frozen=True)
class MemberText:
    """A member typed a text message to the app."""

    userid: str
    text: str


WeComEvent = ButtonPress | MemberText
WeComHandler = Callable[[WeComEvent], Awaitable[None]]


@dataclass
class WeComWebhookConfig:
    """The knobs, taken from Settings."""

    token: str
    aes_key: str
    corp_id: str
    max_body_bytes: int = 64 * 1024
    timestamp_tolerance_seconds: int = 300
    dedupe_ttl_seconds: int = 300


class _Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def to_event(fields: dict[str, str]) -> WeComEvent | None:
    """The typed event a callback is, or None for what the hub does not act on (enter_agent …)."""
    userid = fields.get("FromUserName", "")[:64]
    if not userid:
        raise MalformedMessage("FromUserName is missing")
    if fields.get("MsgType") == "event" and fields.get("Event") == "template_card_event":
        return ButtonPress(userid=userid, key=fields.get("EventKey", "")[:1024], task_id=fields.get("TaskId", "")[:128],
                           response_code=fields.get("ResponseCode", "")[:256])
    if fields.get("MsgType") == "text":
        return MemberText(userid=userid, text=fields.get("Content", "")[:2000])
    return None


def dedupe_key(fields: dict[str, str]) -> str:
    """MsgId for messages; sender + CreateTime + Event + EventKey + TaskId + ResponseCode for events.

    Each real press carries a fresh ResponseCode while WeCom's retries of one callback repeat it,
    so two presses of one button within a second are two presses, and a retry is one.
    """
    sender = fields.get("FromUserName", "")
    if fields.get("MsgId"):
        return f"wc:msg:{sender}:{fields['MsgId']}"[:160]
    parts = (sender, fields.get("CreateTime", ""), fields.get("Event", ""), fields.get("EventKey", ""), fields.get("TaskId", ""),
             fields.get("ResponseCode", ""))
    return "wc:evt:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


class WeComWebhook:
    """The aiohttp handlers for GET/POST /wecom."""

    def __init__(self, config: WeComWebhookConfig, *, kv: KeyValueStore, handle: WeComHandler) -> None:
        self.config = config
        self.kv = kv
        self.handle = handle
        self.crypto: WeChatCrypto | None = None
        if config.token and config.aes_key:
            try:
                self.crypto = WeChatCrypto(config.token, config.aes_key, config.corp_id)
            except Exception:  # a malformed EncodingAESKey: refuse every request rather than crash
                log.error("BUTLER_WECOM_AES_KEY is not a valid EncodingAESKey: /wecom refuses every request")

    def _require_crypto(self) -> WeChatCrypto:
        if self.crypto is None:
            raise _Rejected(403, "BUTLER_WECOM_TOKEN / BUTLER_WECOM_AES_KEY not set")
        return self.crypto

    def _check_timestamp(self, timestamp: str) -> None:
        if not (0 < len(timestamp) <= 12 and timestamp.isascii() and timestamp.isdigit()):
            raise _Rejected(400, "bad timestamp")
        if abs(time.time() - int(timestamp)) > self.config.timestamp_tolerance_seconds:
            raise _Rejected(403, "stale timestamp")

    def _reject(self, exc: _Rejected) -> web.Response:
        REJECTED.labels("wecom_" + exc.reason.split(":")[0]).inc()
        log.info("wecom request rejected: %s", exc.reason)
        return web.Response(status=exc.status, text=exc.reason)

    async def verify_url(self, request: web.Request) -> web.Response:
        """The console's URL check: echostr is encrypted; answer it decrypted on a valid signature."""
        q = request.query
        try:
            crypto = self._require_crypto()
            self._check_timestamp(q.get("timestamp", ""))
            try:
                echo = crypto.check_signature(q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""),
                                              q.get("echostr", ""))
            except InvalidSignatureException as exc:
                raise _Rejected(403, "bad msg_signature") from exc
            except Exception as exc:  # bad base64/padding/corp id inside echostr
                raise _Rejected(400, f"cannot decrypt echostr: {type(exc).__name__}") from exc
        except _Rejected as exc:
            return self._reject(exc)
        return web.Response(text=echo.decode() if isinstance(echo, bytes) else str(echo))

    async def receive(self, request: web.Request) -> web.Response:
        """A callback: checked, decrypted, deduplicated, then handled; the answer is always empty."""
        q = request.query
        try:
            crypto = self._require_crypto()
            body = await self._read_body(request)
            self._check_timestamp(q.get("timestamp", ""))
            envelope = parse_xml(body)
            if not envelope.get("Encrypt"):
                raise MalformedMessage("Encrypt is missing")
            try:
                plain = crypto.decrypt_message({"Encrypt": envelope["Encrypt"]}, q.get("msg_signature", ""),
                                               q.get("timestamp", ""), q.get("nonce", ""))
            except InvalidSignatureException as exc:
                raise _Rejected(403, "bad msg_signature") from exc
            except Exception as exc:  # struct.error, ValueError, InvalidCorpIdException …
                raise _Rejected(400, f"cannot decrypt: {type(exc).__name__}") from exc
            fields = parse_xml(plain)
            await self._refuse_replay(q.get("timestamp", ""), q.get("nonce", ""), fields)
            event = to_event(fields)
        except _Rejected as exc:
            return self._reject(exc)
        except MalformedMessage as exc:
            return self._reject(_Rejected(400, f"malformed: {exc}"))
        if event is None:
            return web.Response(text="")
        INBOUND.labels("wecom", type(event).__name__).inc()
        key = dedupe_key(fields)
        try:
            first = await self.kv.claim(key, ttl_seconds=self.config.dedupe_ttl_seconds)
        except Exception:  # store down: a press is still decided once by the conditional update
            log.warning("wecom dedupe store unavailable", exc_info=True)
            first = True
        if not first:
            DUPLICATES.inc()
            return web.Response(text="")
        try:
            await self.handle(event)
        except Exception:
            log.exception("wecom %s from %s failed", type(event).__name__, event.userid)
            try:  # rolled back: let WeCom's retry handle it afresh
                await self.kv.delete(key)
            except Exception:
                log.warning("could not clear wecom dedupe key", exc_info=True)
        return web.Response(text="")

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise _Rejected(413, "body too large")
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise _Rejected(413, "body too large")
        return body

    async def _refuse_replay(self, timestamp: str, nonce: str, fields: dict[str, str]) -> None:
        """A (timestamp, nonce) seen with another message in the window is a replay (see /wechat)."""
        key = "wc:nonce:" + hashlib.sha256(f"{timestamp}:{nonce}".encode()).hexdigest()[:32]
        digest = hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()
        try:
            if await self.kv.claim(key, ttl_seconds=2 * self.config.timestamp_tolerance_seconds + 1, value=digest):
                return
            seen = await self.kv.get(key)
        except Exception:
            log.warning("replay store unavailable; not checking nonces", exc_info=True)
            return
        if seen is not None and seen != digest:
            raise _Rejected(403, "replayed nonce")
