"""Declarative base shared by every aggregate, with naming conventions Alembic can rely on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

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


def aware(at: datetime) -> datetime:
    """A stored time made aware: naive ones are UTC (read back from SQLite, or set in code as UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in as UTC and comes out aware, on SQLite as on PostgreSQL.

    SQLite keeps no offset: a local time (e.g. 09:00+08:00 from the order dialog) would be stored
    as 09:00 and read back as 09:00 UTC, eight hours late; and SQLite compares datetimes as text,
    so bound parameters must be UTC too. Naive values are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else aware(value)


class Base(DeclarativeBase):
    """Root of all mapped classes."""

    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    """Mixin: creation time, set by the application so SQLite and PostgreSQL agree."""

    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
