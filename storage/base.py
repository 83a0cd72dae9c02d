"""Declarative base shared by every aggregate, with naming conventions Alembic can rely on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Aware UTC now; every timestamp is stored in UTC and shown in BUTLER_TZ."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Root of all mapped classes."""

    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    """Mixin: creation time, set by the application so SQLite and PostgreSQL agree."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
