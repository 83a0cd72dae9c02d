"""The durable copy of each owner's dialog state (form, step, answers so far).

Written in the caller's unit of work, so the state and the answer it records commit together or
not at all; Redis (dialogs/state.py) only caches it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UtcDateTime, aware, utcnow
from storage.db import is_postgres, rows_affected


class DialogStateRow(Base):
    """One row per owner with a dialog pending; gone when the dialog ends."""

    __tablename__ = "dialog_states"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


async def get(*, session: AsyncSession, openid: str) -> tuple[dict[str, Any], datetime] | None:
    """(state, expires_at) of a dialog that has not expired, else None."""
    row = (await session.execute(
        select(DialogStateRow.state, DialogStateRow.expires_at).where(DialogStateRow.openid == openid)
    )).first()
    if row is None or aware(row[1]) <= utcnow():
        return None
    return dict(row[0]), aware(row[1])


async def put(*, session: AsyncSession, openid: str, state: dict[str, Any], ttl_seconds: int) -> datetime:
    """Insert or replace the owner's state; returns when it expires."""
    now = utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    values = {"openid": openid, "state": state, "expires_at": expires, "updated_at": now}
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(DialogStateRow).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DialogStateRow.openid],
        set_={"state": stmt.excluded.state, "expires_at": stmt.excluded.expires_at, "updated_at": now},
    )
    await session.execute(stmt)
    return expires


async def remove(*, session: AsyncSession, openid: str) -> None:
    """Forget the owner's state."""
    await session.execute(delete(DialogStateRow).where(DialogStateRow.openid == openid))


async def purge_expired(*, session: AsyncSession) -> int:
    """Delete rows whose dialog expired (loads ignore them already; this only keeps the table small)."""
    result = await session.execute(delete(DialogStateRow).where(DialogStateRow.expires_at <= utcnow()))
    return rows_affected(result)
