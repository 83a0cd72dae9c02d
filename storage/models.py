"""Imports every aggregate so `Base.metadata` is complete (Alembic and tests rely on it)."""

from storage import catalog, communities, merchants, messages, orders, outbox, owners, staff
from storage.base import Base

__all__ = [
    "Base",
    "catalog",
    "communities",
    "merchants",
    "messages",
    "orders",
    "outbox",
    "owners",
    "staff",
]
