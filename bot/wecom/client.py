"""Async client for the WeCom (企业微信) self-built app API, on `wechatpy.enterprise.WeChatClient`.

wechatpy's client is synchronous (requests), so every call runs in a worker thread. What it does
not do our way is done here: the access token is shared by every process through Redis and
fetched under a lock (WeCom's gettoken is rate-limited), the token host follows
BUTLER_WECOM_API_BASE, a rejected token (40014 invalid / 42001 expired / 40001) is refreshed and
the call retried once — never the SDK's unbounded auto-retry — and errcodes and transport
failures become the same exceptions the WeChat client raises, so the outbox records them alike.
Template cards (which wechatpy has no helper for) go through the SDK's own `post()`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError
from wechatpy.enterprise import WeChatClient as EnterpriseSDK
from wechatpy.exceptions import WeChatClientException

from bot.metrics import GUARD_REFUSALS, OUTBOUND
from bot.wechat.client import SendingPaused, SendOutcomeUnknown, WeChatAPIError, api_error
from dialogs.guard import ContentGuard, GuardRefused
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

TOKEN_KEY = "wecom:access_token"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TEXT_LIMIT = 2048  # bytes WeCom accepts in a text message


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached WeCom (no connection was ever made)."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.InvalidURL)):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


class _SDK(EnterpriseSDK):
    """wechatpy's enterprise client with a configurable host (its gettoken URL is hard-coded)."""

    def __init__(self, corp_id: str, secret: str, *, api_base: str, timeout: float) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base.rstrip("/") + "/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        """gettoken on our host, with a timeout (wechatpy's own fetch has none)."""
        res = self._http.get(self.API_BASE_URL + "gettoken",
                             params={"corpid": self.corp_id, "corpsecret": self.secret}, timeout=self.timeout)
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if int(result.get("errcode", 0) or 0) != 0 or "access_token" not in result:
            raise WeChatClientException(result.get("errcode", -1), result.get("errmsg", ""), client=self)
        return result


class WeComClient:
    """Outbound app messages: text, template cards and their updates, images."""

    def __init__(
        self, *, corp_id: str, secret: str, agent_id: str, api_base: str, kv: KeyValueStore, guard: ContentGuard,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.agent_id = int(agent_id) if str(agent_id).isdigit() else 0
        self.kv = kv
        self.guard = guard
        self.sdk = _SDK(corp_id, secret, api_base=api_base, timeout=timeout_seconds)

    # --- access token -------------------------------------------------------------------------

    async def access_token(self) -> str:
        """The shared token; only one process fetches a new one, the others wait and reuse it."""
        token = await self.kv.get(TOKEN_KEY)
        if token:
            return token
        async with self.kv.lock("wecom-token", timeout=15, wait=15):
            token = await self.kv.get(TOKEN_KEY)  # another process may have refreshed meanwhile
            if token:
                return token
            try:
                data = await asyncio.to_thread(self.sdk.fetch_access_token)
            except WeChatClientException as exc:
                OUTBOUND.labels("wecom_token", "error").inc()
                raise api_error(int(exc.errcode or -1), str(exc.errmsg or "")) from exc
            except requests.RequestException as exc:
                OUTBOUND.labels("wecom_token", "transport_error").inc()
                raise WeChatAPIError(-1, f"wecom gettoken transport: {exc!r}") from exc
            OUTBOUND.labels("wecom_token", "ok").inc()
            ttl = max(60, int(data.get("expires_in", 7200)) - 300)  # refresh a little early
            await self.kv.set(TOKEN_KEY, str(data["access_token"]), ttl_seconds=ttl)
            return str(data["access_token"])

    # --- generic call ---------------------------------------------------------------------------

    async def post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """POST an API endpoint (e.g. "message/send") through the SDK; one refresh on a bad token."""
        api = "wecom_" + endpoint.replace("/", "_")
        extra = kwargs.pop("params", {})
        for attempt in (1, 2):
            token = await self.access_token()
            params = {**extra, "access_token": token}
            try:
                result: dict[str, Any] = await asyncio.to_thread(self.sdk.post, endpoint, params=params, data=data, **kwargs)
            except WeChatClientException as exc:
                errcode = int(exc.errcode) if exc.errcode is not None else -1
                if errcode in TOKEN_ERRORS and attempt == 1:
                    log.warning("wecom token rejected (%s); refreshing once", errcode)
                    await self.kv.delete_if_equals(TOKEN_KEY, token)
                    continue
                OUTBOUND.labels(api, str(errcode)).inc()
                if errcode in TOKEN_ERRORS:  # rejected right after a refresh: try later, not now
                    raise SendingPaused(errcode, f"{exc.errmsg} (wecom token rejected after a refresh)") from exc
                if exc.errcode is None:  # an HTTP error status: the request reached WeCom
                    raise SendOutcomeUnknown(-1, f"wecom HTTP error: {exc!r}") from exc
                raise api_error(errcode, str(exc.errmsg or "")) from exc
            except requests.RequestException as exc:
                if _never_sent(exc):
                    OUTBOUND.labels(api, "transport_error").inc()
                    raise WeChatAPIError(-1, f"wecom transport: {exc!r}") from exc
                # Read timeout, reset after sending: WeCom may have acted on it.
                OUTBOUND.labels(api, "unknown").inc()
                raise SendOutcomeUnknown(-1, f"wecom transport (outcome unknown): {exc!r}") from exc
            if not isinstance(result, dict):  # not JSON
                OUTBOUND.labels(api, "unknown").inc()
                raise SendOutcomeUnknown(-1, "wecom answered with something that is not JSON")
            OUTBOUND.labels(api, "ok").inc()
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _guarded(self, text: str) -> str:
        try:
            return self.guard.check(text)
        except GuardRefused:
            GUARD_REFUSALS.inc()
            raise

    # --- API methods ----------------------------------------------------------------------------

    async def send_text(self, userid: str, text: str) -> None:
        """An app text message to one member."""
        content = self._guarded(text).encode()[:TEXT_LIMIT].decode(errors="ignore")
        await self.post("message/send", {"touser": userid, "msgtype": "text", "agentid": self.agent_id,
                                         "text": {"content": content}})

    async def send_card(self, userid: str, card: dict[str, Any]) -> str:
        """An interactive template card to one member; returns the response_code that updates it."""
        self._guarded(repr(card))
        result = await self.post("message/send", {
            "touser": userid, "msgtype": "template_card", "agentid": self.agent_id, "template_card": card,
        })
        return str(result.get("response_code", ""))

    async def update_card(
        self, userids: list[str], response_code: str, *, card: dict[str, Any] | None = None, replace_name: str = ""
    ) -> None:
        """Change sent cards: a new card, or only the button replaced by grey text (replace_name)."""
        body: dict[str, Any] = {"userids": userids, "agentid": self.agent_id, "response_code": response_code}
        if card is not None:
            self._guarded(repr(card))
            body["template_card"] = card
        else:
            body["button"] = {"replace_name": self._guarded(replace_name)}
        await self.post("message/update_template_card", body)

    async def send_image(self, userid: str, path: str | Path) -> None:
        """Upload an image as temporary media, then send it (e.g. the daily report)."""
        content = await asyncio.to_thread(Path(path).read_bytes)  # bytes, so a retry can send them again
        uploaded = await self.post("media/upload", params={"type": "image"}, files={"media": (Path(path).name, content)})
        await self.post("message/send", {"touser": userid, "msgtype": "image", "agentid": self.agent_id,
                                         "image": {"media_id": uploaded["media_id"]}})
