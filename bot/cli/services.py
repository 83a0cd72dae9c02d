"""`butler service list|set`: the catalog's commission rates and price notes, kept by admins."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from storage import catalog

service_app = typer.Typer(help="The 33 services: commission rates and price notes.", no_args_is_help=True)


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
