"""Async client for the WeChat official-account API.

wechatpy's client is synchronous, hard-codes the token host, sets no timeouts and loops forever on
a persistent 40001, so outbound calls use aiohttp here; wechatpy still does crypto and replies.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import aiohttp

from bot.metrics import OUTBOUND
from bot.outbound import TOKEN_ERRORS, TokenRejected, guarded, with_fresh_token
from bot.outbox_relay import OutcomeUnknown, RetryLater
from dialogs.guard import ContentGuard
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

TOKEN_KEY = "wechat:access_token"


PAUSE_KEY = "wechat:paused_until"  # epoch seconds; set after a token is rejected right after a refresh
BACKOFF_KEY = "wechat:pause_seconds"
# Raised by aiohttp once the request may have reached WeChat: the outcome is unknown, not failed.
_AFTER_SEND = (aiohttp.ServerTimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
               aiohttp.ClientResponseError, TimeoutError, ValueError)


class WeChatAPIError(RuntimeError):
    """The API answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WindowClosed(WeChatAPIError):
    """45015: the 48-hour customer-service window is closed."""


class QuotaExceeded(WeChatAPIError):
    """45047 (customer-service count) or 45009 (daily API quota) exceeded."""


class NotFollowing(WeChatAPIError):
    """43004: the owner no longer follows the account."""


class SendOutcomeUnknown(WeChatAPIError, OutcomeUnknown):
    """The call timed out or the connection dropped after the request went out: WeChat may have
    acted on it. Never retried blindly (issue 15)."""


class SendingPaused(WeChatAPIError, RetryLater):
    """All sending is paused (the token was rejected again right after a refresh); try later."""


_TYPED = {45015: WindowClosed, 45047: QuotaExceeded, 45009: QuotaExceeded, 43004: NotFollowing}


def api_error(errcode: int, errmsg: str) -> WeChatAPIError:
    """The typed exception for an errcode, so callers can choose a fallback."""
    return _TYPED.get(errcode, WeChatAPIError)(errcode, errmsg)


class WeChatClient:
    """Outbound calls: token shared via Redis and refreshed under a lock; one retry on 40001/42001."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        api_base: str,
        kv: KeyValueStore,
        guard: ContentGuard,
        timeout_seconds: float = 5.0,
        pause_seconds: float = 30.0,
        pause_max_seconds: float = 1800.0,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.api_base = api_base.rstrip("/")
        self.kv = kv
        self.guard = guard
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self.pause_seconds = pause_seconds
        self.pause_max_seconds = pause_max_seconds
        # This process's view of the pause, so a Redis outage does not lift it.
        self._paused_until = 0.0
        self._pausing = False

    @property
    def configured(self) -> bool:
        """True when credentials are present (otherwise the hub can only reply passively)."""
        return bool(self.app_id and self.app_secret)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    # --- access token -------------------------------------------------------------------------

    async def access_token(self) -> str:
        """The shared token; only one process fetches a new one, the others wait and reuse it."""
        token, paused = await self.kv.get_many(TOKEN_KEY, PAUSE_KEY)
        self._paused_until = max(self._paused_until, float(paused or 0))
        self._check_paused()
        if token:
            return token
        async with self.kv.lock("wechat-token", timeout=15, wait=15):
            token = await self.kv.get(TOKEN_KEY)  # another process may have refreshed meanwhile
            if token:
                return token
            return await self._fetch_token()

    async def _fetch_token(self) -> str:
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}
        async with self._http().get(f"{self.api_base}/cgi-bin/token", params=params) as resp:
            data = await resp.json(content_type=None)
        if "access_token" not in data:
            OUTBOUND.labels("token", "error").inc()
            raise api_error(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        OUTBOUND.labels("token", "ok").inc()
        # Refresh 5 minutes early: a new token invalidates the old one after 5 minutes anyway.
        ttl = max(60, int(data.get("expires_in", 7200)) - 300)
        await self.kv.set(TOKEN_KEY, data["access_token"], ttl_seconds=ttl)
        return str(data["access_token"])

    async def _invalidate(self, stale: str) -> None:
        # Compare-and-delete: never throw away a token another process just refreshed.
        await self.kv.delete_if_equals(TOKEN_KEY, stale)

    # --- pausing after a persistent token rejection ---------------------------------------------

    def paused_until(self) -> float:
        """Epoch seconds until which sending is paused (0 when not), as this process knows it."""
        return self._paused_until if self._paused_until > time.time() else 0.0

    async def shared_pause(self) -> float:
        """Like paused_until, but also seeing a pause another process started (for /healthz)."""
        try:
            shared = float(await self.kv.get(PAUSE_KEY) or 0)
        except Exception:
            shared = 0.0
        self._paused_until = max(self._paused_until, shared)
        return self.paused_until()

    def _check_paused(self) -> None:
        if self._paused_until > time.time():
            raise SendingPaused(-3, f"sending paused for {self._paused_until - time.time():.0f}s: access token rejected")

    async def _pause(self, errcode: int) -> None:
        """A token fresh from the endpoint was rejected too: stop every process sending, with a
        doubling backoff, instead of fetching a token per message (the token quota is small)."""
        if self._paused_until > time.time():
            return  # a concurrent call already paused: one pause per refresh, not one per message
        try:
            shared, backoff = await self.kv.get_many(PAUSE_KEY, BACKOFF_KEY)
        except Exception:
            shared, backoff = None, None
        if shared and float(shared) > time.time():
            self._paused_until = float(shared)  # another process paused first
            return
        last = float(backoff or 0)
        seconds = min(self.pause_max_seconds, max(self.pause_seconds, last * 2))
        self._paused_until = time.time() + seconds
        self._pausing = True
        log.error("wechat access token rejected after a refresh (%s): all sending paused for %.0f s", errcode, seconds)
        try:
            await self.kv.set(PAUSE_KEY, str(self._paused_until), ttl_seconds=int(seconds) + 1)
            await self.kv.set(BACKOFF_KEY, str(seconds), ttl_seconds=int(self.pause_max_seconds * 4))
        except Exception:
            log.warning("pause not shared through Redis; this process pauses alone", exc_info=True)

    async def _resume(self) -> None:
        if self._pausing:
            self._pausing = False
            try:
                await self.kv.delete(BACKOFF_KEY)
            except Exception:
                log.warning("could not reset the sending backoff", exc_info=True)

    # --- generic call ---------------------------------------------------------------------------

    async def call(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Call an API path; refresh the token once on 40001/42001 and retry once, never loop.

        Rejected again with the fresh token: all sending pauses (SendingPaused) with a backoff.
        A timeout or dropped connection after the request went out raises SendOutcomeUnknown.
        """
        api = path.rsplit("/", 1)[-1]

        async def attempt(token: str) -> dict[str, Any]:
            query = {"access_token": token, **(params or {})}
            try:
                async with self._http().request(
                    method, f"{self.api_base}{path}", params=query, json=json
                ) as resp:
                    data: dict[str, Any] = await resp.json(content_type=None)
            except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
                OUTBOUND.labels(api, "transport_error").inc()
                raise WeChatAPIError(-1, f"transport: {exc!r}") from exc
            except (*_AFTER_SEND, aiohttp.ClientError) as exc:  # ValueError: not JSON
                OUTBOUND.labels(api, "unknown").inc()
                raise SendOutcomeUnknown(-1, f"transport (outcome unknown): {exc!r}") from exc
            errcode = int(data.get("errcode", 0) or 0)
            if errcode in TOKEN_ERRORS:
                raise TokenRejected(errcode, str(data.get("errmsg", "")))
            if errcode:
                OUTBOUND.labels(api, str(errcode)).inc()
                raise api_error(errcode, str(data.get("errmsg", "")))
            return data

        try:
            data = await with_fresh_token(self.access_token, self._invalidate, attempt, platform="wechat")
        except TokenRejected as exc:
            OUTBOUND.labels(api, str(exc.errcode)).inc()
            await self._pause(exc.errcode)
            raise SendingPaused(exc.errcode, exc.errmsg + " (sending paused)") from exc
        OUTBOUND.labels(api, "ok").inc()
        await self._resume()
        return data

    def _guarded(self, text: str) -> str:
        return guarded(self.guard, text)

    # --- API methods ----------------------------------------------------------------------------

    async def send_text(self, openid: str, text: str) -> None:
        """Customer-service text (allowed within the owner's 48-hour window)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": self._guarded(text)}}
        await self.call("POST", "/cgi-bin/message/custom/send", json=body)

    async def send_menu(self, openid: str, head: str, options: list[str], *, tail: str = "") -> None:
        """Customer-service menu message (msgmenu): each option is a tap that sends its words back."""
        self._guarded(head + "".join(options) + tail)
        body = {
            "touser": openid, "msgtype": "msgmenu",
            "msgmenu": {
                "head_content": head, "tail_content": tail,
                "list": [{"id": str(i), "content": option} for i, option in enumerate(options, start=1)],
            },
        }
        await self.call("POST", "/cgi-bin/message/custom/send", json=body)

    async def send_news(self, openid: str, articles: list[dict[str, str]]) -> None:
        """Customer-service news card(s): each article has title, description, url, picurl."""
        for article in articles:
            self._guarded(article.get("title", "") + article.get("description", ""))
        body = {"touser": openid, "msgtype": "news", "news": {"articles": articles}}
        await self.call("POST", "/cgi-bin/message/custom/send", json=body)

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], *, url: str = ""
    ) -> int:
        """A template service notice; returns WeChat's msgid."""
        for value in data.values():
            self._guarded(value)
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        result = await self.call("POST", "/cgi-bin/message/template/send", json=body)
        return int(result.get("msgid", 0))

    async def mass_send_text(
        self, openids: list[str], text: str, *, clientmsgid: str | None = None
    ) -> int:
        """Mass send to 2..10,000 openids; clientmsgid makes a resend after a crash a no-op."""
        if not 2 <= len(openids) <= 10000:
            raise ValueError("mass send takes 2 to 10,000 openids")
        body: dict[str, Any] = {
            "touser": openids,
            "msgtype": "text",
            "text": {"content": self._guarded(text)},
            "clientmsgid": clientmsgid or secrets.token_hex(8),
        }
        result = await self.call("POST", "/cgi-bin/message/mass/send", json=body)
        return int(result.get("msg_id", 0))

    async def user_info(self, openid: str) -> dict[str, Any]:
        """Profile of a follower (nickname, subscribe, tagid_list, …)."""
        return await self.call("GET", "/cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"})

    async def create_tag(self, name: str) -> int:
        """Create a user tag; returns its id."""
        result = await self.call("POST", "/cgi-bin/tags/create", json={"tag": {"name": name}})
        return int(result["tag"]["id"])

    async def tag_users(self, tag_id: int, openids: list[str]) -> None:
        """Put up to 50 followers under a tag."""
        await self.call(
            "POST", "/cgi-bin/tags/members/batchtagging", json={"openid_list": openids, "tagid": tag_id}
        )

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the custom menu."""
        await self.call("POST", "/cgi-bin/menu/create", json=menu)
