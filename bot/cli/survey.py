"""`butler survey load|export|summary|list`: define surveys in YAML and get the answers out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from bot.cli.exports import safe_row, save_workbook, write_csv
from dialogs import survey as survey_dialog
from dialogs.survey_spec import SpecError, parse_spec, spec_to_json
from storage import communities, households, owners, surveys

survey_app = typer.Typer(help="Surveys (调研表) answered by chat or recorded by staff.", no_args_is_help=True)

FIXED_COLUMNS = ["response_id", "owner_id", "openid", "community", "building", "unit", "room",
                 "channel", "status", "started_at", "updated_at", "completed_at"]


@survey_app.command("load")
def survey_load(path: Annotated[Path, typer.Argument(help="Survey definition (YAML)")]) -> None:
    """Validate a survey YAML and store it (a reload with the same key updates it)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CliError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        spec = parse_spec(raw)
    except SpecError as exc:
        raise CliError(f"{path}: {'; '.join(exc.problems)}") from exc

    async def work(session: AsyncSession) -> int:
        row = await surveys.upsert_survey(
            session=session, key=spec.key, title=spec.title, definition=spec_to_json(spec), allow_repeat=spec.allow_repeat
        )
        return row.id

    survey_id = run_with_session(work)
    typer.echo(f"survey {spec.title} loaded (id {survey_id}, {len(spec.questions)} questions, {len(spec.tags)} tag rules)")


async def export_rows(session: AsyncSession, survey_id: int) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per response (multiple answers joined with 、)."""
    survey = await surveys.get(session=session, survey_id=survey_id)
    if survey is None:
        raise CliError(f"no survey with id {survey_id}")
    spec = survey_dialog.spec_of(survey)
    names = {c.id: c.name for c in await communities.list_all(session=session)}
    header = FIXED_COLUMNS + [q.key for q in spec.questions]
    out: list[list[Any]] = []
    for r in await surveys.responses(session=session, survey_id=survey_id):
        owner = await owners.get(session=session, owner_id=r.owner_id) if r.owner_id else None
        # Filed for a household (door visit, no follower): the address comes from the household.
        place = owner or (await households.get(session=session, household_id=r.household_id)
                          if r.household_id else None)
        values = r.values()
        out.append([
            r.id, r.owner_id or "", owner.openid if owner else "",
            names.get(place.community_id, "") if place and place.community_id else "",
            place.building if place else "", place.unit if place else "", place.room if place else "",
            r.channel, r.status, survey_dialog.iso(r.created_at), survey_dialog.iso(r.updated_at),
            survey_dialog.iso(r.completed_at),
        ] + ["、".join(values.get(q.key, [])) for q in spec.questions])
    return header, out


@survey_app.command("export")
def survey_export(
    survey_id: Annotated[int, typer.Argument(help="Survey id (see `butler survey list`)")],
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default survey-ID.csv|xlsx)")] = None,
) -> None:
    """One row per response with its channel and timestamps."""
    if fmt not in ("csv", "xlsx"):
        raise CliError(f"--format must be csv or xlsx, got {fmt!r}")
    target = output or Path(f"survey-{survey_id}.{fmt}")

    async def work(session: AsyncSession) -> tuple[list[str], list[list[Any]]]:
        return await export_rows(session, survey_id)

    header, rows = run_with_session(work)
    if fmt == "csv":
        write_csv(target, header, rows)
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new Workbook always has its first sheet
        sheet.title = f"survey {survey_id}"
        sheet.append(safe_row(header))
        for row in rows:
            sheet.append(safe_row(row))
        save_workbook(book, target)
    typer.echo(f"{len(rows)} responses written to {target}")


@survey_app.command("summary")
def survey_summary(survey_id: Annotated[int, typer.Argument(help="Survey id")]) -> None:
    """Counts per option and averages, as JSON."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        try:
            return await survey_dialog.summary(session=session, survey_id=survey_id)
        except LookupError as exc:
            raise CliError(str(exc)) from exc

    typer.echo(json.dumps(run_with_session(work), ensure_ascii=False, indent=2))


@survey_app.command("list")
def survey_list() -> None:
    """Every survey with its id."""

    async def work(session: AsyncSession) -> list[str]:
        rows = await session.scalars(select(surveys.Survey).order_by(surveys.Survey.id))
        return [f"{s.id}\t{s.key}\t{s.title}\t{'open' if s.is_open else 'closed'}" for s in rows]

    for line in run_with_session(work):
        typer.echo(line)


def _set_open(survey_id: int, is_open: bool) -> str:
    async def work(session: AsyncSession) -> str:
        survey = await surveys.get(session=session, survey_id=survey_id)
        if survey is None:
            raise CliError(f"no survey with id {survey_id}")
        survey.is_open = is_open
        return survey.title

    return run_with_session(work)


@survey_app.command("close")
def survey_close(survey_id: Annotated[int, typer.Argument(help="Survey id")]) -> None:
    """Stop offering a survey to owners (answers stay; staff can reopen it)."""
    typer.echo(f"survey {_set_open(survey_id, False)} closed")


@survey_app.command("open")
def survey_open(survey_id: Annotated[int, typer.Argument(help="Survey id")]) -> None:
    """Offer a closed survey again."""
    typer.echo(f"survey {_set_open(survey_id, True)} reopened")
