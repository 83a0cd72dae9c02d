"""Once-only claims for scheduled work: (job, key) rows inserted in the same unit of work as the work.

A claim commits with the work it guards, so a crash before the commit frees it again, and two
processes racing for the same key serialise on the unique index (PostgreSQL makes the second
INSERT wait for the first transaction, then do nothing). That is what lets several `serve` and
`scheduler` processes run the same ticks without ever doing a job twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UtcDateTime, utcnow
from storage.db import is_postgres


class JobClaim(Base):
    """A piece of scheduled work that has been done (or is being done in an open transaction)."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


def _insert(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(JobClaim)


async def claim(*, session: AsyncSession, job: str, key: str) -> bool:
    """True if this transaction now owns (job, key); False if it was already done or is being done."""
    stmt = (
        _insert(session)
        .values(job=job, key=key, claimed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["job", "key"])
        .returning(JobClaim.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def claim_many(*, session: AsyncSession, job: str, keys: Sequence[str]) -> list[str]:
    """Claim several keys in one statement; returns the keys this transaction won."""
    if not keys:
        return []
    now = utcnow()
    stmt = (
        _insert(session)
        .values([{"job": job, "key": k, "claimed_at": now} for k in keys])
        .on_conflict_do_nothing(index_elements=["job", "key"])
        .returning(JobClaim.key)
    )
    return list((await session.execute(stmt)).scalars())


async def release(*, session: AsyncSession, job: str, key: str) -> None:
    """Give a claim back so a later tick retries the work."""
    await session.execute(delete(JobClaim).where(JobClaim.job == job, JobClaim.key == key))


async def claimed(*, session: AsyncSession, job: str, key: str) -> bool:
    """Whether (job, key) has been claimed and committed."""
    found = await session.scalar(select(JobClaim.id).where(JobClaim.job == job, JobClaim.key == key))
    return found is not None


async def count(*, session: AsyncSession, job: str) -> int:
    """How many keys of a job were claimed (for tests and reports)."""
    rows = await session.scalars(select(JobClaim.id).where(JobClaim.job == job))
    return len(list(rows))
