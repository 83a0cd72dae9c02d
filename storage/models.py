"""Imports every aggregate so `Base.metadata` is complete (Alembic and tests rely on it)."""

from storage import catalog, communities, merchants, messages, orders, outbox, owners, staff
from storage import broadcasts, jobs, supplier  # issue 6
from storage import activities, faq, feedback, handoffs, roster, surveys, workorders  # issue 4
from storage.base import Base

__all__ = [
    "Base",
    "activities",
    "faq",
    "feedback",
    "handoffs",
    "roster",
    "surveys",
    "workorders",
    "catalog",
    "communities",
    "merchants",
    "messages",
    "orders",
    "outbox",
    "owners",
    "staff",
]
