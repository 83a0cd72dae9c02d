"""`create_app(settings)`: the web process, on the services bot/composition.py builds."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot import health
from bot.commands.wechat import route as route_staff_command
from bot.composition import Services, build_services
from bot.conversation import Conversations
from bot.metrics import REFRESH, REGISTRY
from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime
from bot.settings import Settings
from bot.wechat.late import LateReplies, housekeeping
from bot.wechat.results import send_result_recorder
from bot.wechat.webhook import WebhookConfig, WeChatWebhook
from scheduler.setup import create_scheduler, register_jobs, stop_scheduler
from storage.db import STATEMENTS
from storage.kv import CommandCounter

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
RUNTIME = web.AppKey("runtime", Runtime)
RELAY = web.AppKey("relay", OutboxRelay)
WEBHOOK = web.AppKey("wechat_webhook", WeChatWebhook)
CONVERSATIONS = web.AppKey("conversations", Conversations)
LATE = web.AppKey("late_replies", LateReplies)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)


class _WorkCounters(Collector):
    """SQL statements and Redis commands this process sent (issue 18: per-message costs in the bench)."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("butler_sql_statements", "SQL statements sent by this process", value=STATEMENTS.count)
        yield CounterMetricFamily("butler_redis_commands", "Redis commands sent by this process", value=CommandCounter.count)


REGISTRY.register(_WorkCounters())


# The inbound channels one process can serve; each is mounted only when configured too.
CHANNELS = ("wechat", "telegram", "wecom")


def create_app(
    settings: Settings, *, run_scheduler: bool = False, channels: Collection[str] = CHANNELS
) -> web.Application:
    """Build the aiohttp app; connections open on startup, not at import or construction.

    `channels` (issue 18): the webhooks this process serves, e.g. WeChat only for web workers
    behind a load balancer that sends /telegram elsewhere. Without "telegram" the Telegram
    dispatcher and its routers are not built (aiogram is still imported to send, when a token
    is configured); without "wecom" WeCom's callback is not mounted.
    """
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown channel(s): {', '.join(sorted(unknown))}")
    # The body limit is enforced by the webhook itself (413), so aiohttp's own cap stays above it.
    app = web.Application(client_max_size=settings.max_body_bytes * 4)
    services = build_services(settings, telegram_updates="telegram" in channels)
    runtime, relay = services.runtime, services.relay
    if services.telegram is not None:  # merchant dispatch + staff chat (bot/telegram/setup.py)
        from bot.telegram.setup import setup_telegram

        setup_telegram(app, services.telegram)
    if "wecom" in channels and services.merchants is not None and services.merchants.wecom is not None:
        from bot.wecom.setup import mount_wecom

        mount_wecom(app, runtime, services.merchants.wecom)
    conversations = Conversations(runtime, relay)
    late_replies = LateReplies(runtime.sessions, on_emit=relay.kick, handle=conversations.handle,
                               grace_seconds=settings.late_reply_grace_seconds,
                               replay_after_seconds=settings.late_reply_replay_seconds)  # issue 15
    staff_commands = services.staff_commands  # issue 6: staff commands + broadcasts
    conversations.staff_route = lambda event: route_staff_command(event, staff_commands)
    webhook = WeChatWebhook(
        WebhookConfig(
            token=settings.wechat_token,
            aes_key=settings.wechat_aes_key,
            app_id=settings.wechat_app_id,
            max_body_bytes=settings.max_body_bytes,
            timestamp_tolerance_seconds=settings.timestamp_tolerance_seconds,
            reply_deadline_seconds=settings.reply_deadline_seconds,
            dedupe_ttl_seconds=settings.dedupe_ttl_seconds,
        ),
        kv=runtime.kv,
        handle=conversations.handle,
        deliver_later=runtime.wechat.send_text,
        on_notification=send_result_recorder(runtime.sessions),
        late=late_replies,
    )
    app[SERVICES] = services
    app[RUNTIME], app[RELAY], app[WEBHOOK], app[CONVERSATIONS] = runtime, relay, webhook, conversations
    app[LATE] = late_replies

    if "wechat" in channels:
        app.router.add_get("/wechat", webhook.verify_url)
        app.router.add_post("/wechat", webhook.receive)
    async def healthz(request: web.Request) -> web.Response:
        return await health.healthz(request, runtime)

    async def metrics(request: web.Request) -> web.Response:
        return await health.metrics(request, runtime)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app[REFRESH] = [health.outbox_gauges(runtime)]  # issue 16: parked/pending outbox rows

    async def start(app: web.Application) -> None:
        # Waiting rows of a kind nobody handles: refuse to start (skipped if the database is down).
        await relay.verify_pending(timeout=settings.health_timeout_seconds)
        if not settings.wechat_token:
            # Fail closed: with no Token anyone can compute a valid signature.
            log.error("BUTLER_WECHAT_TOKEN is empty: /wechat refuses every request (403) until it is set")
        if runtime.nlu is not None and hasattr(runtime.nlu, "warm_up"):
            await runtime.nlu.warm_up()
        relay.kick()  # deliver anything a previous process committed but did not send
        late_replies.start()  # answer for workers that died past the reply deadline (issue 15)
        if run_scheduler:
            sched = create_scheduler(settings.tz)
            sched.add_job(relay.drain, "interval", seconds=15, id="outbox-sweep")
            sched.add_job(housekeeping, "interval", hours=1, id="reliability-housekeeping", args=[runtime.sessions])
            register_jobs(sched, services.job_context())  # follow-ups, supplier lifecycle, report, broadcasts
            sched.start()
            app[SCHEDULER] = sched

    async def stop(app: web.Application) -> None:
        await late_replies.stop()
        await services.stop_sending()  # before the scheduler cancels jobs
        if SCHEDULER in app:
            await stop_scheduler(app[SCHEDULER])
        await services.aclose()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app

