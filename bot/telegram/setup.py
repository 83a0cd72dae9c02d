"""Builds the Telegram side of a process: Bot, Dispatcher, feature routers, webhook, deliveries.

Adding a feature router (e.g. issue 6's staff commands):
  1. create `bot/telegram/<feature>.py` with handlers and a factory
         def build_router() -> Router:
             router = Router(name=__name__)
             router.message.register(my_handler, Command("assign"))
             return router
     (a factory rather than a module-level Router, because tests run two apps in one process and
     an aiogram Router can be attached to only one Dispatcher);
  2. add ONE line to FEATURES below: "bot.telegram.<feature>".
Handlers receive dependencies by parameter name from the dispatcher's workflow_data:
`tg` (TelegramService: bot, chats, transaction(), deliver(), today()), `runtime` (Runtime),
`sessions` (async_sessionmaker), `kv` (KeyValueStore), `relay` (OutboxRelay), `settings`,
`staff_commands` (StaffCommands, from bot/composition.py).
Order matters only for overlapping filters: the staff-chat reply router passes on anything that
is not a reply to a handoff alert, so commands after it still see their messages.
"""

from __future__ import annotations

import importlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.commands.service import StaffCommands
from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime
from bot.telegram.deliveries import TelegramDeliveries, register_outbox_handlers
from bot.telegram.service import TelegramService
from bot.telegram.transport import ChatDirectory, ResilientRequests
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

FEATURES: tuple[str, ...] = (
    "bot.telegram.accept",
    "bot.telegram.progress",
    "bot.telegram.staff_chat",
    "bot.telegram.staff_commands",  # issue 6
    "bot.telegram.unknown_buttons",  # issue 14: keep last, it answers any press left over
)


@dataclass
class Telegram:
    """Everything one process holds for Telegram."""

    service: TelegramService
    dispatcher: Dispatcher
    deliveries: TelegramDeliveries

    @property
    def bot(self) -> Bot:
        """The aiogram Bot."""
        return self.service.bot


def feature_routers(features: tuple[str, ...] = FEATURES) -> list[Router]:
    """A fresh Router from each feature module's build_router()."""
    return [importlib.import_module(name).build_router() for name in features]


def build_bot(runtime: Runtime, chats: ChatDirectory) -> Bot:
    """A Bot speaking to BUTLER_TELEGRAM_API_BASE with 429/migration/not-modified handling."""
    settings = runtime.settings
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")),
        timeout=settings.outbound_timeout_seconds * 2,
    )
    session.middleware(
        ResilientRequests(
            chats,
            max_retries=settings.telegram_max_retries,
            max_wait_seconds=settings.telegram_max_retry_wait_seconds,
        )
    )
    return Bot(settings.telegram_token, session=session, default=DefaultBotProperties())


def build_service(runtime: Runtime, relay: OutboxRelay) -> TelegramService:
    """The Bot and chats for one process, without any update handling (scheduler process)."""
    settings = runtime.settings
    chats = ChatDirectory(
        runtime.kv, merchant_chat_id=settings.merchant_chat_id, staff_chat_id=settings.staff_chat_id
    )
    return TelegramService(
        bot=build_bot(runtime, chats),
        runtime=runtime,
        relay=relay,
        chats=chats,
        deliver_wait_seconds=settings.telegram_deliver_wait_seconds,
    )


def build_telegram(
    runtime: Runtime, relay: OutboxRelay, routers: list[Router] | None = None, *,
    staff_commands: StaffCommands | None = None,
) -> Telegram:
    """Bot + Dispatcher with the feature routers, dependencies in workflow_data, deliveries registered.

    `staff_commands` is the process's one StaffCommands (bot/composition.py); without it the
    staff command router has nothing to run, so only routers that do not need it may be passed.
    """
    service = build_service(runtime, relay)
    storage = RedisStorage(
        runtime.kv.client,
        key_builder=DefaultKeyBuilder(prefix=f"{runtime.settings.redis_prefix}fsm"),
        state_ttl=3600,
        data_ttl=3600,
    )
    dispatcher = Dispatcher(
        storage=storage,
        tg=service,
        runtime=runtime,
        sessions=runtime.sessions,
        kv=runtime.kv,
        relay=relay,
        settings=runtime.settings,
    )
    if staff_commands is not None:
        dispatcher["staff_commands"] = staff_commands  # workflow_data, like the others
    dispatcher.include_routers(*(routers if routers is not None else feature_routers()))
    deliveries = register_outbox_handlers(relay, service)
    return Telegram(service=service, dispatcher=dispatcher, deliveries=deliveries)


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler, failing closed: no secret configured means every update is refused.

    A forged update could claim to be a merchant pressing 接单 and receive an owner's phone, so
    an unauthenticated webhook is never acceptable. Bad JSON is a 400, never a 500; a redelivered
    update (same update_id) is acknowledged without being handled twice.
    """

    def __init__(self, telegram: Telegram, *, secret: str, max_body_bytes: int, kv: KeyValueStore) -> None:
        # In-request handling: a press's consequences (the owner's WeChat notice included) are
        # delivered before Telegram gets its 200, i.e. within one request cycle.
        super().__init__(
            dispatcher=telegram.dispatcher, bot=telegram.bot, handle_in_background=False, secret_token=secret
        )
        self.max_body_bytes = max_body_bytes
        self.kv = kv

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        """Constant-time comparison; False when no secret is configured."""
        return bool(self.secret_token) and secrets.compare_digest(
            telegram_secret_token.encode(), (self.secret_token or "").encode()
        )

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, parse, dedupe, then feed the Dispatcher."""
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            return web.Response(status=401, text="Unauthorized")
        body = await request.content.read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            return web.Response(status=413, text="Payload Too Large")
        try:
            update = Update.model_validate(json.loads(body), context={"bot": self.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="Bad Request")
        if not await self.kv.claim(f"tg:update:{update.update_id}", ttl_seconds=24 * 3600):
            return web.json_response({})
        try:
            result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(self.bot, update, **self.data)
        except Exception:
            # Already logged by aiogram; a 200 stops Telegram redelivering a half-handled update
            # (domain effects are in the outbox, so nothing committed is lost).
            return web.json_response({})
        return web.Response(body=self._build_response_writer(bot=self.bot, result=result))


def mount_webhook(app: web.Application, telegram: Telegram, *, secret: str, max_body_bytes: int) -> None:
    """POST /telegram: 401 without the secret header; the update is handled within the request."""
    if not secret:
        log.error("BUTLER_TELEGRAM_WEBHOOK_SECRET is empty: /telegram refuses every update")
    handler = WebhookHandler(
        telegram, secret=secret, max_body_bytes=max_body_bytes, kv=telegram.service.runtime.kv
    )
    handler.register(app, path=WEBHOOK_PATH)


def setup_telegram(app: web.Application, telegram: Telegram) -> None:
    """Mount a built Telegram (bot/composition.py) into create_app: webhook at /telegram."""
    runtime = telegram.service.runtime
    mount_webhook(
        app, telegram, secret=runtime.settings.telegram_webhook_secret, max_body_bytes=runtime.settings.max_body_bytes
    )
    app[TELEGRAM] = telegram


TELEGRAM = web.AppKey("telegram", Telegram)


def setup_telegram_outbox(runtime: Runtime, relay: OutboxRelay) -> TelegramService:
    """For processes without a webhook (`butler scheduler`): only the Telegram deliveries."""
    service = build_service(runtime, relay)
    register_outbox_handlers(relay, service)
    return service
