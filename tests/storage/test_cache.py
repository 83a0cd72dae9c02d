"""Per-worker table copies (storage/cache.py, issue 18): a hit costs no SQL, a change committed in
this process is seen at once, and one committed by another runtime within a second."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import delete

from storage import cache, faq
from storage.db import STATEMENTS, create_engine, create_session_factory, unit_of_work
from tests.conftest import Backend


async def _answer(sessions: object, word: str) -> str | None:
    async with sessions() as session:  # type: ignore[operator]
        entry = await faq.match(session=session, text=word, community_id=None)
        return entry.answer if entry else None


async def test_a_change_in_another_runtime_is_seen_within_a_second(backend: Backend) -> None:
    word = f"缓存{uuid.uuid4().hex[:6]}"
    writer_engine, reader_engine = create_engine(backend.database_url), create_engine(backend.database_url)
    writer, reader = create_session_factory(writer_engine), create_session_factory(reader_engine)
    try:
        async with unit_of_work(writer) as session:
            row = faq.FaqEntry(community_id=None, question=word, keywords=[word], answer="旧的答复")
            session.add(row)
        assert await _answer(reader, word) == "旧的答复"
        before = STATEMENTS.count
        assert await _answer(reader, word) == "旧的答复"
        assert STATEMENTS.count == before  # served from the reader's copy: no query
        assert await _answer(writer, word) == "旧的答复"  # the writer holds a copy too

        async with unit_of_work(writer) as session:
            (await session.get(faq.FaqEntry, row.id)).answer = "新的答复"  # type: ignore[union-attr]
        assert await _answer(writer, word) == "新的答复"  # the writing process: at once
        changed = time.monotonic()
        while await _answer(reader, word) != "新的答复":
            assert time.monotonic() - changed < 1.0, "the other runtime still reads the old answer after 1 s"
            await asyncio.sleep(0.05)
        assert time.monotonic() - changed <= cache.MAX_AGE_SECONDS + 0.2
    finally:
        async with unit_of_work(writer) as session:
            await session.execute(delete(faq.FaqEntry).where(faq.FaqEntry.question == word))
        await writer_engine.dispose()
        await reader_engine.dispose()


async def test_a_unit_of_work_reads_its_own_uncommitted_change(backend: Backend) -> None:
    word = f"缓存{uuid.uuid4().hex[:6]}"
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    try:
        assert await _answer(sessions, word) is None  # fills the copy
        async with sessions() as session:
            session.add(faq.FaqEntry(community_id=None, question=word, keywords=[word], answer="未提交"))
            await session.flush()
            entry = await faq.match(session=session, text=word, community_id=None)
            assert entry is not None and entry.answer == "未提交"
            await session.rollback()
        assert await _answer(sessions, word) is None  # rolled back: the copy never saw it
    finally:
        await engine.dispose()


async def test_a_copy_is_read_apart_from_the_callers_own_objects(backend: Backend) -> None:
    from sqlalchemy import select

    from storage import catalog

    engine = create_engine(backend.database_url)  # a fresh engine: its first read loads the copy
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            mine = (await session.scalars(select(catalog.ButlerLine).order_by(catalog.ButlerLine.position))).first()
            assert mine is not None
            original, line_id = mine.name, mine.id
            mine.name = original + "（改）"  # changed, not flushed
            lines = await catalog.list_lines(session=session)
            assert lines and lines[0] is not mine and lines[0].name == original  # the copy: committed data
            assert mine in session and mine in session.dirty  # the caller's object stays its own
            await session.rollback()
        async with sessions() as session:
            assert (await session.get(catalog.ButlerLine, line_id)).name == original  # type: ignore[union-attr]
    finally:
        await engine.dispose()


async def test_a_price_question_finds_its_service_in_the_copy(backend: Backend) -> None:
    from storage import catalog

    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:  # the migrations seed the catalog
            await catalog.find_service(session=session, name="钟点工")  # fills the copy if it was cold
            before = STATEMENTS.count
            found = await catalog.find_service(session=session, name="钟点工")
            assert STATEMENTS.count == before  # no query for showing a price (issue 18)
            assert found is not None and found.line.name == "家政管家"
            assert await catalog.find_service(session=session, name="不存在的服务") is None
    finally:
        await engine.dispose()
