"""Builds the WeCom side of a process: client, merchant channel, the /wecom callback."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime
from bot.wecom.client import WeComClient
from bot.wecom.merchants import WeComMerchants
from bot.wecom.webhook import WeComWebhook, WeComWebhookConfig

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/wecom"


def build_wecom_merchants(runtime: Runtime, relay: OutboxRelay) -> WeComMerchants:
    """The WeCom merchant channel (outbox deliveries and press handling) for one process."""
    settings = runtime.settings
    client = WeComClient(
        corp_id=settings.wecom_corp_id, secret=settings.wecom_secret, agent_id=settings.wecom_agent_id,
        api_base=settings.wecom_api_base, kv=runtime.kv, guard=runtime.guard,
        timeout_seconds=settings.outbound_timeout_seconds,
    )
    return WeComMerchants(client, runtime, relay)


def mount_wecom(app: web.Application, runtime: Runtime, channel: WeComMerchants) -> WeComWebhook:
    """GET/POST /wecom: URL verification and the app's callbacks."""
    settings = runtime.settings
    if not (settings.wecom_token and settings.wecom_aes_key):
        log.error("BUTLER_WECOM_TOKEN / BUTLER_WECOM_AES_KEY empty: /wecom refuses every request")
    webhook = WeComWebhook(
        WeComWebhookConfig(
            token=settings.wecom_token, aes_key=settings.wecom_aes_key, corp_id=settings.wecom_corp_id,
            max_body_bytes=settings.max_body_bytes, timestamp_tolerance_seconds=settings.timestamp_tolerance_seconds,
            dedupe_ttl_seconds=settings.dedupe_ttl_seconds,
        ),
        kv=runtime.kv, handle=channel.handle,
    )
    app.router.add_get(WEBHOOK_PATH, webhook.verify_url)
    app.router.add_post(WEBHOOK_PATH, webhook.receive)
    app[WECOM] = channel
    return webhook


WECOM = web.AppKey("wecom", WeComMerchants)
