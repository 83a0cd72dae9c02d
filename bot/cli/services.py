"""`butler service list|set`: the catalog's commission rates and price notes, kept by admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from storage import catalog, communities, service_lines

service_app = typer.Typer(help="The 33 services: commission rates, price notes and which communities offer them.", no_args_is_help=True)


def _rate(value: str) -> Decimal:
    """'25%' or '0.25' → Decimal('0.25')."""
    text = value.strip()
    try:
        rate = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation as exc:
        raise CliError(f"not a rate: {value!r} (write 0.25 or 25%)") from exc
    return rate


@service_app.command("list")
def service_list() -> None:
    """Every butler line and service with its commission rate and price note."""

    async def work(session: AsyncSession) -> list[str]:
        out = []
        for line in await catalog.list_lines(session=session):
            out.append(line.name)
            out += [f"  {s.name}\t{s.commission_rate * 100:.1f}%\t{s.price_note}" for s in line.services]
        return out

    typer.echo("\n".join(run_with_session(work)))


@service_app.command("set")
def service_set(
    name: Annotated[str, typer.Argument(help="Canonical service name, e.g. 钟点工")],
    commission_rate: Annotated[str | None, typer.Option("--commission-rate", help="0.25 or 25% (10–50%)")] = None,
    price_note: Annotated[str | None, typer.Option("--price-note", help="Price as owners read it")] = None,
) -> None:
    """Change a service's commission rate and/or price note (orders completed later use them)."""
    if commission_rate is None and price_note is None:
        raise CliError("nothing to change: give --commission-rate and/or --price-note")
    rate = _rate(commission_rate) if commission_rate is not None else None

    async def work(session: AsyncSession) -> str:
        try:
            service = await catalog.set_terms(session=session, name=name, commission_rate=rate, price_note=price_note)
        except LookupError as exc:
            raise CliError(f"no service named {name!r} (see `butler service list`)") from exc
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        return f"{service.name}: commission {service.commission_rate * 100:.1f}%, price {service.price_note or '—'}"

    typer.echo(run_with_session(work))


# --- issue 16: service lines per community (立项) ---------------------------------------------------

def _offer_change(name: str, community: str, enabled: bool, starts: str | None) -> str:
    """Enable or disable a line or service in a community; returns the confirmation line."""
    starts_on = None
    if starts is not None:
        try:
            starts_on = date.fromisoformat(starts)
        except ValueError as exc:
            raise CliError(f"--from must be YYYY-MM-DD, got {starts!r}") from exc

    async def work(session: AsyncSession) -> str:
        place = await communities.get_by_name(session=session, name=community)
        if place is None:
            raise CliError(f"no community named {community!r} (add it with `butler community add`)")
        what = await service_lines.target(session=session, name=name)
        if what is None:
            raise CliError(f"no butler line or service named {name!r} (see `butler service list`)")
        await service_lines.set_offer(
            session=session, community_id=place.id, what=what, enabled=enabled, starts_on=starts_on,
        )
        kind = "line" if what.line is not None else "service"
        if not enabled:
            return f"{place.name}: {kind} {what.name} disabled"
        return f"{place.name}: {kind} {what.name} enabled" + (f" from {starts_on:%Y-%m-%d}" if starts_on else "")

    return run_with_session(work)


@service_app.command("enable")
def service_enable(
    name: Annotated[str, typer.Argument(help="A butler line (家政管家) or one service (陪聊)")],
    community: Annotated[str, typer.Option("--community", help="Community (小区) name")],
    starts: Annotated[str | None, typer.Option("--from", help="First day it is offered, YYYY-MM-DD")] = None,
) -> None:
    """Offer a line or service in a community (立项). Once one is enabled, the community offers only what is enabled."""
    typer.echo(_offer_change(name, community, True, starts))


@service_app.command("disable")
def service_disable(
    name: Annotated[str, typer.Argument(help="A butler line (家政管家) or one service (陪聊)")],
    community: Annotated[str, typer.Option("--community", help="Community (小区) name")],
) -> None:
    """Stop offering a line or service in a community; owners who ask are told politely and counted."""
    typer.echo(_offer_change(name, community, False, None))
