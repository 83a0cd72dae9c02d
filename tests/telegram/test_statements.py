"""`butler statements --month`: 挂账 orders roll into household statements; merchants' payouts."""

from __future__ import annotations

import asyncio
import csv
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import update
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.wording.merchant import AMOUNT_NOTES
from bot.wording.steps import STEP_WORDING
from dialogs.texts import owner_text
from storage import amounts, catalog, communities, dispatch, merchants, orders
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.money import PaymentMethod
from storage.orders import Order, OrderStatus
from storage.owners import BindingStatus, Owner
from tests.conftest import Backend

MONTH = "2025-03"
YEAR, MM = "2025", 3
# Local (Asia/Shanghai) times; the last one is April locally although still March in UTC.
IN_MARCH = datetime(2025, 3, 5, 10, 0)
LAST_MINUTE = datetime(2025, 3, 31, 23, 30)
APRIL_LOCAL = datetime(2025, 4, 1, 0, 10)


def _utc(local: datetime) -> datetime:
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


async def _seed(url: str) -> dict[str, object]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    tag = uuid.uuid4().hex[:6]
    try:
        async with unit_of_work(sessions) as session:
            place = await communities.create(session=session, name=f"月结苑{tag}")
            svc = await catalog.get_service_by_name(session=session, name="日用品配送")
            assert svc is not None
            owners = []
            for i, (name, room) in enumerate((("赵先生", "101"), ("钱女士", "202"))):
                owner = Owner(openid=f"stmt-{tag}-{i}", name=name, community_id=place.id, building="5", unit="1",
                              room=room, phone=f"1390000{i:04d}", binding_status=BindingStatus.VERIFIED, tags=[])
                session.add(owner)
                owners.append(owner)
            merchant = await merchants.create(session=session, name=f"便民超市{tag}", telegram_id=uuid.uuid4().int % 10**12,
                                              services=[svc], communities=[place])
            await session.flush()
            plan = [  # owner, amount fen, method, completed (local)
                (0, 8800, PaymentMethod.ON_ACCOUNT, IN_MARCH),
                (0, 12050, PaymentMethod.ON_ACCOUNT, LAST_MINUTE),
                (0, 3000, PaymentMethod.CASH, IN_MARCH),
                (1, 4500, PaymentMethod.ON_ACCOUNT, IN_MARCH),
                (1, 9900, PaymentMethod.ON_ACCOUNT, APRIL_LOCAL),
            ]
            for who, fen, method, when in plan:
                order = await orders.create(session=session, owner=owners[who], service=svc, scheduled_at=None,
                                            address="", contact_phone="")
                won = await dispatch.accept(session=session, order_id=order.id, telegram_id=merchant.telegram_id,
                                            today=when.date(), say=STEP_WORDING)
                assert won.won
                step = await dispatch.advance(session=session, order_id=order.id, telegram_id=merchant.telegram_id,
                                              target=OrderStatus.COMPLETED, amount_fen=fen, method=method,
                                              say=STEP_WORDING)
                assert step.ok
                if step.pending_owner:  # 挂账 waits for the owner's 确认金额 (issue 14): given here
                    waiting = await amounts.awaiting_owner(session=session, owner_id=owners[who].id)
                    assert waiting is not None
                    await amounts.confirm(session=session, order=waiting, owner_text=owner_text, say=AMOUNT_NOTES)
                await session.execute(update(Order).where(Order.id == order.id).values(completed_at=_utc(when)))
            return {"owners": [o.name for o in owners], "merchant": merchant.name, "merchant_id": merchant.id,
                    "community": place.name, "openids": [o.openid for o in owners]}
    finally:
        await engine.dispose()


def test_statement_for_a_month_with_on_account_orders(backend: Backend, tmp_path: Path) -> None:
    seeded = asyncio.run(_seed(backend.database_url))
    env = {"BUTLER_DATABASE_URL": backend.database_url, "BUTLER_REDIS_URL": backend.redis_url, "BUTLER_TZ": "Asia/Shanghai"}
    result = CliRunner().invoke(cli, ["statements", "--month", MONTH, "--out", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output

    with (tmp_path / f"household-statements-{MONTH}.csv").open(encoding="utf-8-sig") as fh:
        lines = [r for r in csv.DictReader(fh) if r["小区"] == seeded["community"]]
    # 挂账 only, March in local time: 赵 88.00 + 120.50 (23:30 on the 31st), 钱 45.00; not the cash
    # order, and not 钱's 99.00 completed at 00:10 on 1 April local time.
    assert sorted((r["业主"], r["金额(元)"]) for r in lines) == [("赵先生", "120.50"), ("赵先生", "88.00"), ("钱女士", "45.00")]
    assert all(r["电话"] and r["地址"] for r in lines)
    with (tmp_path / f"household-totals-{MONTH}.csv").open(encoding="utf-8-sig") as fh:
        totals = {r["业主"]: r["合计(元)"] for r in csv.DictReader(fh) if r["小区"] == seeded["community"]}
    assert totals == {"赵先生": "208.50", "钱女士": "45.00"}

    with (tmp_path / f"merchant-payouts-{MONTH}.csv").open(encoding="utf-8-sig") as fh:
        (row,) = [r for r in csv.DictReader(fh) if r["商家"] == seeded["merchant"]]
    # Four March orders: 88 + 120.50 + 30 + 45 = 283.50; 20% commission per order, rounded half up.
    assert row["订单数"] == "4" and row["营业额(元)"] == "283.50"
    assert row["平台佣金(元)"] == "56.70" and row["应付商家(元)"] == "226.80"
    assert row["挂账(元)"] == "253.50" and row["现金(元)"] == "30.00"

    book = load_workbook(tmp_path / f"statements-{MONTH}.xlsx")
    assert book.sheetnames == ["业主挂账明细", "业主月结单", "商家结算"]
    sums = {r[2]: r[5] for r in book["业主月结单"].iter_rows(min_row=2, values_only=True) if r[0] == seeded["community"]}
    assert {k: Decimal(str(v)) for k, v in sums.items()} == {"赵先生": Decimal("208.50"), "钱女士": Decimal("45")}
    assert "household statement" in result.output


def test_statements_rejects_a_bad_month() -> None:
    result = CliRunner().invoke(cli, ["statements", "--month", "March"])
    assert result.exit_code != 0


async def _notices(url: str, openids: list[str], merchant_id: int) -> tuple[list[str], list[str]]:
    from sqlalchemy import select

    from storage.outbox import OutboxEvent

    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            events = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    finally:
        await engine.dispose()
    owners = [e.payload["text"] for e in events if e.kind == "owner.notify" and e.payload.get("openid") in openids
              and "记入物业账单的服务" in e.payload["text"]]
    # Only the statement's notices (the owner's 确认金额 also tells the merchant, issue 14).
    merchant = [e.payload["text"] for e in events if e.kind == "merchant.notify" and e.payload.get("merchant_id") == merchant_id
                and " 结算：" in e.payload["text"]]
    return owners, merchant


def test_statements_notify_queues_one_summary_per_household_and_merchant(backend: Backend, tmp_path: Path) -> None:
    seeded = asyncio.run(_seed(backend.database_url))
    env = {"BUTLER_DATABASE_URL": backend.database_url, "BUTLER_REDIS_URL": backend.redis_url, "BUTLER_TZ": "Asia/Shanghai"}
    result = CliRunner().invoke(
        cli, ["statements", "--month", MONTH, "--out", str(tmp_path), "--format", "csv", "--notify"], env=env
    )
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("*.xlsx"))
    openids = [str(o) for o in seeded["openids"]]  # type: ignore[attr-defined]
    owners, merchant = asyncio.run(_notices(backend.database_url, openids, int(seeded["merchant_id"])))  # type: ignore[arg-type]
    assert sorted(owners) == sorted([
        f"您{YEAR}年{MM}月记入物业账单的服务共2单，合计208.50元，将随物业账单一并结算。如有问题，请回复“人工”联系管家。",
        f"您{YEAR}年{MM}月记入物业账单的服务共1单，合计45元，将随物业账单一并结算。如有问题，请回复“人工”联系管家。",
    ])
    assert merchant == [f"{MONTH} 结算：完成 4 单，营业额 283.50 元，平台佣金 56.70 元，应付您 226.80 元。"]
