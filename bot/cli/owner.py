"""`butler owner import FILE.csv`: load the property office's roster that binding checks against."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from bot.wording.staff import number_problem
from dialogs import binding, choices, verification
from dialogs.form import Invalid
from storage import communities, owner_export, roster

owner_app = typer.Typer(help="Owners (业主).", no_args_is_help=True)

# English or Chinese headers are both accepted.
COLUMNS = {
    "community": ("community", "小区"),
    "building": ("building", "楼号", "楼栋", "楼"),
    "unit": ("unit", "单元"),
    "room": ("room", "房号", "室"),
    "name": ("name", "姓名"),
    "phone": ("phone", "电话", "手机", "手机号"),
}


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff").lower()
        for column, aliases in COLUMNS.items():
            if name in aliases:
                found[column] = i
    missing = [c for c in ("community", "building", "room", "phone") if c not in found]
    if missing:
        raise CliError(f"missing column(s): {', '.join(missing)} (header: community,building,unit,room,name,phone)")
    return found


def _normalise(value: str, validator: Callable[[str], object]) -> str | None:
    """Building/unit/room written the way binding stores them ("3号楼" → "3")."""
    result = validator(value)
    if isinstance(result, Invalid):
        return None
    return result["building"] if isinstance(result, dict) else str(result)


@owner_app.command("import")
def owner_import(path: Annotated[Path, typer.Argument(help="CSV with community,building,unit,room,name,phone")]) -> None:
    """Import an owner roster; re-importing the same file changes nothing."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc
    if len(rows) < 2:
        raise CliError(f"{path} has no data rows")
    cols = _header_map(rows[0])

    async def work(session: AsyncSession) -> tuple[int, int, list[int], list[int]]:
        known = {c.name: c.id for c in await communities.list_all(session=session)}
        added = unchanged = 0
        invalid_phones: list[int] = []
        for line_no, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue

            def cell(column: str, row: list[str] = row) -> str:
                i = cols.get(column)
                return row[i].strip() if i is not None and i < len(row) else ""

            community_id = known.get(cell("community"))
            if community_id is None:
                raise CliError(f"line {line_no}: no community named {cell('community')!r} (add it with `butler community add`)")
            building = _normalise(cell("building"), binding.validate_building)
            room = _normalise(cell("room"), binding.validate_room)
            unit = _normalise(cell("unit"), binding.validate_unit) if cell("unit") else ""
            if building is None or room is None or unit is None:
                raise CliError(f"line {line_no}: building/unit/room must be numbers, got {row!r}")
            phone = choices.extract_phone(cell("phone")) or cell("phone")
            if not choices.is_mobile(phone):
                invalid_phones.append(line_no)  # kept: staff clean these up (无效号码清查)
            new = await roster.upsert(session=session, row=roster.RosterRow(
                community_id=community_id, building=building, unit=unit, room=room, name=cell("name"), phone=phone,
            ))
            added, unchanged = added + new, unchanged + (not new)
        await session.flush()
        # Claims that waited for staff and now match the roster are confirmed (owners told).
        confirmed = await verification.rematch_roster(session=session)
        return added, unchanged, invalid_phones, confirmed

    added, unchanged, invalid, confirmed = run_with_session(work)
    typer.echo(f"roster: {added} added, {unchanged} already on file")
    if confirmed:
        typer.echo(f"household claims confirmed by the roster: {', '.join(f'#{c}' for c in confirmed)}")
    if invalid:
        typer.echo(f"invalid phone numbers on line(s) {', '.join(map(str, invalid))} (imported; please check)")


# --- issue 16: the owner database out, for the 无效号码清查 ------------------------------------------

@owner_app.command("export")
def owner_export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")],
    invalid: Annotated[bool, typer.Option("--invalid", help="Only invalid or unreachable numbers")] = False,
    community: Annotated[str | None, typer.Option("--community", help="One community (小区)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default owners[-invalid].csv|xlsx)")] = None,
) -> None:
    """Households and owners: one row per person on record (roster, WeChat followers), with number problems."""
    if fmt not in ("csv", "xlsx"):
        raise CliError(f"--format must be csv or xlsx, got {fmt!r}")
    target = output or Path(f"owners{'-invalid' if invalid else ''}.{fmt}")

    async def work(session: AsyncSession) -> list[owner_export.PersonRow]:
        ids = None
        if community is not None:
            place = await communities.get_by_name(session=session, name=community)
            if place is None:
                raise CliError(f"no community named {community!r}")
            ids = [place.id]
        return await owner_export.people(session=session, community_ids=ids, invalid_only=invalid)

    rows = run_with_session(work)
    table = [[owner_export.cell(v) for v in (p.community, p.building, p.unit, p.room, p.name, p.phone, p.source,
                                             p.wechat, number_problem(p))] for p in rows]
    # Personal data: the file is readable by its owner only.
    target.touch(mode=0o600, exist_ok=True)
    target.chmod(0o600)
    if fmt == "csv":
        with target.open("w", newline="", encoding="utf-8-sig") as fh:  # BOM: Excel opens Chinese correctly
            writer = csv.writer(fh)
            writer.writerow(owner_export.HEADER)
            writer.writerows(table)
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new Workbook always has its first sheet
        sheet.title = "invalid numbers" if invalid else "owners"
        sheet.append(owner_export.HEADER)
        for row in table:
            sheet.append(row)
        book.save(target)
    typer.echo(f"{len(rows)} {'people with invalid or unreachable numbers' if invalid else 'people'} written to {target}")
