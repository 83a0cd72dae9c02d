"""`butler merchant renew` (qualification renewal) and `butler report` (the daily KPI report)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.admin import merchant_app
from bot.cli.common import CliError, run_with_session
from bot.report_chart import render_chart
from bot.settings import Settings
from bot.sla import sla_policy
from bot.wording import report
from bot.wording.merchant import supplier_notice
from storage import outbox, reports, supplier
from storage.events import StaffAlert
from storage.merchants import Merchant


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"{option} must be YYYY-MM-DD, got {value!r}") from exc


@merchant_app.command("renew")
def merchant_renew(
    merchant: str = typer.Argument(..., help="Merchant id or exact name"),
    until: str = typer.Option(..., "--until", help="New qualification expiry date, YYYY-MM-DD"),
) -> None:
    """Record renewed qualification documents; a merchant blacklisted for expiry is reinstated."""
    new_date = _date(until, "--until")
    today = datetime.now(ZoneInfo(Settings().tz)).date()
    if new_date < today:
        raise CliError(f"--until {new_date} is in the past")

    async def work(session: AsyncSession) -> tuple[str, bool]:
        ref = merchant.strip().lstrip("#")
        found = await session.get(Merchant, int(ref)) if ref.isdigit() else await session.scalar(
            select(Merchant).where(Merchant.name == ref)
        )
        if found is None:
            raise CliError(f"no merchant {merchant!r}")
        reinstated = await supplier.renew(session=session, merchant=found, until=new_date, today=today,
                                          say=supplier_notice)
        return found.name, reinstated

    name, reinstated = run_with_session(work)
    tail = " and reinstated (they have been told)" if reinstated else ""
    typer.echo(f"merchant {name}: qualification valid until {new_date}{tail}")


def report_command(
    day: str | None = typer.Option(None, "--date", help="Report day YYYY-MM-DD (default yesterday)"),
    out_file: str = typer.Option("report.png", "--out", help="Where to write the chart PNG"),
    post: bool = typer.Option(False, "--post", help="Also post it to the staff chat (via the outbox)"),
) -> None:
    """Print the daily KPI report per community and service line, and write its chart."""
    settings = Settings()
    tz = ZoneInfo(settings.tz)
    out = Path(out_file)
    report_day = _date(day, "--date") if day else datetime.now(tz).date() - timedelta(days=1)

    async def work(session: AsyncSession) -> str:
        built = await reports.build(session=session, day=report_day, tz=tz, sla=sla_policy(settings))
        await asyncio.to_thread(render_chart, built, out)
        text = report.render_text(built)
        if post:
            outbox.emit(session, StaffAlert(text=text, photo_path=str(out.resolve())))
        return text

    typer.echo(run_with_session(work))
    typer.echo(f"chart: {out}")
