"""Property work orders (物业工单): common-area problems owners report, routed to staff."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped, UtcDateTime


class WorkOrderStatus(StrEnum):
    """Open until the property team fixes it."""

    OPEN = "open"
    DONE = "done"


class WorkOrder(Timestamped, Base):
    """A lift, corridor light or gate problem reported by an owner."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=WorkOrderStatus.OPEN, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Issue 12: photos, videos and links the owner sent with the report, and a shared location.
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


async def create(*, session: AsyncSession, owner_id: int, community_id: int | None, text: str) -> WorkOrder:
    """Record a reported problem."""
    row = WorkOrder(owner_id=owner_id, community_id=community_id, text=text)
    session.add(row)
    await session.flush()
    return row
