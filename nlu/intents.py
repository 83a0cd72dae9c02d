"""The contract's intent names (exactly these; see shared/CONTRACT.md)."""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "cancel",
    "ask_services",
    "order_service",
    "ask_price",
    "ask_order_status",
    "cancel_order",
    "report_issue",
    "complain",
    "ask_property_fee",
    "start_survey",
    "bind_house",
    "human_agent",
    "unsubscribe_push",
    "resubscribe_push",
    "ask_activity",
    "rate_service",
    "nlu_fallback",
)

FALLBACK = "nlu_fallback"

ENTITY_NAMES: tuple[str, ...] = (
    "service",
    "time",
    "building",
    "unit",
    "room",
    "phone",
    "quantity",
    "rating",
)
