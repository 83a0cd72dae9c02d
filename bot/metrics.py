"""Prometheus metrics, registered once per process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

INBOUND = Counter(
    "butler_inbound_messages_total", "Inbound messages by channel and kind", ["channel", "kind"], registry=REGISTRY
)
REJECTED = Counter(
    "butler_rejected_requests_total", "Webhook requests rejected, by reason", ["reason"], registry=REGISTRY
)
DUPLICATES = Counter("butler_duplicate_messages_total", "WeChat retries absorbed by dedupe", registry=REGISTRY)
LATE_REPLIES = Counter(
    "butler_late_replies_total", "Replies sent via the customer-service API after the passive deadline", registry=REGISTRY
)
HANDLE_SECONDS = Histogram(
    "butler_handle_seconds", "Time to handle one inbound event", ["channel"], registry=REGISTRY
)
OUTBOUND = Counter(
    "butler_outbound_calls_total", "Outbound platform API calls by API and result", ["api", "result"], registry=REGISTRY
)
GUARD_REFUSALS = Counter(
    "butler_guard_refusals_total", "Owner-facing texts refused by the content guard", registry=REGISTRY
)

# Issue 16: outbox rows no handler delivered (parked after repeated failures) or still waiting.
OUTBOX_PARKED = Gauge("butler_outbox_parked", "Outbox rows parked after failing repeatedly", registry=REGISTRY)
OUTBOX_PENDING = Gauge("butler_outbox_pending", "Outbox rows waiting for delivery", registry=REGISTRY)
# Gauges read from the database just before each scrape (per app, so test apps never share one).
REFRESH = web.AppKey("metrics_refresh", list[Callable[[], Awaitable[None]]])
# Issue 12: platform notifications (send results, card, kf_* …) and unknown types, answered quietly.
NOTIFICATIONS = Counter(
    "butler_wechat_notifications_total", "WeChat platform notifications and unknown messages, by category and kind",
    ["category", "kind"], registry=REGISTRY,
)
