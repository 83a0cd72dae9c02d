"""Migrations on both backends: the 861 catalog is seeded exactly, aggregates round-trip."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bot.wording.merchant import refusal
from storage import catalog, communities, merchants, owners
from storage.db import create_engine, create_session_factory, unit_of_work
from tests.conftest import Backend

PRODUCT = Path(__file__).resolve().parents[3] / "shared" / "PRODUCT.md"

EXPECTED = {
    "旅行管家": ["国内游", "出境游", "自驾游", "自助游", "旅游特产及工艺纪念品"],
    "车管家": ["学车", "修车", "买车", "审车", "保险", "违章处理"],
    "房管家": ["房屋中介", "装修"],
    "理财管家": ["代缴费", "小额互助基金"],
    "养老管家": ["体检", "家庭矛盾纠纷", "养老保健", "陪聊", "业余爱好老年大学"],
    "配送管家": ["节庆团购", "日用品配送", "快递最后一公里"],
    "家政管家": ["钟点工", "护理", "水电暖气管道", "家居家电维修", "废品回收置换"],
    "教育管家": ["补课", "业余爱好", "问题少年", "就业", "志愿者"],
}


def test_expected_catalog_matches_the_product_brief() -> None:
    if not PRODUCT.exists():  # the brief sits beside the repo on development machines and in CI
        return
    text = PRODUCT.read_text(encoding="utf-8")
    for line, services in EXPECTED.items():
        assert f"{line}: {', '.join(services)}" in text


async def test_migration_seeds_8_lines_and_33_services(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    async with unit_of_work(create_session_factory(engine)) as session:
        lines = await catalog.list_lines(session=session)
        got = {line.name: [s.name for s in line.services] for line in lines}
        rates = {s.commission_rate for line in lines for s in line.services}
    await engine.dispose()
    assert got == EXPECTED
    assert sum(len(v) for v in got.values()) == 33
    assert rates == {Decimal("0.200")}


async def test_merchant_refusal_reasons(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    today = date(2026, 11, 26)
    async with unit_of_work(create_session_factory(engine)) as session:
        cleaning = await catalog.get_service_by_name(session=session, name="钟点工")
        repair = await catalog.get_service_by_name(session=session, name="家居家电维修")
        home = await communities.create(session=session, name=f"翠苑{uuid.uuid4().hex[:6]}")
        other = await communities.create(session=session, name=f"金桥{uuid.uuid4().hex[:6]}")
        tid = uuid.uuid4().int >> 80
        m = await merchants.create(
            session=session, name="张师傅", telegram_id=tid, services=[cleaning], communities=[home],
            qualification_expires=today + timedelta(days=30),
        )
        assert m.refusal_reason(service_id=cleaning.id, community_id=home.id, today=today) is None
        assert refusal(m.refusal_reason(service_id=repair.id, community_id=home.id, today=today)) == "您未登记提供该项服务"
        assert refusal(m.refusal_reason(service_id=cleaning.id, community_id=other.id, today=today)) == "该小区不在您的服务范围内"
        m.qualification_expires = today - timedelta(days=1)
        assert refusal(m.refusal_reason(service_id=cleaning.id, community_id=home.id, today=today)) == "您的资质已过期，请联系平台更新"
        owner = await owners.get_or_create(session=session, openid=f"o_{uuid.uuid4().hex}")
        assert await owners.add_tag(session=session, owner=owner, tag="有车")
        assert not await owners.add_tag(session=session, owner=owner, tag="有车")
        await session.flush()
        assert owner.tag_names == {"有车"}
    async with unit_of_work(create_session_factory(engine)) as session:  # a fresh session reads them back
        again = await owners.get_by_openid(session=session, openid=owner.openid)
        assert again is not None and await owners.load_tags(session=session, owner=again) == {"有车"}
    await engine.dispose()
