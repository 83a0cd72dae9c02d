"""The inbound message log: every message and event an owner or staff member sent us."""

from __future__ import annotations

from typing import cast

from sqlalchemy import String, Table, Text, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped
from storage.driver import DriverStatement


class InboundMessageLog(Timestamped, Base):
    """One row per delivered (deduplicated) inbound message."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    # The dedupe key (MsgId, or FromUserName+CreateTime+Event); unique so a retry can't log twice.
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    intent: Mapped[str] = mapped_column(String(32), default="")
    # The reply text, in the same commit as the message: a retry during a Redis outage, a takeover
    # and the late-reply sweeper read it here (issue 15).
    reply: Mapped[str] = mapped_column(Text, default="", server_default="")


# Built once, on the table rather than the mapped class: the ORM's bulk-DML layer and building
# a new statement (and its cache key) per message cost more than the round trip (issue 18).
_TABLE = cast(Table, InboundMessageLog.__table__)
_INSERT = insert(_TABLE).values(intent="", reply="")
_SET_REPLY = DriverStatement(
    update(_TABLE).where(_TABLE.c.dedupe_key == bindparam("key")).values(reply=bindparam("reply"))
)


async def record(
    *, session: AsyncSession, channel: str, user_id: str, kind: str, text: str, dedupe_key: str
) -> None:
    """Log one inbound message; a duplicate dedupe key raises IntegrityError here, before any effect.

    A Core INSERT rather than an ORM object and flush: nothing reads the row back in the same unit
    of work, and the unit-of-work flush was a visible share of every message's CPU (bench.profile).
    """
    await session.execute(_INSERT, {"channel": channel, "user_id": user_id, "kind": kind, "text": text,
                                    "dedupe_key": dedupe_key})


async def record_reply(*, session: AsyncSession, dedupe_key: str, text: str) -> None:
    """Keep the reply with its message, in the same unit of work (issue 15): whoever answers for
    a lost attempt (a retry while Redis is down, a takeover, the late-reply sweeper) reads it here."""
    await _SET_REPLY.execute(session, {"key": dedupe_key, "reply": text})
