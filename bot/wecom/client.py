"""Async client for the WeCom (企业微信) self-built app API, on `wechatpy.enterprise.WeChatClient`.

wechatpy's client is synchronous (requests), so every call runs in a worker thread. What it does
not do our way is done here: the access token is shared by every process through Redis and
fetched under a lock (WeCom's gettoken is rate-limited), the token host follows
BUTLER_WECOM_API_BASE, a rejected token (40014 invalid / 42001 expired / 40001) is refreshed and
the call retried once (bot/outbound.py, shared with the WeChat client) — never the SDK's unbounded
auto-retry — and errcodes and transport failures become the same exceptions the WeChat client
raises, so the outbox records them alike. A rate limit pauses all sending with a doubling backoff
and leaves the outbox row pending, as the WeChat sender does with 45009.
Template cards (which wechatpy has no helper for) go through the SDK's own `post()`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError
from wechatpy.enterprise import WeChatClient as EnterpriseSDK
from wechatpy.exceptions import WeChatClientException

from bot.metrics import OUTBOUND
from bot.outbound import TOKEN_ERRORS, TokenRejected, guarded, with_fresh_token
from bot.wechat.client import SendingPaused, SendOutcomeUnknown, WeChatAPIError, api_error
from dialogs.guard import ContentGuard
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

TOKEN_KEY = "wecom:access_token"
PAUSE_KEY = "wecom:paused_until"  # epoch seconds: a rate limit pauses every process's sending
BACKOFF_KEY = "wecom:pause_seconds"
# 45009 API call limit (per app and per member), 45011 too frequent, 45033 too many concurrent calls.
RATE_LIMITS = frozenset({45009, 45011, 45033})
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


class RateLimited(SendingPaused):
    """WeCom said 45009 / 45011 / 45033, or a pause after one is on: send later, nothing lost."""


class WeComClient:
    """Outbound app messages: text, template cards and their updates, images."""

    def __init__(
        self, *, corp_id: str, secret: str, agent_id: str, api_base: str, kv: KeyValueStore, guard: ContentGuard,
        timeout_seconds: float = 5.0, pause_seconds: float = 30.0, pause_max_seconds: float = 1800.0,
    ) -> None:
        self.pause_seconds = pause_seconds
        self.pause_max_seconds = pause_max_seconds
        self._paused_until = 0.0  # this process's view, so a store outage does not lift a pause
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

    # --- pausing on rate limits ------------------------------------------------------------------

    async def _check_paused(self) -> None:
        """Refuse to call WeCom while a rate-limit pause (any process's) is on."""
        try:
            shared = float(await self.kv.get(PAUSE_KEY) or 0)
        except Exception:  # store down: this process's own view of the pause still holds
            shared = 0.0
        self._paused_until = max(self._paused_until, shared)
        if self._paused_until > time.time():
            raise RateLimited(-3, f"wecom sending paused for {self._paused_until - time.time():.0f}s (rate limit)")

    async def _pause(self, errcode: int) -> float:
        """Stop every process sending for a while, doubling the wait on each limit in a row."""
        try:
            last = float(await self.kv.get(BACKOFF_KEY) or 0)
        except Exception:
            last = 0.0
        seconds = min(self.pause_max_seconds, max(self.pause_seconds, last * 2))
        self._paused_until = time.time() + seconds
        log.warning("wecom rate limit (%s): sending paused for %.0f s", errcode, seconds)
        try:
            await self.kv.set(PAUSE_KEY, str(self._paused_until), ttl_seconds=int(seconds) + 1)
            await self.kv.set(BACKOFF_KEY, str(seconds), ttl_seconds=int(self.pause_max_seconds * 4))
        except Exception:
            log.warning("wecom pause not shared through the store; this process pauses alone", exc_info=True)
        return seconds

    async def _resume(self) -> None:
        if self._paused_until:
            self._paused_until = 0.0
            try:
                await self.kv.delete(BACKOFF_KEY)
            except Exception:
                log.warning("could not reset the wecom backoff", exc_info=True)

    # --- generic call ---------------------------------------------------------------------------

    async def post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """POST an API endpoint (e.g. "message/send") through the SDK; one refresh on a bad token.

        A rate limit (45009 / 45011 / 45033) is not a failure: sending pauses with a doubling
        backoff and RateLimited (a RetryLater) leaves the outbox row pending, so nothing is lost.
        """
        api = "wecom_" + endpoint.replace("/", "_")
        extra = kwargs.pop("params", {})
        await self._check_paused()

        async def attempt(token: str) -> dict[str, Any]:
            try:
                result: dict[str, Any] = await asyncio.to_thread(
                    self.sdk.post, endpoint, params={**extra, "access_token": token}, data=data, **kwargs)
            except WeChatClientException as exc:
                errcode = int(exc.errcode) if exc.errcode is not None else -1
                if errcode in TOKEN_ERRORS:
                    raise TokenRejected(errcode, str(exc.errmsg or "")) from exc
                OUTBOUND.labels(api, str(errcode)).inc()
                if errcode in RATE_LIMITS:
                    seconds = await self._pause(errcode)
                    raise RateLimited(errcode, f"{exc.errmsg} (wecom paused {seconds:.0f}s)") from exc
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
            return result

        try:
            result = await with_fresh_token(self.access_token, lambda t: self.kv.delete_if_equals(TOKEN_KEY, t),
                                            attempt, platform="wecom")
        except TokenRejected as exc:  # rejected right after a refresh: try later, not now
            OUTBOUND.labels(api, str(exc.errcode)).inc()
            raise SendingPaused(exc.errcode, f"{exc.errmsg} (wecom token rejected after a refresh)") from exc
        if not isinstance(result, dict):  # not JSON
            OUTBOUND.labels(api, "unknown").inc()
            raise SendOutcomeUnknown(-1, "wecom answered with something that is not JSON")
        OUTBOUND.labels(api, "ok").inc()
        await self._resume()
        return result

    def _guarded(self, text: str) -> str:
        return guarded(self.guard, text)

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
