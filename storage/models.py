"""Imports every aggregate so `Base.metadata` is complete (Alembic and tests rely on it)."""

from storage import (
    activities,
    broadcasts,
    catalog,
    communities,
    faq,
    feedback,
    handoffs,
    jobs,
    merchants,
    messages,
    orders,
    outbox,
    owners,
    roster,
    send_results,
    staff,
    supplier,
    surveys,
    workorders,
)
from storage.base import Base

# Listed so linters see the imports as used: importing the module is what registers its tables.
__all__ = [
    "Base",
    "activities",
    "broadcasts",
    "catalog",
    "communities",
    "faq",
    "feedback",
    "handoffs",
    "jobs",
    "merchants",
    "messages",
    "orders",
    "outbox",
    "owners",
    "roster",
    "send_results",
    "staff",
    "supplier",
    "surveys",
    "workorders",
]
