"""`butler community|staff|merchant add`: registering the people and places the hub serves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from storage import catalog, communities, merchants, staff

community_app = typer.Typer(help="Communities (小区).", no_args_is_help=True)
staff_app = typer.Typer(help="Staff members.", no_args_is_help=True)
merchant_app = typer.Typer(help="Merchants (供给商).", no_args_is_help=True)


T = TypeVar("T")

def yuan_to_fen(value: str) -> int:
    """Parse a yuan amount exactly (Decimal, never float) into integer fen."""
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise CliError(f"not an amount in yuan: {value!r}") from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise CliError(f"amount must be non-negative with at most 2 decimals: {value!r}")
    return int(amount * 100)


async def _community(session: AsyncSession, name: str | None) -> list[communities.Community]:
    if not name:
        return []
    found = await communities.get_by_name(session=session, name=name)
    if found is None:
        raise CliError(f"no community named {name!r} (add it with `butler community add`)")
    return [found]


def _commit_or_explain(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return run_with_session(work)
    except IntegrityError as exc:
        raise CliError("already registered (a name or id is taken)") from exc


@community_app.command("add")
def community_add(
    name: str = typer.Argument(..., help="Community name, e.g. 翠苑"),
    property_fee_monthly: str = typer.Option("0", "--property-fee-monthly", help="Property fees receivable per month, yuan"),
    households: int = typer.Option(0, "--households", min=0, help="Number of households"),
    hotline: str = typer.Option("", "--hotline", help="24-hour duty phone given first in emergencies"),
) -> None:
    """Add a community (小区)."""
    name = name.strip()
    if not name:
        raise CliError("community name is empty")
    fee = yuan_to_fen(property_fee_monthly)
    phone = _hotline(hotline) if hotline else ""

    async def work(session: AsyncSession) -> int:
        row = await communities.create(
            session=session, name=name, property_fee_monthly_fen=fee, households=households, hotline=phone
        )
        return row.id

    typer.echo(f"community {name} added (id {_commit_or_explain(work)})")


def _hotline(value: str) -> str:
    try:
        return communities.valid_hotline(value)
    except ValueError as exc:
        raise CliError(f"--hotline: {exc}") from exc


@community_app.command("set")
def community_set(
    name: str = typer.Argument(..., help="Community name, e.g. 翠苑"),
    property_fee_monthly: str | None = typer.Option(None, "--property-fee-monthly", help="Property fees receivable per month, yuan"),
    households: int | None = typer.Option(None, "--households", min=0, help="Number of households"),
    hotline: str | None = typer.Option(None, "--hotline", help='24-hour duty phone; "" clears it (BUTLER_HOTLINE applies)'),
) -> None:
    """Change a community: fee, households or 24-hour hotline."""
    if property_fee_monthly is None and households is None and hotline is None:
        raise CliError("nothing to change: give --property-fee-monthly, --households and/or --hotline")
    fee = yuan_to_fen(property_fee_monthly) if property_fee_monthly is not None else None
    phone = (_hotline(hotline) if hotline.strip() else "") if hotline is not None else None

    async def work(session: AsyncSession) -> int:
        row = await communities.get_by_name(session=session, name=name.strip())
        if row is None:
            raise CliError(f"no community named {name!r} (add it with `butler community add`)")
        if fee is not None:
            row.property_fee_monthly_fen = fee
        if households is not None:
            row.households = households
        if phone is not None:
            row.hotline = phone
        return row.id

    typer.echo(f"community {name.strip()} updated (id {_commit_or_explain(work)})")


@staff_app.command("add")
def staff_add(
    name: str = typer.Option(..., "--name", help="Staff member's name"),
    openid: str | None = typer.Option(None, "--openid", help="WeChat openid"),
    telegram_id: int | None = typer.Option(None, "--telegram-id", help="Telegram user id"),
    community: str | None = typer.Option(None, "--community", help="Community this staff member serves"),
    role: Annotated[staff.StaffRole, typer.Option("--role", help="admin or staff")] = staff.StaffRole.STAFF,
    wecom_userid: str | None = typer.Option(None, "--wecom-userid", help="WeCom (企业微信) member userid"),
) -> None:
    """Register a staff member."""
    if not openid and telegram_id is None and not wecom_userid:
        raise CliError("give --openid, --telegram-id and/or --wecom-userid so the hub can recognise them")

    async def work(session: AsyncSession) -> int:
        row = await staff.create(
            session=session,
            name=name,
            role=role,
            openid=openid,
            telegram_id=telegram_id,
            communities=await _community(session, community),
            wecom_userid=wecom_userid,
        )
        return row.id

    typer.echo(f"staff {name} added (id {_commit_or_explain(work)}, role {role.value})")


def _set_active(staff_id: int, active: bool) -> str:
    async def work(session: AsyncSession) -> str:
        member = await session.get(staff.Staff, staff_id)
        if member is None:
            raise CliError(f"no staff member with id {staff_id}")
        member.active = active
        return member.name

    return run_with_session(work)


@staff_app.command("disable")
def staff_disable(staff_id: Annotated[int, typer.Argument(help="Staff id")]) -> None:
    """Stop a staff member acting anywhere (commands, hand-off replies, buttons); history stays."""
    typer.echo(f"staff {_set_active(staff_id, False)} (id {staff_id}) disabled")


@staff_app.command("enable")
def staff_enable(staff_id: Annotated[int, typer.Argument(help="Staff id")]) -> None:
    """Let a disabled staff member act again."""
    typer.echo(f"staff {_set_active(staff_id, True)} (id {staff_id}) enabled")


@merchant_app.command("add")
def merchant_add(
    name: str = typer.Option(..., "--name", help="Merchant name"),
    telegram_id: int | None = typer.Option(None, "--telegram-id", help="Telegram user id"),
    services: str = typer.Option(..., "--services", help='Comma-separated service names, e.g. "钟点工,家居家电维修"'),
    community: str | None = typer.Option(None, "--community", help="Community served (default: all)"),
    qualification_expires: str | None = typer.Option(None, "--qualification-expires", help="YYYY-MM-DD"),
    wecom_userid: str | None = typer.Option(None, "--wecom-userid", help="WeCom (企业微信) member userid"),
) -> None:
    """Register a merchant with the services it offers (reachable on Telegram and/or WeCom)."""
    if telegram_id is None and not wecom_userid:
        raise CliError("give --telegram-id and/or --wecom-userid so the merchant can receive jobs")
    wanted = [s.strip() for s in services.replace("，", ",").split(",") if s.strip()]
    if not wanted:
        raise CliError("--services is empty")
    expires = None
    if qualification_expires:
        try:
            expires = date.fromisoformat(qualification_expires)
        except ValueError as exc:
            raise CliError(f"--qualification-expires must be YYYY-MM-DD, got {qualification_expires!r}") from exc

    async def work(session: AsyncSession) -> int:
        found = await catalog.get_services_by_names(session=session, names=wanted)
        unknown = sorted(set(wanted) - {s.name for s in found})
        if unknown:
            raise CliError(f"unknown service(s): {', '.join(unknown)}")
        row = await merchants.create(
            session=session,
            name=name,
            telegram_id=telegram_id,
            services=found,
            communities=await _community(session, community),
            qualification_expires=expires,
            wecom_userid=wecom_userid,
        )
        return row.id

    typer.echo(f"merchant {name} added (id {_commit_or_explain(work)})")
