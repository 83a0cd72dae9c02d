"""The first statement of every owner turn (issue 18): log the message, get-or-create-and-touch
the owner, and read what the turn needs to know about them.

On PostgreSQL this is one round trip: the message-log INSERT rides as a data-modifying CTE on the
owner's INSERT … ON CONFLICT … RETURNING, which also returns whether an open hand-off exists and
the owner's pending dialog row. It used to be four statements on every message (log, upsert,
SELECT of a hand-off that almost never exists, SELECT of the dialog state on a cache miss).
A duplicate dedupe key still raises IntegrityError here, before any effect, and the whole
statement (owner touch included) rolls back with the unit of work. SQLite has no data-modifying
CTEs: there the log is its own statement first.

The statements are built once, as Core on the tables: per message, building an ORM INSERT (its
cache key over fresh literal values) and the ORM's bulk-insert RETURNING machinery were about a
tenth of a worker's CPU. The returned row becomes the session's Owner as if loaded by a query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, Row, Table, bindparam, false, insert, literal_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import Insert

from storage import messages
from storage.base import aware, utcnow
from storage.dialog_states import DialogStateRow
from storage.handoffs import HandoffStatus
from storage.owners import Owner

_LOG = cast(Table, messages.InboundMessageLog.__table__)
_OWNERS = cast(Table, Owner.__table__)
_DIALOGS = cast(Table, DialogStateRow.__table__)

# Spelled out: SQLAlchemy renders RETURNING columns unqualified, so a correlated subquery built
# with select() there would read handoffs.id (or dialog_states.openid) for the owner's columns.
_EXTRAS = (
    literal_column(
        "EXISTS (SELECT 1 FROM handoffs WHERE handoffs.owner_id = owners.id"
        f" AND handoffs.status = '{HandoffStatus.OPEN.value}')", Boolean,
    ).label("held"),
    literal_column("(SELECT dialog_states.state FROM dialog_states WHERE dialog_states.openid = owners.openid)",
                   _DIALOGS.c.state.type).label("dialog_state"),
    literal_column("(SELECT dialog_states.expires_at FROM dialog_states WHERE dialog_states.openid = owners.openid)",
                   _DIALOGS.c.expires_at.type).label("dialog_expires_at"),
)


@dataclass
class Arrival:
    """The owner (the session's object), whether a hand-off holds them, and their pending dialog
    row as (state, expires_at), or None when there is none or it has expired."""

    owner: Owner
    in_handoff: bool
    dialog: tuple[dict[str, Any], datetime] | None


# Defaults computed per row (created_at): bound per call, as the ORM would have computed them.
_CALLABLE_DEFAULTS = {c.key: c.default for c in _OWNERS.columns
                      if c.default is not None and c.default.is_callable and c.key not in ("openid", "last_message_at")}


def _upsert(dialect_insert: Any) -> Insert:
    """INSERT … ON CONFLICT (openid) DO UPDATE … RETURNING, with every Python-side default given.

    Given as values because with a CTE in the statement SQLAlchemy sent the outer INSERT's
    defaults as NULL; they are read from the model, never copied.
    """
    values: dict[str, Any] = {"openid": bindparam("openid"), "last_message_at": bindparam("at"), "blocked": False}
    for column in _OWNERS.columns:
        default = column.default
        if column.key not in values and default is not None and default.is_scalar:
            values[column.key] = default.arg  # type: ignore[attr-defined]
    values |= {key: bindparam(f"default_{key}") for key in _CALLABLE_DEFAULTS}
    stmt = dialect_insert(_OWNERS).values(values)
    stmt = stmt.on_conflict_do_update(index_elements=[_OWNERS.c.openid],
                                      set_={"last_message_at": bindparam("at"), "blocked": false()})
    return cast(Insert, stmt.returning(*_OWNERS.columns, *_EXTRAS))


_LOGGED = insert(_LOG).values(
    channel=bindparam("log_channel"), user_id=bindparam("openid"), kind=bindparam("log_kind"),
    text=bindparam("log_text"), dedupe_key=bindparam("log_dedupe_key"), intent="", reply="",
    created_at=bindparam("log_created_at"),
).cte("logged")
_ARRIVE_PG = _upsert(pg_insert).add_cte(_LOGGED)
_ARRIVE_SQLITE = _upsert(sqlite_insert)


async def arrive(
    *, session: AsyncSession, channel: str, openid: str, kind: str, text: str, dedupe_key: str, at: datetime
) -> Arrival:
    """Log one inbound message and bring its owner in (see the module's doc)."""
    now = utcnow()
    # A callable default is wrapped by SQLAlchemy to take the execution context (unused by ours).
    params: dict[str, Any] = {"openid": openid, "at": at,
                              **{f"default_{k}": d.arg(None) for k, d in _CALLABLE_DEFAULTS.items()}}  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        stmt = _ARRIVE_PG
        params |= {"log_channel": channel, "log_kind": kind, "log_text": text, "log_dedupe_key": dedupe_key,
                   "log_created_at": now}
    else:
        stmt = _ARRIVE_SQLITE
        await messages.record(session=session, channel=channel, user_id=openid, kind=kind, text=text,
                              dedupe_key=dedupe_key)
    row = (await session.execute(stmt, params)).one()
    dialog = None
    if row.dialog_state is not None and aware(row.dialog_expires_at) > now:
        dialog = (dict(row.dialog_state), aware(row.dialog_expires_at))
    return Arrival(owner=_adopt(session, row), in_handoff=bool(row.held), dialog=dialog)


def _adopt(session: AsyncSession, row: Row[Any]) -> Owner:
    """The row as the session's Owner, exactly as a query would have loaded it: the session's own
    object refreshed if it holds one, else a new persistent one with no pending changes."""
    fields = {c.key: row._mapping[c.key] for c in _OWNERS.columns}
    held = session.sync_session.identity_map.get(identity_key(Owner, fields["id"]))
    if isinstance(held, Owner):
        for key, value in fields.items():
            set_committed_value(held, key, value)
        return held
    owner = Owner(**fields)
    make_transient_to_detached(owner)  # history reset, as if freshly loaded; relationships load on use
    session.add(owner)
    return owner
