"""`/wechat`: verify, decrypt, parse, dedupe, hand a typed event to the dialogs, reply in time."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from bot.metrics import DUPLICATES, INBOUND, LATE_REPLIES, NOTIFICATIONS, REJECTED
from bot.wechat.classify import Classified, classify
from bot.wechat.late import LEASE_SECONDS, LateReplies
from bot.wechat.protocol import MalformedMessage, parse_xml, render_text_reply
from dialogs import texts
from dialogs.events import InboundMessage, Reply
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

EventHandler = Callable[[InboundMessage], Awaitable[Reply | None]]
LateDelivery = Callable[[str, str], Awaitable[None]]
# (kind, fields) of a platform notification, e.g. a send result to record.
NotificationHandler = Callable[[str, dict[str, str]], Awaitable[None]]

# Stored in place of a reply when it went out through the customer-service API instead.
_SENT_LATER = "\x00later"
# Stored while a reply past the deadline is still being made, under a lease its worker renews.
_LEASED = "\x00lease"
_NO_REPLY = ""
_CLAIMED, _TAKEN, _RECOVERING = object(), object(), object()


@dataclass
class WebhookConfig:
    """The knobs the webhook needs, taken from Settings by create_app."""

    token: str
    aes_key: str
    app_id: str
    max_body_bytes: int = 64 * 1024
    timestamp_tolerance_seconds: int = 300
    reply_deadline_seconds: float = 4.0
    dedupe_ttl_seconds: int = 300


class Rejected(Exception):
    """A request refused with an HTTP status (never a 500)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WeChatWebhook:
    """The aiohttp handlers for GET/POST /wechat."""

    def __init__(
        self, config: WebhookConfig, *, kv: KeyValueStore, handle: EventHandler, deliver_later: LateDelivery,
        on_notification: NotificationHandler | None = None,
        late: LateReplies | None = None,
    ) -> None:
        self.config = config
        self.on_notification = on_notification
        self.late = late
        self.kv = kv
        self.handle = handle
        self.deliver_later = deliver_later
        self.crypto = (
            WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        )
        self._background: set[asyncio.Task[None]] = set()

    # --- HTTP handlers --------------------------------------------------------------------------

    async def verify_url(self, request: web.Request) -> web.Response:
        """URL verification from the WeChat console: echo echostr on a valid signature."""
        q = request.query
        try:
            self._require_token()
            self._check_timestamp(q.get("timestamp", ""))
            self._check_signature(q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", ""))
        except Rejected as exc:
            return self._reject(exc)
        return web.Response(text=q.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        """A message or event; the reply is rendered per the protocol (encrypted if the request was)."""
        try:
            self._require_token()
            body = await self._read_body(request)
            fields, encrypted = self._open(request, body)
            classified = classify(fields)
            claim = await self._refuse_replay(request, fields, classified.event)
        except Rejected as exc:
            return self._reject(exc)
        except MalformedMessage as exc:
            return self._reject(Rejected(400, f"malformed: {exc}"))
        if classified.event is None:
            # Platform notifications and unknown types: never the dialogs, never an owner row.
            NOTIFICATIONS.labels(classified.category, classified.kind).inc()
            await self._notify(classified, fields)
            return web.Response(text="success")
        event = classified.event
        INBOUND.labels("wechat", event.kind).inc()
        reply_xml = await self._respond(event, account=fields.get("ToUserName", ""), claim=claim)
        if not reply_xml:
            return web.Response(text="success")
        if encrypted and self.crypto is not None:
            q = request.query
            reply_xml = self.crypto.encrypt_message(reply_xml, q.get("nonce", ""), q.get("timestamp"))
        return web.Response(text=reply_xml, content_type="application/xml")

    async def _notify(self, classified: Classified, fields: dict[str, str]) -> None:
        if self.on_notification is None:
            return
        try:
            await self.on_notification(classified.kind, fields)
        except Exception:  # a send result we cannot record must not make WeChat retry forever
            log.warning("notification %s could not be recorded", classified.kind, exc_info=True)

    # --- checks ---------------------------------------------------------------------------------

    def _require_token(self) -> None:
        # With no Token every signature could be forged by anyone (sha1 of timestamp+nonce alone).
        if not self.config.token:
            raise Rejected(403, "BUTLER_WECHAT_TOKEN is not set")

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise Rejected(413, "body too large")
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise Rejected(413, "body too large")
        return body

    def _check_timestamp(self, timestamp: str) -> None:
        # A Unix time has at most 11 digits for millennia; anything else is not a timestamp (and a
        # 400-digit one would overflow the float arithmetic below).
        if not (0 < len(timestamp) <= 12 and timestamp.isascii() and timestamp.isdigit()):
            raise Rejected(400, "bad timestamp")
        if abs(time.time() - int(timestamp)) > self.config.timestamp_tolerance_seconds:
            raise Rejected(403, "stale timestamp")

    def _check_signature(self, signature: str, timestamp: str, nonce: str) -> None:
        try:
            check_signature(self.config.token, signature, timestamp, nonce)
        except InvalidSignatureException as exc:
            raise Rejected(403, "bad signature") from exc

    def _open(self, request: web.Request, body: bytes) -> tuple[dict[str, str], bool]:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        self._check_timestamp(timestamp)
        if q.get("encrypt_type") != "aes":
            if self.crypto is not None:
                # Safe mode configured: only an encrypted body is covered by a signature (the URL
                # signature of plaintext mode covers timestamp and nonce, not the body).
                raise Rejected(403, "plaintext refused in safe mode")
            self._check_signature(q.get("signature", ""), timestamp, nonce)
            return parse_xml(body), False
        if self.crypto is None:
            raise Rejected(400, "safe mode is not configured (BUTLER_WECHAT_AES_KEY)")
        envelope = parse_xml(body)
        if not envelope.get("Encrypt"):
            raise MalformedMessage("Encrypt is missing")
        try:
            plain = self.crypto.decrypt_message(
                {"Encrypt": envelope["Encrypt"]}, q.get("msg_signature", ""), timestamp, nonce
            )
        except InvalidSignatureException as exc:
            raise Rejected(403, "bad msg_signature") from exc
        except Exception as exc:  # wechatpy raises struct.error, IndexError, ValueError … on bad blocks
            raise Rejected(400, f"cannot decrypt: {type(exc).__name__}") from exc
        return parse_xml(plain), True

    async def _refuse_replay(
        self, request: web.Request, fields: dict[str, str], event: InboundMessage | None
    ) -> object | None:
        """A (timestamp, nonce) seen with another message within the tolerance window is a replay.

        The pair is claimed with SET NX holding a hash of the message: WeChat's own retry of the
        same request carries the same message and passes; a captured URL re-sent with another body
        does not. The hash is of the (decrypted) fields, not the raw body, so a retry that WeChat
        re-encrypted (AES adds a random prefix) is still the same message.

        For a message, the dedupe claim (see _claim) goes in the same Redis round trip, and its
        outcome is returned; a replay refused here gives back a dedupe claim it took.
        """
        q = request.query
        key = "wx:nonce:" + hashlib.sha256(f"{q.get('timestamp', '')}:{q.get('nonce', '')}".encode()).hexdigest()[:32]
        digest = hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()
        ttl = 2 * self.config.timestamp_tolerance_seconds + 1
        claims, gets = [(key, digest, ttl)], [key]
        if event is not None:
            dedupe = f"wx:dedupe:{event.dedupe_key}"
            claims.append((dedupe, "1", self._claim_ttl()))
            gets.append(f"{dedupe}:late")
        try:
            claimed, values = await self.kv.claims_and_gets(claims, gets)
        except Exception:  # store down: the signature and timestamp checks still stand
            log.warning("replay store unavailable; not checking nonces", exc_info=True)
            return None
        claim = None if event is None else self._claim_outcome(claimed[1], values[1])
        if not claimed[0] and values[0] is not None and values[0] != digest:
            if claim is not None and claim is not _TAKEN and event is not None:
                await self._forget(f"wx:dedupe:{event.dedupe_key}")
            raise Rejected(403, "replayed nonce")
        return claim

    def _reject(self, exc: Rejected) -> web.Response:
        REJECTED.labels(exc.reason.split(":")[0]).inc()
        log.info("wechat request rejected: %s", exc.reason)
        return web.Response(status=exc.status, text=exc.reason)

    # --- dedupe, the passive-reply deadline and the late-reply lease ------------------------------

    async def _respond(self, event: InboundMessage, *, account: str, claim: object | None = None) -> str:
        """The rendered reply XML ('' for none); a retry gets the first attempt's reply.

        One deadline for the whole request, waiting for an earlier attempt included, so even a
        retry that takes a message over answers inside WeChat's 5 seconds.
        """
        deadline = time.monotonic() + self.config.reply_deadline_seconds
        dedupe, reply_key = f"wx:dedupe:{event.dedupe_key}", f"wx:reply:{event.dedupe_key}"
        if claim is None:  # not claimed with the nonce (Redis was down for it): try again now
            claim = await self._claim(dedupe)
        if claim is _TAKEN:
            DUPLICATES.inc()
            stored = await self._await_first_reply(reply_key, dedupe, deadline)
            if stored is not None:
                return stored
            # The first attempt's claim or lease lapsed with no reply: its process died mid-message
            # (kill -9, OOM). This retry takes the message over; the message log's unique key still
            # makes sure a message that did commit has its effect once.
            claim = await self._claim(dedupe)
            if claim is _TAKEN:
                return ""
            claim = _RECOVERING
        task = asyncio.create_task(self._process(event, account, reply_key, dedupe, recovering=claim is _RECOVERING))
        try:
            # A retry that spent its budget waiting still gives its own handling a moment, but never
            # more than the configured deadline itself (0 means: always answer later).
            floor = min(0.05, self.config.reply_deadline_seconds)
            xml, text = await asyncio.wait_for(asyncio.shield(task), max(floor, deadline - time.monotonic()))
        except TimeoutError:
            return await self._answer_later(task, event, reply_key, dedupe)
        if claim is _RECOVERING and text and self.late is not None and not await self.late.settle(event.dedupe_key, "passive"):
            # An earlier worker went past the deadline and its reply already went out (it, or the
            # sweeper, sent it by customer-service message): saying it again would be a duplicate.
            await self._store(reply_key, _SENT_LATER)
            return ""
        return xml

    async def _answer_later(
        self, task: asyncio.Task[tuple[str, str]], event: InboundMessage, reply_key: str, dedupe: str
    ) -> str:
        """Past the deadline: answer WeChat now with nothing, send the reply when it is ready."""
        LATE_REPLIES.inc()
        await self._store(f"{dedupe}:late", "1")  # outlives the lease, for whoever takes over
        await self._store(reply_key, _LEASED, ttl=math.ceil(LEASE_SECONDS))
        await self._store(dedupe, "1", ttl=math.ceil(LEASE_SECONDS))
        late = asyncio.create_task(self._deliver_when_ready(task, event, reply_key, dedupe))
        self._background.add(late)
        late.add_done_callback(self._background.discard)
        return ""

    async def _process(
        self, event: InboundMessage, account: str, reply_key: str, dedupe: str, *, recovering: bool = False
    ) -> tuple[str, str]:
        """Run the dialogs; returns (rendered XML, plain text), both empty for no reply.

        `recovering`: this may be a message an earlier attempt already handled (a takeover, or any
        message while Redis is down); its reply then comes from the message log.
        """
        try:
            reply = await self.handle(event)
        except Exception:
            log.exception("handling %s failed", event.dedupe_key)
            # The attempt was rolled back; forget the claim so a resend is handled afresh, and say
            # so: answering "success" with nothing would leave the owner talking to a wall.
            await self._forget(dedupe)
            busy = render_text_reply(to_openid=event.user_id, from_account=account, text=texts.BUSY)
            return busy, texts.BUSY
        text = reply.text if reply is not None else ""
        if recovering and not text and self.late is not None:
            # A duplicate the message log absorbed: answer with the first attempt's reply.
            text = await self.late.logged_reply(event.dedupe_key)
        xml = render_text_reply(to_openid=event.user_id, from_account=account, text=text) if text else _NO_REPLY
        # One round trip, in order: the reply (NX: if the deadline already passed, the lease marker
        # must win for retries), then the claim held for the full TTL so retries get it.
        try:
            await self.kv.set_many([(reply_key, xml, True), (dedupe, "1", False)],
                                   ttl_seconds=self.config.dedupe_ttl_seconds)
        except Exception:
            log.warning("could not cache reply %s", reply_key, exc_info=True)
        return xml, text

    async def _deliver_when_ready(
        self, task: asyncio.Task[tuple[str, str]], event: InboundMessage, reply_key: str, dedupe: str
    ) -> None:
        """Renew the lease while the reply is being made, then send it, unless a takeover or the
        sweeper already answered for us."""
        done = asyncio.Event()
        renewer = asyncio.create_task(self._renew_lease(event, reply_key, dedupe, done))
        try:
            _xml, text = await task
        finally:
            done.set()
            await renewer
        try:
            if self.late is not None:  # settled and queued in the outbox in one commit
                try:
                    await self.late.answer(event.dedupe_key, event.user_id, text)
                    text = ""
                except Exception:  # the database is down (the reply is then 系统繁忙): send it directly
                    log.warning("late reply %s not queued; sending it directly", event.dedupe_key, exc_info=True)
            if text:
                await self.deliver_later(event.user_id, text)
        except Exception:
            log.exception("late reply to %s could not be delivered", event.user_id)
        finally:
            # Answered (or nothing to say): retries now get "success" for the full dedupe TTL.
            await self._store(reply_key, _SENT_LATER)
            await self._store(dedupe, "1")

    async def _renew_lease(self, event: InboundMessage, reply_key: str, dedupe: str, done: asyncio.Event) -> None:
        ttl = math.ceil(LEASE_SECONDS)
        while not done.is_set():
            if self.late is not None:
                await self.late.hold(event)
            await self._store(reply_key, _LEASED, ttl=ttl)
            await self._store(dedupe, "1", ttl=ttl)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), LEASE_SECONDS / 3)

    async def _claim(self, dedupe: str) -> object:
        """Claim a message for handling: _CLAIMED, _TAKEN (someone else has it) or _RECOVERING
        (Redis is down, so this may be a retry; or an earlier attempt went late). The claim is
        short until the reply is stored, so a worker killed mid-message doesn't hold it for the
        whole dedupe TTL."""
        try:
            claimed, went_late = await self.kv.claim_and_get(dedupe, f"{dedupe}:late", ttl_seconds=self._claim_ttl())
        except Exception:  # Redis down: the message log's unique key still stops double effects
            log.warning("dedupe store unavailable; relying on the database", exc_info=True)
            return _RECOVERING
        return self._claim_outcome(claimed, went_late)

    def _claim_ttl(self) -> int:
        return math.ceil(self.config.reply_deadline_seconds) + 2

    @staticmethod
    def _claim_outcome(claimed: bool, went_late: str | None) -> object:
        if not claimed:
            return _TAKEN
        # Free again, but an earlier attempt went past the deadline (and maybe died): whoever
        # answers must first settle with that attempt's lease.
        return _RECOVERING if went_late else _CLAIMED

    async def _await_first_reply(self, reply_key: str, dedupe: str, deadline: float) -> str | None:
        """The first attempt's reply; None when nobody holds the message any more (take it over)."""
        while time.monotonic() < deadline:
            try:
                stored = await self.kv.get(reply_key)
                if stored is None and await self.kv.get(dedupe) is None:
                    return None
            except Exception:
                return ""
            if stored == _SENT_LATER:
                return ""
            if stored is not None and stored != _LEASED:
                return stored
            # Still being handled (or answered late under a lease that may yet lapse): wait.
            await asyncio.sleep(0.05)
        return ""

    async def _store(self, key: str, value: str, *, ttl: int | None = None) -> None:
        try:
            await self.kv.set(key, value, ttl_seconds=ttl or self.config.dedupe_ttl_seconds)
        except Exception:
            log.warning("could not cache reply %s", key, exc_info=True)

    async def _forget(self, key: str) -> None:
        try:
            await self.kv.delete(key)
        except Exception:
            log.warning("could not clear dedupe key %s", key, exc_info=True)
