"""`butler statements --month YYYY-MM`: household 挂账 statements and the merchant payout list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from bot.cli.exports import safe_cell, save_workbook, write_csv
from bot.settings import Settings
from storage import money, outbox
from storage.events import MerchantNote, OwnerNotice
from storage.files import private_dir
from storage.money import HouseholdStatement, MerchantPayout, format_yuan

# What an owner reads (WORDING.md: no 挂账, 150元 or 150.50元, no spaces around digits).
_OWNER_STATEMENT = "您{year}年{month}月记入物业账单的服务共{count}单，合计{amount}元，将随物业账单一并结算。如有问题，请回复“人工”联系管家。"


def _owner_statement(month: str, count: int, total_fen: int) -> str:
    year, mm = month.split("-")
    amount = f"{total_fen // 100}" if total_fen % 100 == 0 else f"{total_fen / 100:.2f}"
    return _OWNER_STATEMENT.format(year=year, month=int(mm), count=count, amount=amount)

HOUSEHOLD_HEADER = ["小区", "地址", "业主", "电话", "订单号", "完成日期", "服务", "商家", "金额(元)"]
TOTALS_HEADER = ["小区", "地址", "业主", "电话", "挂账单数", "合计(元)"]
PAYOUT_HEADER = [
    "商家编号", "商家", "Telegram ID", "订单数", "营业额(元)", "平台佣金(元)", "应付商家(元)",
    *[f"{m.value}(元)" for m in money.PAYMENT_METHODS],
    "投诉赔偿扣款(元)",  # issue 16: already taken off 应付商家
]


@dataclass
class Report:
    """What one month's run produced."""

    households: list[HouseholdStatement]
    payouts: list[MerchantPayout]


def _household_rows(statements: list[HouseholdStatement]) -> list[list[str]]:
    rows = []
    for s in statements:
        for line in s.lines:
            rows.append([
                s.community, s.address, s.owner_name, s.phone, line.order_code,
                line.completed_on.isoformat(), line.service, line.merchant, format_yuan(line.amount_fen),
            ])
    return rows


def _total_rows(statements: list[HouseholdStatement]) -> list[list[str]]:
    return [
        [s.community, s.address, s.owner_name, s.phone, str(len(s.lines)), format_yuan(s.total_fen)]
        for s in statements
    ]


def _payout_rows(payouts: list[MerchantPayout]) -> list[list[str]]:
    return [
        [
            str(p.merchant_id), p.merchant_name, str(p.telegram_id), str(p.orders), format_yuan(p.amount_fen),
            format_yuan(p.commission_fen), format_yuan(p.payout_fen),
            *[format_yuan(p.by_method_fen.get(m.value, 0)) for m in money.PAYMENT_METHODS],
            format_yuan(p.compensation_fen),
        ]
        for p in payouts
    ]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    # utf-8-sig: Excel (the property office's tool) opens Chinese CSV correctly only with a BOM.
    write_csv(path, header, rows)


def _sheet(ws: Worksheet, header: list[str], rows: list[list[str]], money_from: int) -> None:
    ws.append(header)
    for row in rows:
        # Amounts go in as exact Decimals shown with two places, so sums in Excel stay right.
        ws.append([Decimal(v) if i >= money_from else safe_cell(v) for i, v in enumerate(row)])
    for i in range(money_from, len(header)):
        for cell in ws.iter_cols(min_col=i + 1, max_col=i + 1, min_row=2):
            for c in cell:
                c.number_format = "0.00"
    ws.freeze_panes = "A2"


def write_report(report: Report, *, month: str, out_dir: Path, formats: set[str]) -> list[Path]:
    """Write the CSV and/or XLSX files; returns their paths."""
    private_dir(out_dir)
    written: list[Path] = []
    households, totals, payouts = (
        _household_rows(report.households), _total_rows(report.households), _payout_rows(report.payouts)
    )
    if "csv" in formats:
        for name, header, rows in (
            (f"household-statements-{month}.csv", HOUSEHOLD_HEADER, households),
            (f"household-totals-{month}.csv", TOTALS_HEADER, totals),
            (f"merchant-payouts-{month}.csv", PAYOUT_HEADER, payouts),
        ):
            _write_csv(out_dir / name, header, rows)
            written.append(out_dir / name)
    if "xlsx" in formats:
        wb = Workbook()
        first = wb.active
        assert first is not None
        first.title = "业主挂账明细"
        _sheet(first, HOUSEHOLD_HEADER, households, money_from=8)
        _sheet(wb.create_sheet("业主月结单"), TOTALS_HEADER, totals, money_from=5)
        _sheet(wb.create_sheet("商家结算"), PAYOUT_HEADER, payouts, money_from=4)
        path = out_dir / f"statements-{month}.xlsx"
        save_workbook(wb, path)
        written.append(path)
    return written


async def build_report(session: AsyncSession, *, month: str, tz: ZoneInfo, notify: bool) -> Report:
    """Compute the month; with notify, queue each household's and merchant's summary in the outbox."""
    report = Report(
        households=await money.household_statements(session=session, month=month, tz=tz),
        payouts=await money.merchant_payouts(session=session, month=month, tz=tz),
    )
    if notify:
        for s in report.households:
            openid = await _openid(session, s.owner_id)
            if openid:
                outbox.emit(
                    session, OwnerNotice(openid=openid, notice=True, title="本月服务账单",
                    text=_owner_statement(month, len(s.lines), s.total_fen)
                ))
        for p in report.payouts:
            outbox.emit(
                session, MerchantNote(merchant_id=p.merchant_id,
                text=(f"{month} 结算：完成 {p.orders} 单，营业额 {format_yuan(p.amount_fen)} 元，平台佣金 "
                      f"{format_yuan(p.commission_fen)} 元，"
                      + (f"投诉赔偿扣款 {format_yuan(p.compensation_fen)} 元（{'、'.join(p.complaint_codes)}），"
                         if p.compensation_fen else "")
                      + f"应付您 {format_yuan(p.payout_fen)} 元。")
            ))
    return report


async def _openid(session: AsyncSession, owner_id: int) -> str:
    from storage import owners

    owner = await owners.get(session=session, owner_id=owner_id)
    return owner.openid if owner else ""


CURRENT_DIR = Path(".")


def statements_command(
    month: str = typer.Option(..., "--month", help="Calendar month YYYY-MM (in BUTLER_TZ)"),
    out: Annotated[Path, typer.Option("--out", help="Directory for the files")] = CURRENT_DIR,
    fmt: str = typer.Option("both", "--format", help="csv, xlsx or both"),
    notify: bool = typer.Option(False, "--notify", help="Also tell each household and merchant their totals"),
) -> None:
    """Write household 挂账 statements and the merchant payout list (CSV/XLSX)."""
    formats = {"csv", "xlsx"} if fmt == "both" else {fmt}
    if not formats <= {"csv", "xlsx"}:
        raise CliError(f"--format must be csv, xlsx or both, got {fmt!r}")
    settings = Settings()
    tz = ZoneInfo(settings.tz)
    try:
        money.month_bounds(month, tz)
    except ValueError as exc:
        raise CliError(str(exc)) from exc

    async def work(session: AsyncSession) -> Report:
        return await build_report(session, month=month, tz=tz, notify=notify)

    report = run_with_session(work)
    for path in write_report(report, month=month, out_dir=out, formats=formats):
        typer.echo(str(path))
    total = sum(s.total_fen for s in report.households)
    payout = sum(p.payout_fen for p in report.payouts)
    typer.echo(
        f"{month}: {len(report.households)} household statement(s), 挂账 {format_yuan(total)} 元; "
        f"{len(report.payouts)} merchant(s), payout {format_yuan(payout)} 元"
    )
