"""The first statement of every owner turn (issue 18): log the message, get-or-create-and-touch
the owner, and learn whether staff hold the conversation.

On PostgreSQL this is one round trip: the message-log INSERT rides as a data-modifying CTE on the
owner's INSERT … ON CONFLICT … RETURNING, which also returns whether an open hand-off exists. It
used to be three statements (log, upsert, SELECT of the hand-off) on every message, although
almost no owner is in a hand-off. A duplicate dedupe key still raises IntegrityError here, before
any effect, and the whole statement (owner touch included) rolls back with the unit of work.
SQLite has no data-modifying CTEs: there the log is its own statement first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, Table, bindparam, false, insert, literal_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import messages
from storage.base import utcnow
from storage.handoffs import HandoffStatus
from storage.owners import Owner

# Spelled out: SQLAlchemy renders RETURNING columns unqualified, so a correlated exists() there
# would read handoffs.id for owners.id.
_HELD = literal_column(
    "EXISTS (SELECT 1 FROM handoffs WHERE handoffs.owner_id = owners.id"
    f" AND handoffs.status = '{HandoffStatus.OPEN.value}')",
    Boolean,
).label("held")
_LOG = cast(Table, messages.InboundMessageLog.__table__)
_OWNERS = cast(Table, Owner.__table__)


@dataclass
class Arrival:
    """The owner (the session's object, refreshed) and whether a hand-off holds them."""

    owner: Owner
    in_handoff: bool


def _owner_defaults() -> dict[str, Any]:
    """Every Python-side column default of a new owner, as values.

    With a CTE in the statement SQLAlchemy does not fill the outer INSERT's Python defaults (they
    arrived as NULL), so they are given here, read from the model rather than copied.
    """
    values: dict[str, Any] = {}
    for column in _OWNERS.columns:
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            continue
        # A callable default is wrapped by SQLAlchemy to take the execution context (unused by ours).
        values[column.key] = default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
    return values


async def arrive(
    *, session: AsyncSession, channel: str, openid: str, kind: str, text: str, dedupe_key: str, at: datetime
) -> Arrival:
    """Log one inbound message and bring its owner in (see the module's doc)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    upsert = (pg_insert if postgres else sqlite_insert)(Owner).values(
        {**_owner_defaults(), "openid": openid, "last_message_at": at, "blocked": False}
    )
    stmt = upsert.on_conflict_do_update(
        index_elements=[Owner.openid], set_={"last_message_at": at, "blocked": false()}
    ).returning(Owner, _HELD)
    if postgres:
        # Named parameters of its own: the owner's INSERT already uses created_at and the rest.
        logged = insert(_LOG).values(
            channel=bindparam("log_channel", channel), user_id=bindparam("log_user_id", openid),
            kind=bindparam("log_kind", kind), text=bindparam("log_text", text),
            dedupe_key=bindparam("log_dedupe_key", dedupe_key), intent=bindparam("log_intent", ""),
            reply=bindparam("log_reply", ""), created_at=bindparam("log_created_at", utcnow()),
        ).cte("logged")
        stmt = stmt.add_cte(logged)
    else:
        await messages.record(session=session, channel=channel, user_id=openid, kind=kind, text=text,
                              dedupe_key=dedupe_key)
    owner, held = (await session.execute(stmt, execution_options={"populate_existing": True})).one()
    return Arrival(owner=owner, in_handoff=bool(held))
