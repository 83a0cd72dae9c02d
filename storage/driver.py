"""Hot-path statements sent straight to asyncpg, on the session's own connection and transaction.

Each statement through the session costs about 0.25 ms of CPU more than asyncpg alone (the
greenlet bridge, the cursor emulation, the result machinery; measured by a turn of BEGIN, one
UPDATE and COMMIT: 0.59 ms through the session, 0.34 ms with the UPDATE on the driver). Every
owner message pays it for each of its statements (issue 18), so the few statements every turn
sends are compiled once by SQLAlchemy, from the same Core statement the session would run, and
sent by asyncpg directly: same SQL, same bind casts, same transaction.

Only where the connection is already inside the session's transaction (SQLAlchemy's asyncpg
adapter opens it lazily, on the session's first statement; asyncpg says whether it is open):
otherwise, and anywhere but PostgreSQL via asyncpg, the session runs the statement as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from storage.db import STATEMENTS


class DriverStatement:
    """One Core INSERT, UPDATE or DELETE, compiled once for asyncpg (positional $n parameters)."""

    def __init__(self, statement: UpdateBase) -> None:
        self.statement = statement
        dialect = asyncpg_dialect.dialect()
        compiled = statement.compile(dialect=dialect)
        # values go to asyncpg as given: a type SQLAlchemy would convert first (JSON, Enum…)
        # would be sent wrong, so such a statement is refused here rather than at run time
        for name, bind in compiled.binds.items():
            if bind.type.bind_processor(dialect) is not None:
                raise TypeError(f"{name}: {bind.type!r} needs SQLAlchemy's conversion; run it on the session")
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> None:
        """Run it in the session's transaction, which must already have begun (see the module)."""
        if session.get_bind().dialect.driver == "asyncpg" and session.in_transaction():
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            if driver is not None and driver.is_in_transaction():
                STATEMENTS.sent_by_driver(self.sql)  # the engine's hooks do not see it
                await driver.execute(self.sql, *(params[name] for name in self.names))
                return
        await session.execute(self.statement, dict(params))
