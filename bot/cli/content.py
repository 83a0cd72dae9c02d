"""`butler content faq-load|activity-add`: what staff maintain for owners to ask about."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, run_with_session
from bot.settings import Settings
from storage import activities, communities, faq

content_app = typer.Typer(help="FAQ and community activities staff maintain.", no_args_is_help=True)


async def _community_id(session: AsyncSession, name: str | None) -> int | None:
    if not name:
        return None
    found = await communities.get_by_name(session=session, name=name)
    if found is None:
        raise CliError(f"no community named {name!r} (add it with `butler community add`)")
    return found.id


def parse_faq(raw: object) -> tuple[str | None, list[tuple[str, list[str], str]]]:
    """(community or None, entries) from a FAQ YAML document; raises CliError naming the problem."""
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list) or not raw["entries"]:
        raise CliError("FAQ file needs `entries:` (a list of {question, keywords, answer}); `community:` is optional")
    entries = []
    for i, e in enumerate(raw["entries"]):
        if not isinstance(e, dict):
            raise CliError(f"entries[{i}]: must be a mapping")
        question, answer = str(e.get("question") or "").strip(), str(e.get("answer") or "").strip()
        keywords = [str(k).strip() for k in (e.get("keywords") or []) if str(k).strip()]
        if not question or not answer or not keywords:
            raise CliError(f"entries[{i}]: question, keywords (non-empty list) and answer are required")
        entries.append((question, keywords, answer))
    community = raw.get("community")
    return (str(community).strip() if community else None), entries


@content_app.command("faq-load")
def faq_load(path: Annotated[Path, typer.Argument(help="FAQ YAML: community (optional) + entries")]) -> None:
    """Replace a community's FAQ (or the general one) with the file's entries."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"cannot load {path}: {str(exc).splitlines()[0]}") from exc
    community, entries = parse_faq(raw)

    async def work(session: AsyncSession) -> int:
        return await faq.replace(session=session, community_id=await _community_id(session, community), entries=entries)

    count = run_with_session(work)
    typer.echo(f"{count} FAQ entries loaded for {community or 'all communities'}")


@content_app.command("activity-add")
def activity_add(
    title: Annotated[str, typer.Option("--title", help="e.g. 端午包粽子活动")],
    starts: Annotated[str, typer.Option("--starts", help="Start, YYYY-MM-DD HH:MM in BUTLER_TZ")],
    community: Annotated[str | None, typer.Option("--community", help="Community (default: all)")] = None,
    place: Annotated[str, typer.Option("--place", help="Where")] = "",
    description: Annotated[str, typer.Option("--description", help="Details")] = "",
) -> None:
    """Announce a community activity owners can ask about."""
    try:
        naive = datetime.fromisoformat(starts.strip().replace("/", "-"))
    except ValueError as exc:
        raise CliError(f"--starts must be YYYY-MM-DD HH:MM, got {starts!r}") from exc
    starts_at = naive if naive.tzinfo else naive.replace(tzinfo=ZoneInfo(Settings().tz))
    if not title.strip():
        raise CliError("--title is empty")

    async def work(session: AsyncSession) -> int:
        row = await activities.add(
            session=session, title=title.strip(), starts_at=starts_at, place=place, description=description,
            community_id=await _community_id(session, community),
        )
        return row.id

    typer.echo(f"activity {title.strip()} added (id {run_with_session(work)})")


@content_app.command("wechat-menu")
def wechat_menu() -> None:
    """Install the service account's custom menu (its buttons map to dialogs; see dialogs.hub.WECHAT_MENU)."""
    import asyncio

    from bot.runtime import build_runtime
    from dialogs.hub import WECHAT_MENU

    async def push() -> None:
        runtime = build_runtime(Settings())
        try:
            await runtime.wechat.create_menu(WECHAT_MENU)
        finally:
            await runtime.aclose()

    try:
        asyncio.run(push())
    except Exception as exc:  # a WeChat error or an unreachable API: one line, non-zero exit
        raise CliError(f"menu not installed: {exc}") from exc
    typer.echo("WeChat menu installed")
