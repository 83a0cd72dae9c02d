"""Builds requests exactly as WeChat's servers send them: signed plaintext or safe-mode XML."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.wechat.protocol import cdata_safe, parse_xml


def sign(*parts: str) -> str:
    """WeChat's SHA1 signature over the sorted parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def text_xml(openid: str, text: str, *, msg_id: int | None = None, account: str = "gh_butler") -> str:
    """A text message body."""
    return (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{cdata_safe(text)}]]></Content>"
        f"<MsgId>{msg_id or secrets.randbits(62)}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, *, key: str = "", account: str = "gh_butler", at: int | None = None) -> str:
    """An event body (subscribe, unsubscribe, CLICK, …)."""
    return (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{at or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


@dataclass
class WeChatSender:
    """Signs (and in safe mode encrypts) bodies and opens replies, like the WeChat platform."""

    token: str
    aes_key: str = ""
    app_id: str = ""

    @property
    def crypto(self) -> WeChatCrypto | None:
        """The safe-mode cipher, when an EncodingAESKey is set."""
        return WeChatCrypto(self.token, self.aes_key, self.app_id) if self.aes_key else None

    def request(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> tuple[str, bytes]:
        """(query string, body) for POST /wechat."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        query = {"timestamp": ts, "nonce": nonce, "signature": sign(self.token, ts, nonce), "openid": ""}
        crypto = self.crypto
        if crypto is None:
            return urlencode(query), xml.encode()
        envelope = crypto.encrypt_message(xml, nonce, ts)
        encrypt = parse_xml(envelope)["Encrypt"]
        query |= {"encrypt_type": "aes", "msg_signature": sign(self.token, ts, nonce, encrypt)}
        body = f"<xml><ToUserName><![CDATA[gh_butler]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        return urlencode(query), body.encode()

    def open_reply(self, body: str, query: str) -> dict[str, str]:
        """Decrypt (if needed) and parse a passive reply; {} for 'success'."""
        if body.strip() in ("", "success"):
            return {}
        crypto = self.crypto
        if crypto is None:
            return parse_xml(body)
        env = parse_xml(body)
        params = dict(p.split("=", 1) for p in query.split("&"))
        plain = crypto.decrypt_message(
            {"Encrypt": env["Encrypt"]}, env["MsgSignature"], env["TimeStamp"], env["Nonce"]
        )
        del params
        return parse_xml(plain)
