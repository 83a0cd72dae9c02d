"""Prometheus metrics, registered once per process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

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
# Issue 12: platform notifications (send results, card, kf_* …) and unknown types, answered quietly.
NOTIFICATIONS = Counter(
    "butler_wechat_notifications_total", "WeChat platform notifications and unknown messages, by category and kind",
    ["category", "kind"], registry=REGISTRY,
)
