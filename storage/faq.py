"""Per-community FAQ that staff maintain (loaded from YAML by `butler content faq-load`)."""

from __future__ import annotations

from sqlalchemy import JSON, ColumnElement, ForeignKey, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped
from storage.cache import TableCache, read_apart


class FaqEntry(Timestamped, Base):
    """A question owners ask, the words that identify it, and the answer."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: applies to every community; a community's own entry wins over a general one.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)


async def replace(
    *, session: AsyncSession, community_id: int | None, entries: list[tuple[str, list[str], str]]
) -> int:
    """Replace one scope's FAQ with (question, keywords, answer) entries; returns how many."""
    scope: ColumnElement[bool] = FaqEntry.community_id.is_(None) if community_id is None else FaqEntry.community_id == community_id
    await session.execute(delete(FaqEntry).where(scope))
    for question, keywords, answer in entries:
        session.add(FaqEntry(community_id=community_id, question=question, keywords=keywords, answer=answer))
    await session.flush()
    return len(entries)


async def _load_all(session: AsyncSession) -> list[FaqEntry]:
    return await read_apart(session, select(FaqEntry).order_by(FaqEntry.id))


_ALL = TableCache((FaqEntry.__tablename__,), _load_all)  # every scope: a few dozen rows


async def match(*, session: AsyncSession, text: str, community_id: int | None) -> FaqEntry | None:
    """The best entry for a text: most keyword hits, the owner's community first.

    Read from the per-worker copy (storage/cache.py); the entry returned is for reading only.
    """
    best: tuple[int, int, FaqEntry] | None = None
    for entry in await _ALL.get(session):
        if entry.community_id is not None and entry.community_id != community_id:
            continue
        hits = sum(1 for k in entry.keywords if k and k in text)
        if hits == 0:
            continue
        key = (hits, 1 if entry.community_id is not None else 0, entry)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None
