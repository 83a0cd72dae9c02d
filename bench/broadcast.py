"""Broadcast planning benchmark: 300,000 owners in PostgreSQL, a 3-condition segment, the plan.

The data (300 communities × 1,000 households, tags, a survey with answers, and last month's
deliveries so the frequency caps have history to count) is bulk-loaded with COPY through asyncpg.
Then, through issue 6's own functions (storage.segments / storage.broadcasts):
- evaluate: parse + resolve + preview (counts per channel and skip reason) of
  `标签=有车 楼栋=1,2,3,4,5 问卷.needs.家政需求=钟点工,维修` — a tag, a building list, a survey answer;
- plan: materialise the broadcast's delivery rows (one INSERT … SELECT);
- rows/s: materialise a broad segment (every owner who follows) to measure delivery rows written.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import asyncpg_url, scratch_database
from storage import models  # noqa: F401  (registers every table on Base.metadata)
from storage.base import Base
from storage.db import create_engine, create_session_factory, unit_of_work

COMMUNITIES = 300
HOUSEHOLDS = 1000
TAGS = ("有车", "有狗", "有老人", "有小孩", "租户", "高频用户")
TAG_P = (0.4, 0.15, 0.3, 0.35, 0.1, 0.05)
SEGMENT = "标签=有车 楼栋=1,2,3,4,5 问卷.needs.家政需求=钟点工,维修"
BROAD = "关注=是"


def _rows(table: Table, values: dict[str, Any]) -> tuple[list[str], tuple[Any, ...]]:
    cols = [c.name for c in table.columns if c.name in values]
    missing = [c.name for c in table.columns if c.name not in values and not c.nullable and not c.primary_key]
    if missing:
        raise RuntimeError(f"{table.name}: no bench value for NOT NULL column(s) {missing}")
    return cols, tuple(values[c] for c in cols)


async def _copy(conn: asyncpg.Connection, table_name: str, records: list[dict[str, Any]]) -> int:
    """COPY a list of dicts (same keys) into a table; columns the model has but we don't set stay NULL."""
    table = Base.metadata.tables[table_name]
    cols, _ = _rows(table, records[0])
    await conn.copy_records_to_table(table_name, columns=cols, records=[tuple(r[c] for c in cols) for r in records])
    return len(records)


async def load(db_url: str, *, communities: int, households: int, seed: int = 6) -> dict[str, Any]:
    """Bulk-load the city; returns row counts and rows/s."""
    from storage.broadcasts import Broadcast
    from storage.surveys import Survey

    rng = random.Random(seed)
    now = datetime.now(UTC)
    survey_id, old_broadcast = 9001, 9001
    engine = create_engine(db_url)
    try:  # the two parent rows through the ORM, so every column gets its model default
        async with unit_of_work(create_session_factory(engine)) as session:
            session.add(Survey(id=survey_id, key="needs", title="业主需求调研",
                               definition={"questions": [{"key": "家政需求"}]}, allow_repeat=False, is_open=True))
            session.add(Broadcast(id=old_broadcast, kind="marketing", text="上月活动", segment={}, status="done",
                                  reply_channel="wechat", reply_to="", totals={}, created_at=now - timedelta(days=20)))
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(asyncpg_url(db_url))
    started = time.perf_counter()
    written = 0
    try:
        written += await _copy(conn, "communities", [
            {"id": 1000 + c, "name": f"城{c // 30}小区{c}", "property_fee_monthly_fen": 250_00,
             "households": households, "created_at": now} for c in range(communities)
        ])
        owners, tags, responses, answers, deliveries = [], [], [], [], []
        oid = 0
        for c in range(communities):
            for h in range(households):
                oid += 1
                recent = rng.random() < 0.2
                owners.append({
                    "id": oid, "openid": f"o_city_{oid:07d}", "nickname": "", "name": "业主", "community_id": 1000 + c,
                    "building": str(1 + h // 100), "unit": str(1 + (h // 25) % 4), "room": f"{1 + h % 25:02d}01",
                    "phone": "", "phone_valid": False, "binding_status": "verified" if rng.random() < 0.7 else "unbound",
                    "following": rng.random() < 0.95, "push_opt_out": rng.random() < 0.03,
                    "last_message_at": now - timedelta(hours=rng.uniform(1, 40) if recent else rng.uniform(49, 2000)),
                    "created_at": now,
                })
                tags += [{"owner_id": oid, "tag": t} for t, p in zip(TAGS, TAG_P, strict=True) if rng.random() < p]
                if rng.random() < 0.6:  # 60% answered the needs survey (door visits and chats)
                    responses.append({"id": oid, "survey_id": survey_id, "owner_id": oid, "channel": "door_visit",
                                      "status": "completed", "updated_at": now, "completed_at": now, "created_at": now})
                    for value in rng.sample(["钟点工", "维修", "护理", "补课", "无"], k=rng.choice((1, 1, 2))):
                        answers.append({"response_id": oid, "survey_id": survey_id, "question_key": "家政需求",
                                        "value": value, "created_at": now})
                if rng.random() < 0.33:  # last month's broadcast reached a third of them
                    deliveries.append({"broadcast_id": old_broadcast, "owner_id": oid, "openid": f"o_city_{oid:07d}",
                                       "channel": "mass", "status": "sent", "reason": "", "marketing": True,
                                       "planned_at": now - timedelta(days=20), "sent_at": now - timedelta(days=20)})
        counts = {}
        for name, rows in (("owners", owners), ("owner_tags", tags), ("survey_responses", responses),
                           ("survey_answers", answers), ("broadcast_deliveries", deliveries)):
            counts[name] = await _copy(conn, name, rows)
            written += counts[name]
        for table in ("owners", "owner_tags", "survey_responses", "survey_answers", "broadcast_deliveries", "broadcasts"):
            if table in ("owners", "owner_tags", "survey_responses", "survey_answers", "broadcast_deliveries"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    seconds = time.perf_counter() - started
    return {"rows": written, "counts": counts, "seconds": round(seconds, 2), "rows_per_second": written / seconds}


async def _plan(session: AsyncSession, spec: str, policy: Any) -> dict[str, Any]:
    from storage import broadcasts, segments

    now = datetime.now(UTC)
    t0 = time.perf_counter()
    segment = segments.parse(spec)
    scope = segments.Scope(community_ids=None)
    community_ids, problems = await segments.resolve(segment, session=session, scope=scope)
    if problems:
        raise RuntimeError(f"segment problems: {problems}")
    preview = await broadcasts.preview(session=session, segment=segment, community_ids=community_ids,
                                       kind=segment.kind, policy=policy, now=now)
    t1 = time.perf_counter()
    draft = await broadcasts.create_draft(session=session, text="本周六上门保洁体验价", segment=segment,
                                          scope=community_ids, staff_id=None, reply_channel="wechat", reply_to="")
    rows = await broadcasts.materialise(session=session, broadcast=draft, policy=policy, now=now)
    await session.flush()
    t2 = time.perf_counter()
    return {
        "segment": spec, "matched": preview.total, "recipients": preview.recipients, "by_channel": preview.by_channel,
        "skipped": preview.skipped, "evaluate_seconds": round(t1 - t0, 3), "plan_seconds": round(t2 - t1, 3),
        "delivery_rows": rows,
    }


async def run(*, quick: bool = False) -> dict[str, Any]:
    """Load the city, then time the segment evaluation and the delivery plan."""
    from storage import broadcasts

    communities = 30 if quick else COMMUNITIES
    async with scratch_database("broadcast") as db_url:
        loaded = await load(db_url, communities=communities, households=HOUSEHOLDS)
        print(f"  broadcast: loaded {loaded['rows']:,} rows in {loaded['seconds']} s (COPY)", flush=True)
        engine = create_engine(db_url)
        sessions = create_session_factory(engine)
        policy = broadcasts.DeliveryPolicy(template_configured=False)
        try:
            async with unit_of_work(sessions) as session:  # warm: connection, catalog, plan cache
                await _plan(session, "楼栋=99", policy)
            async with unit_of_work(sessions) as session:
                target = await _plan(session, SEGMENT, policy)
            print(f"  broadcast: {SEGMENT}: {target}", flush=True)
            async with unit_of_work(sessions) as session:
                broad = await _plan(session, BROAD, policy)
            print(f"  broadcast: {BROAD}: {broad['delivery_rows']:,} rows in {broad['plan_seconds']} s", flush=True)
        finally:
            await engine.dispose()
    total = round(target["evaluate_seconds"] + target["plan_seconds"], 3)
    return {
        "owners": communities * HOUSEHOLDS,
        "load": {k: v for k, v in loaded.items() if k != "rows_per_second"},
        "load_rows_per_second": round(loaded["rows_per_second"]),
        "segment": SEGMENT,
        "matched": target["matched"],
        "recipients": target["recipients"],
        "by_channel": target["by_channel"],
        "skipped": target["skipped"],
        "segment_seconds": target["evaluate_seconds"],
        "plan_seconds": target["plan_seconds"],
        "total_seconds": total,
        "broad_segment": BROAD,
        "delivery_rows": broad["delivery_rows"],
        "delivery_seconds": broad["plan_seconds"],
        "delivery_rows_per_second": round(broad["delivery_rows"] / broad["plan_seconds"]),
        "targets": {"plan_lt_2s": total < 2.0},
    }
